"""Writing articles to a cluster in bulk: retried with back-off on 429, each failure by id.

A cluster answers 429 when its write queues are full: the articles it refused are
sent again, after a wait that doubles each time, by opensearch-py's
``streaming_bulk``. Every other refusal (a field the mapping rejects, a shard that
is gone) is kept with the article's id, so that the report names each one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from newssearch.articles import Article
from newssearch.opensearch import fields

RETRIES = 6  # 1 + 2 + 4 + 8 + 16 + 32 s: a minute of a saturated cluster
BACKOFF = 1.0
CHUNK = 500


@dataclass(frozen=True)
class Failure:
    """An article the cluster did not store or remove, and what it said (status, reason)."""

    id: str
    message: str


@dataclass(frozen=True)
class Outcome:
    """What one bulk write did: actions the cluster applied, and those it refused."""

    done: int
    failures: tuple[Failure, ...]


def upserts(index: str, articles: Iterable[Article],
            origin: Callable[[Article], str]) -> Iterator[dict]:
    """Index actions (add or replace by id) for articles read from ``origin(article)``."""
    for article in articles:
        yield {"_op_type": "index", "_index": index, "_id": article.id,
               "_source": fields.source(article, origin(article))}


def deletes(index: str, ids: Iterable[str]) -> Iterator[dict]:
    """Delete actions for these ids."""
    for article_id in ids:
        yield {"_op_type": "delete", "_index": index, "_id": article_id}


def write(client, actions: Iterable[dict], *, refresh: str | None = None,
          retries: int = RETRIES, backoff: float = BACKOFF,
          progress: Callable[[int], None] | None = None) -> Outcome:
    """Send the actions in chunks; retry what got 429; return what was done and refused.

    A request the cluster refuses as a whole (down, credentials) raises the client's
    error, for connection.failure to explain.
    """
    from opensearchpy import helpers

    done, failures = 0, []
    extra = {"refresh": refresh} if refresh else {}
    for ok, item in helpers.streaming_bulk(
            client, actions, chunk_size=CHUNK, max_retries=retries,
            initial_backoff=backoff, max_backoff=60, raise_on_error=False, **extra):
        op, info = next(iter(item.items()))
        # Deleting an article that is already gone leaves the index as asked.
        if ok or (op == "delete" and info.get("status") == 404):
            done += 1
            if progress is not None:
                progress(done)
        else:
            failures.append(Failure(str(info.get("_id", "")), _reason(info)))
    return Outcome(done, tuple(failures))


def _reason(info: dict) -> str:
    """The cluster's reason for refusing one action, as short as it still says why."""
    error = info.get("error")
    if isinstance(error, dict):
        reason = error.get("reason") or error.get("type") or str(error)
        cause = error.get("caused_by")
        if isinstance(cause, dict) and cause.get("reason"):
            reason = f"{reason} ({cause['reason']})"
    else:
        reason = str(error or "refused")
    return f"{info.get('status', '?')} {reason}"
