"""From a query's match vector to a ranked page: proximity, sorting, collapsing, facets."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from newssearch import schema
from newssearch.query.execute import Engine, Tables
from newssearch.query.tree import InOrder
from newssearch.records import FacetValue

FACETS = (schema.SECTION, schema.SOURCE, schema.YEAR)
# Proximity is scored on this many of the best documents: it reads word positions.
PROXIMITY_WINDOW = 100


@dataclass(frozen=True)
class Ranked:
    """The best results of a query, in order, and how many there are in all."""

    docs: np.ndarray        # best first; one per headline when collapsing
    scores: np.ndarray
    duplicates: np.ndarray  # other articles with the same headline
    total: int              # results in all (headlines, when collapsing)
    matches: np.ndarray     # every matching document, for the facets


def rescore(engine: Engine, mask: np.ndarray, score: np.ndarray,
            proximity: list[InOrder]) -> np.ndarray:
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
        found, bonus = engine.in_order(sequence, among=window)
        score[found] += bonus[found]
    return score


def rank(tables: Tables, mask: np.ndarray, score: np.ndarray, by_date: bool, collapse: bool,
         want: int, limit: int | None = None) -> Ranked:
    """Order the matches (by score, or newest first), keeping each headline's best copy.

    Only the best ``want`` results are put in order: a full sort of every match
    cost more than the rest of a query. ``limit`` ranks only that many of the best
    matches in all (a page of partial matches).
    """
    docs = np.flatnonzero(mask)
    if limit is not None and docs.size > limit:
        docs = np.sort(_best(docs, score, limit))
    # Every article has a headline key (its id when it has no headline): none is "".
    keys = tables.codes[schema.TITLE_KEY][docs] if collapse else None
    total = docs.size if keys is None else int(np.unique(keys).size)
    top = want if keys is None else 2 * want + 10
    while True:
        candidates = docs if by_date or top >= docs.size else _best(docs, score, top)
        if by_date:
            order = np.lexsort((candidates, -score[candidates], -tables.days[candidates]))
        else:
            order = np.lexsort((candidates, -score[candidates]))  # ties: index order
        ranked = candidates[order]
        if keys is None:
            best = ranked[:want]
            return Ranked(best, score[best], np.zeros(best.size, dtype=np.int64), total, docs)
        ranked_keys = tables.codes[schema.TITLE_KEY][ranked]
        _, first = np.unique(ranked_keys, return_index=True)
        first.sort()
        if first.size >= want or candidates.size == docs.size:
            first = first[:want]
            best = ranked[first]
            copies = np.bincount(keys)[ranked_keys[first]] - 1
            return Ranked(best, score[best], copies, total, docs)
        top *= 4


def _best(docs: np.ndarray, score: np.ndarray, count: int) -> np.ndarray:
    """The ``count`` best-scored documents, and any tied with the last of them."""
    if count >= docs.size:
        return docs
    scores = score[docs]
    threshold = np.partition(-scores, count - 1)[count - 1]
    return docs[-scores <= threshold]


def facets(tables: Tables, docs: np.ndarray, collapse: bool) -> dict[str, tuple[FacetValue, ...]]:
    """Count sections, sources and years among the documents (one per headline if collapsing)."""
    if collapse:
        docs = docs[np.unique(tables.codes[schema.TITLE_KEY][docs], return_index=True)[1]]
    found = {}
    for name in FACETS:
        labels = tables.labels[name]
        counts = np.bincount(tables.codes[name][docs], minlength=len(labels))
        found[name] = facet_values(name, Counter({labels[i]: int(counts[i])
                                                  for i in np.flatnonzero(counts)}))
    return found


def facet_values(name: str, groups: Counter[str]) -> tuple[FacetValue, ...]:
    values = [FacetValue(str(k), int(n)) for k, n in groups.items() if k not in (None, "", b"")]
    if name == schema.YEAR:
        return tuple(sorted(values, key=lambda v: v.value, reverse=True))
    return tuple(sorted(values, key=lambda v: (-v.count, v.value)))


def hit_facets(hits) -> dict[str, tuple[FacetValue, ...]]:
    """Count sections, sources and years of some hits."""
    counts = {schema.SECTION: Counter(h.section for h in hits),
              schema.SOURCE: Counter(h.source for h in hits),
              schema.YEAR: Counter(str(h.date.year) if h.date else "" for h in hits)}
    return {name: facet_values(name, counts[name]) for name in FACETS}
