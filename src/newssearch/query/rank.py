"""From a query's match vector to a ranked page: proximity, sorting, collapsing, facets."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from newssearch import schema
from newssearch.query.execute import Engine, Tables
from newssearch.query.tree import InOrder
from newssearch.records import FacetValue, Period
from newssearch.sections import section_label

FACETS = (schema.SECTION, schema.SOURCE, schema.YEAR)
# A timeline longer than this many months shows years.
MONTHLY_SPAN = 36
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
    # For a facet with chosen values: the matches under every filter but that facet's,
    # so that its other values can still be counted and added (OR within a facet).
    widened: dict[str, np.ndarray] = field(default_factory=dict)
    left_out: int = 0       # weak matches a date sort does not list (headlines, when collapsing)
    notices: tuple[str, ...] = ()  # what the backend has to say of this ranking (lost shards)


@dataclass(frozen=True)
class Counts:
    """The facets of a match set and its timeline, counted in one pass."""

    facets: dict[str, tuple[FacetValue, ...]]
    histogram: tuple[Period, ...]


def rescore(engine: Engine, ids: np.ndarray, scores: np.ndarray,
            proximity: list[InOrder]) -> np.ndarray:
    """Add the proximity bonuses to the best-scored matches (sorted ids, their scores)."""
    if not proximity or ids.size < 2:
        return scores
    window = ids
    if ids.size > PROXIMITY_WINDOW:
        window = np.sort(ids[np.argpartition(-scores, PROXIMITY_WINDOW)[:PROXIMITY_WINDOW]])
    scores = scores.copy()
    for sequence in proximity:
        found, bonus = engine.in_order(sequence, among=window)
        scores[np.searchsorted(ids, found)] += bonus
    return scores


def rank(tables: Tables, docs: np.ndarray, scores: np.ndarray, by_date: bool, collapse: bool,
         want: int, limit: int | None = None, ascending: bool = False) -> Ranked:
    """Order the matches (sorted ids, their scores) by score, newest or oldest first,
    keeping each headline's best copy.

    Only the best ``want`` results are put in order: a full sort of every match
    cost more than the rest of a query. ``limit`` ranks only that many of the best
    matches in all (a page of partial matches).
    """
    if limit is not None and docs.size > limit:
        keep = _best(scores, limit)
        docs, scores = docs[keep], scores[keep]
    # Every article has a headline key (its id when it has no headline): none is "".
    keys = tables.codes[schema.TITLE_KEY][docs] if collapse else None
    if keys is not None:
        distinct, copies_of = key_counts(keys, tables.title_keys)
    total = docs.size if keys is None else int(distinct.size)
    top = want if keys is None else 2 * want + 10
    while True:
        picked = (np.arange(docs.size) if by_date or top >= docs.size
                  else _best(scores, top))
        candidates, found = docs[picked], scores[picked]
        if by_date and ascending:  # undated articles last, as they are when newest first
            days = np.where(tables.days[candidates] > 0, tables.days[candidates], 99_999_999)
            order = np.lexsort((candidates, -found, days))
        elif by_date:
            order = np.lexsort((candidates, -found, -tables.days[candidates]))
        else:
            order = np.lexsort((candidates, -found))  # ties: index order
        ranked, ranked_scores = candidates[order], found[order]
        if keys is None:
            return Ranked(ranked[:want], ranked_scores[:want],
                          np.zeros(min(want, ranked.size), dtype=np.int64), total, docs)
        ranked_keys = tables.codes[schema.TITLE_KEY][ranked]
        _, first = np.unique(ranked_keys, return_index=True)
        first.sort()
        if first.size >= want or candidates.size == docs.size:
            first = first[:want]
            copies = copies_of[np.searchsorted(distinct, ranked_keys[first])] - 1
            return Ranked(ranked[first], ranked_scores[first], copies.astype(np.int64),
                          total, docs)
        top *= 4


def _best(scores: np.ndarray, count: int) -> np.ndarray:
    """The positions of the ``count`` best scores, and of any tied with the last, in order."""
    if count >= scores.size:
        return np.arange(scores.size)
    threshold = np.partition(-scores, count - 1)[count - 1]
    return np.flatnonzero(-scores <= threshold)


# Keys (numbers below a size) fewer than 1/SPARSE_KEYS of it are sorted; more are counted
# or placed in an array of that size (×10, 5,000 keys: 0.2 ms sorted, 0.4 placed; 20,000
# keys: 1.7 against 0.5; 100,000: 10 against 0.7).
SPARSE_KEYS = 64


def key_counts(keys: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys (numbers below ``size``), sorted, and how often each occurs."""
    if keys.size * SPARSE_KEYS < size:
        return np.unique(keys, return_counts=True)
    counts = np.bincount(keys, minlength=size)
    distinct = np.flatnonzero(counts)
    return distinct, counts[distinct]


