"""From a query's match vector to a ranked page: proximity, sorting, collapsing, facets."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from newssearch.engine import Engine, Sequence, Tables
from newssearch.records import FacetValue

FACETS = ("section", "source", "year")
# Proximity is scored on this many of the best documents: it reads word positions.
PROXIMITY_WINDOW = 100


@dataclass(frozen=True)
class Ranked:
    """The ranked results of a query: document numbers, scores and copies per headline."""

    docs: np.ndarray        # best first; one per headline when collapsing
    scores: np.ndarray
    duplicates: np.ndarray  # other articles with the same headline
    total: int


def rescore(engine: Engine, mask: np.ndarray, score: np.ndarray,
            proximity: list[Sequence]) -> np.ndarray:
    """Add the proximity bonuses to the best-scored matches."""
    docs = np.flatnonzero(mask)
    if not proximity or docs.size < 2:
        return score
    if docs.size > PROXIMITY_WINDOW:
        docs = docs[np.argpartition(-score[docs], PROXIMITY_WINDOW)[:PROXIMITY_WINDOW]]
    window = np.zeros_like(mask)
    window[docs] = True
    score = score.copy()
    for sequence in proximity:
        found, bonus = engine.sequence(sequence, among=window)
        score[found] += bonus[found]
    return score


def rank(tables: Tables, mask: np.ndarray, score: np.ndarray, by_date: bool, collapse: bool,
         limit: int | None = None) -> Ranked:
    """Order the matches (by score, or newest first) and keep each headline's best copy.

    ``limit`` ranks only that many of the best matches (a page of partial matches).
    """
    docs = np.flatnonzero(mask)
    if limit is not None and docs.size > limit:
        docs = np.sort(docs[np.argpartition(-score[docs], limit)[:limit]])
    if by_date:
        order = np.lexsort((-score[docs], -tables.days[docs]))
    else:
        order = np.argsort(-score[docs], kind="stable")  # ties: index order
    docs = docs[order]
    if not collapse or docs.size == 0:
        return Ranked(docs, score[docs], np.zeros(docs.size, dtype=np.int64), docs.size)
    keys = tables.codes["title_key"][docs].astype(np.int64)
    untitled = tables.labels["title_key"].index("") if "" in tables.labels["title_key"] else -1
    keys = np.where(keys == untitled, -1 - docs.astype(np.int64), keys)  # never grouped
    _, first, counts = np.unique(keys, return_index=True, return_counts=True)
    by_rank = np.argsort(first)
    best = docs[first[by_rank]]
    return Ranked(best, score[best], counts[by_rank] - 1, int(best.size))


def facets(tables: Tables, docs: np.ndarray) -> dict[str, tuple[FacetValue, ...]]:
    """Count sections, sources and years among the given documents."""
    found = {}
    for name in FACETS:
        labels = tables.labels[name]
        counts = np.bincount(tables.codes[name][docs], minlength=len(labels))
        found[name] = facet_values(name, Counter({labels[i]: int(n)
                                                  for i in np.flatnonzero(counts)
                                                  for n in (counts[i],)}))
    return found


def facet_values(name: str, groups: Counter[str]) -> tuple[FacetValue, ...]:
    values = [FacetValue(str(k), int(n)) for k, n in groups.items() if k not in (None, "", b"")]
    if name == "year":
        return tuple(sorted(values, key=lambda v: v.value, reverse=True))
    return tuple(sorted(values, key=lambda v: (-v.count, v.value)))


def hit_facets(hits) -> dict[str, tuple[FacetValue, ...]]:
    """Count sections, sources and years of some hits."""
    counts = {"section": Counter(h.section for h in hits),
              "source": Counter(h.source for h in hits),
              "year": Counter(str(h.date.year) if h.date else "" for h in hits)}
    return {name: facet_values(name, counts[name]) for name in FACETS}
