"""Describing a cluster index as status.py describes a directory: counts, dates, indexes."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from newssearch import schema
from newssearch.opensearch import aliases, connection
from newssearch.opensearch.connection import Location
from newssearch.schema import SCHEMA_VERSION
from newssearch.status import Generation, IndexStats

FACET_SIZE = 1000  # sections and sources listed by stats; more are very unlikely


def stats(location: Location) -> IndexStats:
    """Count documents, sections and sources, and measure the live index (primaries)."""
    client = connection.client(location)
    with aliases.talking(location):
        index = aliases.require_live(client, location)
        found = client.search(index=index, body={
            "size": 0, "track_total_hits": True,
            "aggs": {"sections": {"terms": {"field": schema.SECTION, "size": FACET_SIZE,
                                            "missing": ""}},
                     "sources": {"terms": {"field": schema.SOURCE, "size": FACET_SIZE,
                                           "missing": ""}},
                     "first": {"min": {"field": schema.DATE}},
                     "last": {"max": {"field": schema.DATE}}}})
        recorded = aliases.meta(client, index)
        kept = [("live", index), ("previous", aliases.previous(client, location))]
        generations = tuple(_generation(client, role, name) for role, name in kept if name)
        sizes = client.cat.indices(index=index, format="json", bytes="b")
    aggs = found["aggregations"]
    size = sum(int(row.get("pri.store.size") or row.get("store.size") or 0) for row in sizes)
    return IndexStats(
        int(found["hits"]["total"]["value"]), _buckets(aggs["sections"]),
        _buckets(aggs["sources"]), _day(aggs["first"]), _day(aggs["last"]), size,
        recorded.schema_version, recorded.built_at, f"{location} ({index})", generations)


def outdated(location: Location, sources: Sequence[Path]) -> str | None:
    """Say why the cluster index should be built from ``sources`` (as status.outdated)."""
    client = connection.client(location)
    with aliases.talking(location):
        index = aliases.live(client, location)
        if index is None:
            return f"No index {location.alias} in {location} yet: building it."
        recorded = aliases.meta(client, index)
    if recorded.schema_version == SCHEMA_VERSION:
        return None
    if sorted(recorded.sources) != sorted(os.path.abspath(s) for s in sources):
        return None
    return (f"{location} was built from {', '.join(map(str, sources))} by an older newssearch "
            f"(schema {recorded.schema_version}, this one reads {SCHEMA_VERSION}): rebuilding it.")


def _generation(client, role: str, index: str) -> Generation:
    recorded = aliases.meta(client, index)
    return Generation(index, role, aliases.count(client, index), recorded.built_at)


def _buckets(agg: dict) -> tuple[tuple[str, int], ...]:
    return tuple((b["key"] or "—", int(b["doc_count"])) for b in agg["buckets"])


def _day(agg: dict) -> date | None:
    text = agg.get("value_as_string")
    if text:
        return date.fromisoformat(text[:10])
    value = agg.get("value")  # epoch milliseconds when the cluster gives no string
    return None if value is None else datetime.fromtimestamp(value / 1000, UTC).date()