def first_of_each(keys: np.ndarray, size: int) -> np.ndarray:
    """The positions where each distinct key (a number below ``size``) is first met, in
    order: for many keys, ``np.unique(keys, return_index=True)[1]`` without its stable
    sort of every match."""
    if keys.size * SPARSE_KEYS < size:
        return np.sort(np.unique(keys, return_index=True)[1])
    first = np.full(size, keys.size, dtype=np.int64)
    np.minimum.at(first, keys, np.arange(keys.size))
    met = np.zeros(keys.size + 1, dtype=bool)
    met[first] = True
    return np.flatnonzero(met[:-1])


def facets(tables: Tables, ranked: Ranked, collapse: bool) -> Counts:
    """Count sections, sources, years and months of the matches (one per headline if collapsing).

    A facet with chosen values is counted over the matches of every other filter.
    """
    def distinct(docs: np.ndarray) -> np.ndarray:
        if not collapse:
            return docs
        return docs[first_of_each(tables.codes[schema.TITLE_KEY][docs], tables.title_keys)]

    docs = distinct(ranked.matches)
    found = {}
    for name in FACETS:
        among = distinct(ranked.widened[name]) if name in ranked.widened else docs
        labels = tables.labels[name]
        counts = np.bincount(tables.codes[name][among], minlength=len(labels))
        found[name] = facet_values(name, Counter({labels[i]: int(counts[i])
                                                  for i in np.flatnonzero(counts)}))
    months = np.bincount(tables.months[docs], minlength=tables.months_count)
    return Counts(found, timeline(tables.first_year, months))


def timeline(first_year: int, months: np.ndarray) -> tuple[Period, ...]:
    """Matches per month from the first to the last month with any; per year over long spans.

    ``months[0]`` counts the undated; ``months[i]`` month i - 1 from January of ``first_year``.
    """
    dated = np.flatnonzero(months[1:])
    if not dated.size:
        return ()
    low, high = int(dated[0]), int(dated[-1])
    if high - low < MONTHLY_SPAN:
        return tuple(Period(f"{first_year + i // 12}-{i % 12 + 1:02d}", int(months[i + 1]))
                     for i in range(low, high + 1))
    years = np.bincount(np.arange(months.size - 1) // 12, weights=months[1:]).astype(int)
    return tuple(Period(str(first_year + y), int(years[y]))
                 for y in range(low // 12, high // 12 + 1))


def facet_values(name: str, groups: Counter[str]) -> tuple[FacetValue, ...]:
    values = [FacetValue(str(k), int(n), section_label(str(k)) if name == schema.SECTION
                         else str(k))
              for k, n in groups.items() if k not in (None, "", b"")]
    if name == schema.YEAR:
        return tuple(sorted(values, key=lambda v: v.value, reverse=True))
    return tuple(sorted(values, key=lambda v: (-v.count, v.value)))


def hit_facets(hits) -> Counts:
    """Count sections, sources, years and months of some hits."""
    counts = {schema.SECTION: Counter(h.section for h in hits),
              schema.SOURCE: Counter(h.source for h in hits),
              schema.YEAR: Counter(str(h.date.year) if h.date else "" for h in hits)}
    dated = [h.date for h in hits if h.date]
    months = np.zeros(1, dtype=np.int64)
    first = min(d.year for d in dated) if dated else 0
    if dated:
        codes = [(d.year - first) * 12 + d.month for d in dated]
        months = np.bincount(codes, minlength=max(codes) + 1)
    return Counts({name: facet_values(name, counts[name]) for name in FACETS},
                  timeline(first, months))
