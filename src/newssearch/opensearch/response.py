"""OpenSearch responses read into our records: rankings, facet counts, suggestions.

Each function takes a response as the OpenSearch documentation shows it (a dict)
and returns the records the embedded backend builds: ``Ranked`` with the hits'
``_source`` as its opaque docs, ``Counts`` built by rank.facet_values and
rank.timeline, so that facets and timelines read the same on both backends.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from newssearch import notices
from newssearch.opensearch.translate import COPIES, STORIES
from newssearch.query.rank import FACETS, Counts, Ranked, facet_values, timeline


def failed_shards(response: dict) -> int:
    """How many shards did not answer (0 when all did)."""
    return int((response.get("_shards") or {}).get("failed") or 0)


def shard_notices(response: dict) -> tuple[str, ...]:
    """The notice a partial answer deserves, if it is one."""
    failed = failed_shards(response)
    return (notices.partial_results(failed),) if failed else ()


def total_hits(response: dict, collapse: bool = False) -> int:
    """Matching articles (distinct headlines when collapsing) in all."""
    if collapse:
        return int(response["aggregations"][STORIES]["value"])
    total = response["hits"]["total"]
    return int(total["value"] if isinstance(total, dict) else total)


def ranked(response: dict, collapse: bool, limit: int | None = None,
           matches: object = None) -> Ranked:
    """The hits of a search response, best first, with each headline's other copies.

    ``matches`` is kept as the ranking's opaque match set: what a facet count reruns.
    """
    hits = response["hits"]["hits"]
    docs = tuple(h["_source"] for h in hits)
    scores = np.array([float(h.get("_score") or 0.0) for h in hits], dtype=np.float64)
    if collapse:
        copies = [_inner_total(h) - 1 for h in hits]
    else:
        copies = [0] * len(hits)
    total = total_hits(response, collapse)
    if limit is not None:
        total = min(total, limit)
    return Ranked(docs, scores, np.array(copies, dtype=np.int64), total,
                  matches, notices=shard_notices(response))  # type: ignore[arg-type]


def _inner_total(hit: dict) -> int:
    """How many articles share this hit's headline, itself included."""
    inner = (hit.get("inner_hits") or {}).get(COPIES)
    if inner is None:
        return 1
    total = inner["hits"]["total"]
    return max(1, int(total["value"] if isinstance(total, dict) else total))


def max_score(response: dict) -> float:
    """The best score of a response (0 when nothing matched)."""
    return float(response["hits"].get("max_score") or 0.0)


def counts(response: dict, collapse: bool) -> Counts:
    """Sections, sources, years and the timeline of a facets response (facets_body)."""
    aggs = response["aggregations"]
    found = {}
    for name in FACETS:
        groups = Counter({str(b["key"]): _count(b, collapse)
                          for b in aggs[name]["values"]["buckets"]})
        found[name] = facet_values(name, groups)
    return Counts(found, months(aggs["timeline"]["months"]["buckets"], collapse))


def months(buckets: list[dict], collapse: bool = False) -> tuple:
    """The timeline of a monthly date histogram (``key_as_string`` yyyy-MM)."""
    dated = [(b["key_as_string"][:7], _count(b, collapse)) for b in buckets]
    dated = [(k, n) for k, n in dated if n]
    if not dated:
        return ()
    first = min(int(k[:4]) for k, _ in dated)
    index = {k: (int(k[:4]) - first) * 12 + int(k[5:7]) for k, _ in dated}
    array = np.zeros(max(index.values()) + 1, dtype=np.int64)
    for k, n in dated:
        array[index[k]] += n
    return timeline(first, array)


def _count(bucket: dict, collapse: bool) -> int:
    """A bucket's articles, or its distinct headlines when collapsing."""
    if collapse and STORIES in bucket:
        return int(bucket[STORIES]["value"])
    return int(bucket["doc_count"])


def suggestions(response: dict, name: str) -> list[tuple[str, int]]:
    """The (word, document frequency) options of a term suggester, best first."""
    found: list[tuple[str, int]] = []
    for entry in (response.get("suggest") or {}).get(name) or []:
        found.extend((o["text"], int(o.get("freq") or 0)) for o in entry.get("options") or [])
    return found


def filter_counts(response: dict, name: str) -> dict[str, int]:
    """The document counts of a ``filters`` aggregation with named filters."""
    buckets = response["aggregations"][name]["buckets"]
    return {key: int(b["doc_count"]) for key, b in buckets.items()}


def sources(response: dict) -> list[dict]:
    """The ``_source`` of every hit."""
    return [h["_source"] for h in response["hits"]["hits"]]
