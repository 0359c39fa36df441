"""Which matches a request lists: its filters and dates, its chosen facets, strong matches.

Between a clause's evaluation (execute.py) and the ordering (rank.py): the chosen
values of each facet are kept apart, so that the facet's other values can still be
counted, and a date sort lists only the matches that are about the words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from newssearch import schema
from newssearch.query.execute import Engine, Tables
from newssearch.query.rank import Ranked, rank, rescore
from newssearch.query.tree import InOrder

# Sorted by date, an article must score at least this share of the best match: a word
# met once in a long text does not put an article at the top of a newest-first list.
DATE_SORT_FLOOR = 0.25


@dataclass(frozen=True)
class Allowed:
    """What the filters allow: the query's filters and dates, and each chosen facet apart."""

    base: np.ndarray | None
    facets: Mapping[str, np.ndarray]


def strong(mask: np.ndarray, score: np.ndarray) -> np.ndarray:
    """The matches scoring at least DATE_SORT_FLOOR of the best (all, when none scores)."""
    best = float(score[mask].max()) if mask.any() else 0.0
    if best <= 0:
        return mask
    return score >= np.float32(DATE_SORT_FLOOR * best)


def _left_out(tables: Tables, weak: np.ndarray, listed: np.ndarray, collapse: bool) -> int:
    """How many results the weak matches are: headlines none of the listed ones has."""
    if not collapse:
        return int(np.count_nonzero(weak))
    keys = tables.codes[schema.TITLE_KEY]
    return int(np.setdiff1d(keys[weak], keys[listed]).size)


def select_and_rank(engine: Engine, mask: np.ndarray, score: np.ndarray,
                    allowed: Allowed | np.ndarray | None, *, by_date: bool, collapse: bool,
                    want: int, limit: int | None, proximity: Sequence[InOrder],
                    ascending: bool) -> Ranked:
    """Rank the live matches the request allows, with what its facets and notices need."""
    mask = mask & engine.tables.live
    if isinstance(allowed, Allowed):
        base, chosen = allowed.base, allowed.facets
    else:
        base, chosen = allowed, {}
    if base is not None:
        mask &= base
    unfaceted = mask.copy() if chosen else mask
    for values in chosen.values():
        mask &= values
    weak = None
    if by_date:
        kept = strong(mask, score)
        weak = mask & ~kept
        mask &= kept
        unfaceted = unfaceted & kept
    else:
        score = rescore(engine, mask, score, list(proximity))
    ranked = rank(engine.tables, mask, score, by_date, collapse, want, limit, ascending)
    if weak is not None and weak.any():
        ranked = replace(ranked, left_out=_left_out(engine.tables, weak, mask, collapse))
    if not chosen:
        return ranked
    widened = {}
    for name in chosen:
        others = unfaceted.copy()
        for other, values in chosen.items():
            if other != name:
                others &= values
        widened[name] = np.flatnonzero(others)
    return replace(ranked, widened=widened)
