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
    """What the filters allow: the query's filters and dates, and each chosen facet apart.

    Each is a mask over every document, read at the matches' numbers only.
    """

    base: np.ndarray | None
    facets: Mapping[str, np.ndarray]


def strong(scores: np.ndarray, best: float) -> np.ndarray:
    """Which scores reach DATE_SORT_FLOOR of the best (all, when none scores)."""
    if best <= 0:
        return np.ones(scores.size, dtype=bool)
    return scores >= np.float32(DATE_SORT_FLOOR * best)


def _left_out(tables: Tables, weak: np.ndarray, listed: np.ndarray, collapse: bool) -> int:
    """How many results the weak matches are: headlines none of the listed ones has."""
    if not collapse:
        return int(weak.size)
    keys = tables.codes[schema.TITLE_KEY]
    return int(np.setdiff1d(keys[weak], keys[listed]).size)


def select_and_rank(engine: Engine, ids: np.ndarray, scores: np.ndarray,
                    allowed: Allowed | np.ndarray | None, *, by_date: bool, collapse: bool,
                    want: int, limit: int | None, proximity: Sequence[InOrder],
                    ascending: bool) -> Ranked:
    """Rank the live matches (sorted ids and their scores) the request allows."""
    if isinstance(allowed, Allowed):
        base, chosen = allowed.base, allowed.facets
    else:
        base, chosen = allowed, {}
    keep = engine.tables.live[ids]
    if base is not None:
        keep &= base[ids]
    ids, scores = ids[keep], scores[keep]
    unfaceted, unfaceted_scores = ids, scores
    if chosen:
        keep = np.ones(ids.size, dtype=bool)
        for values in chosen.values():
            keep &= values[ids]
        ids, scores = ids[keep], scores[keep]
    weak = None
    if by_date:
        best = float(scores.max()) if scores.size else 0.0
        kept = strong(scores, best)
        weak = ids[~kept]
        ids, scores = ids[kept], scores[kept]
        unfaceted = unfaceted[strong(unfaceted_scores, best)] if chosen else ids
    else:
        scores = rescore(engine, ids, scores, list(proximity))
    ranked = rank(engine.tables, ids, scores, by_date, collapse, want, limit, ascending)
    if weak is not None and weak.size:
        ranked = replace(ranked, left_out=_left_out(engine.tables, weak, ids, collapse))
    if not chosen:
        return ranked
    widened = {}
    for name in chosen:
        others = np.ones(unfaceted.size, dtype=bool)
        for other, values in chosen.items():
            if other != name:
                others &= values[unfaceted]
        widened[name] = unfaceted[others]
    return replace(ranked, widened=widened)
