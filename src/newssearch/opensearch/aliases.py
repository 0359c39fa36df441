"""A cluster index's names: NAME the alias searches read, ``NAME-previous`` the index
kept for rollback, ``NAME-building`` a rebuild still loading, and ``NAME-<timestamp>``
the indexes themselves; swapping them, reading their ``_meta``, pruning the old ones.

Every alias change is one ``POST _aliases``, which the cluster applies atomically:
readers see the old index or the new one, never neither.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

from newssearch import schema, store
from newssearch.opensearch import connection
from newssearch.opensearch.connection import Location
from newssearch.schema import SCHEMA_VERSION

PREVIOUS, BUILDING = "-previous", "-building"
PAGE = 5000  # articles per page when reading a whole index (max_result_window is 10,000)


def index_name(location: Location) -> str:
    """A new index for a rebuild of the location: NAME-<UTC timestamp to the microsecond>."""
    return f"{location.alias}-{datetime.now(UTC).strftime('%Y%m%d%H%M%S%f')}"


def is_ours(location: Location, index: str) -> bool:
    """Whether an index was created by a rebuild of this location."""
    return re.fullmatch(re.escape(location.alias) + r"-\d{20}", index) is not None


@contextlib.contextmanager
def talking(location: Location) -> Iterator[None]:
    """Turn the cluster's refusals (down, credentials, no index) into IndexUnavailable."""
    from opensearchpy.exceptions import ImproperlyConfigured, TransportError

    try:
        yield
    except (TransportError, ImproperlyConfigured) as e:
        raise connection.failure(location, e) from e


def aliased(client, alias: str) -> list[str]:
    """The indexes an alias points at (none if it does not exist)."""
    from opensearchpy.exceptions import NotFoundError

    try:
        return sorted(client.indices.get_alias(name=alias))
    except NotFoundError:
        return []


def live(client, location: Location) -> str | None:
    """The index searches read now, or None if nothing was built yet."""
    found = aliased(client, location.alias)
    return found[0] if found else None


def previous(client, location: Location) -> str | None:
    """The index that served before the live one, kept for rollback."""
    found = aliased(client, location.alias + PREVIOUS)
    return found[0] if found else None


def require_live(client, location: Location) -> str:
    """The live index; IndexUnavailable if none was built or it has another schema."""
    index = live(client, location)
    if index is None:
        raise store.IndexUnavailable(
            f"{location}: the cluster holds no index {location.alias}; build it with: "
            f"newssearch index SOURCE --index '{location}'")
    found = meta(client, index)
    if found.schema_version != SCHEMA_VERSION:
        raise store.IndexUnavailable(
            f"{location}: {index} was built with schema version {found.schema_version}, "
            f"this newssearch reads {SCHEMA_VERSION}; rebuild it with: newssearch index")
    return index


def meta(client, index: str) -> store.IndexMeta:
    """What newssearch recorded in an index's ``_meta`` (zeros where it recorded nothing)."""
    mappings = client.indices.get_mapping(index=index)
    data = next(iter(mappings.values()), {}).get("mappings", {}).get("_meta", {})
    return store.IndexMeta(int(data.get("schema_version", 0)), str(data.get("built_at", "?")),
                           int(data.get("documents", 0)), tuple(data.get("sources", ())),
                           str(data.get("version", "")))


def record(client, index: str, found: store.IndexMeta) -> None:
    # _meta is replaced as a whole, so every key is written each time.
    client.indices.put_mapping(index=index, body={"_meta": {
        "schema_version": found.schema_version, "built_at": found.built_at,
        "documents": found.documents, "sources": list(found.sources),
        "version": found.version}})


def count(client, index: str) -> int:
    return int(client.count(index=index)["count"])


def scan(client, index: str, source: Sequence[str], query: dict | None = None
         ) -> Iterator[dict]:
    """Every ``_source`` of an index (only ``source`` fields), page by page, in id order."""
    after = None
    while True:
        body: dict = {"size": PAGE, "sort": [{schema.ID: "asc"}], "_source": list(source),
                      "query": query or {"match_all": {}}}
        if after is not None:
            body["search_after"] = after
        hits = client.search(index=index, body=body)["hits"]["hits"]
        yield from (h["_source"] for h in hits)
        if len(hits) < PAGE:
            return
        after = hits[-1]["sort"]


def swap(client, location: Location, new: str, current: str | None) -> None:
    """Make ``new`` live and ``current`` the previous index, in one atomic request."""
    actions: list[dict] = [{"remove": {"index": new, "alias": location.alias + BUILDING}},
                           {"add": {"index": new, "alias": location.alias}}]
    if current is not None:
        before = previous(client, location)
        if before is not None:
            actions.append({"remove": {"index": before, "alias": location.alias + PREVIOUS}})
        actions += [{"remove": {"index": current, "alias": location.alias}},
                    {"add": {"index": current, "alias": location.alias + PREVIOUS}}]
    client.indices.update_aliases(body={"actions": actions})


def prune(client, location: Location, new: str, kept: str | None) -> list[str]:
    """Delete this location's indexes older than ``new`` but the one kept for rollback.

    A newer one is another rebuild's, still loading: it is left alone.
    """
    doomed = [i for i in client.indices.get(index=f"{location.alias}-*")
              if is_ours(location, i) and i < new and i != kept]
    for index in sorted(doomed):
        client.indices.delete(index=index)
    return doomed


@dataclasses.dataclass(frozen=True)
class Rolled:
    """What a rollback did: the index live again and the one it replaced, with their meta."""

    restored: str
    restored_meta: store.IndexMeta
    replaced: str
    replaced_meta: store.IndexMeta


def rollback(location: Location) -> Rolled:
    """Put the previous index back behind the alias, atomically; the replaced one is kept."""
    client = connection.client(location)
    with talking(location):
        current, before = live(client, location), previous(client, location)
        if current is None:
            raise store.IndexUnavailable(f"no index {location.alias} in {location}: there is "
                                         "nothing to roll back.")
        if before is None:
            raise store.IndexUnavailable(
                f"{location} keeps no index before the live one ({current}): there is "
                "nothing to roll back to.")
        alias, kept = location.alias, location.alias + PREVIOUS
        client.indices.update_aliases(body={"actions": [
            {"remove": {"index": current, "alias": alias}},
            {"remove": {"index": before, "alias": kept}},
            {"add": {"index": before, "alias": alias}},
            {"add": {"index": current, "alias": kept}}]})
        return Rolled(before, meta(client, before), current, meta(client, current))
