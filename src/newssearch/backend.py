"""What SearchService needs from an index, whatever holds it.

The embedded Whoosh index (whoosh_backend.py) implements it; a cluster backend
would too. Everything crossing this seam is a plain record or a query-tree
clause (query/tree.py): no engine object leaves the backend, except the opaque
``Ranked.docs`` and ``Ranked.matches`` that only the same snapshot reads back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from typing import Protocol

from newssearch.articles import Article
from newssearch.query.plan import Lexicon
from newssearch.query.rank import Counts, Ranked
from newssearch.query.tree import Clause, InOrder
from newssearch.records import IndexInfo
from newssearch.spelling import Vocabulary


class Snapshot(Lexicon, Protocol):
    """One generation of an index, as one request sees it from start to end."""

    def info(self) -> IndexInfo:
        """How many articles it holds, its schema and when it was built."""

    def doc_frequency(self, field: str, word: str) -> int:
        """How many articles have ``word`` in ``field``."""

    def vocabulary(self) -> Vocabulary:
        """The folded words of headlines and texts with their frequencies."""

    def allowed(self, filters: Sequence[Clause], date_from: date | None,
                date_to: date | None, facets: Mapping[str, Clause] | None = None
                ) -> object | None:
        """The articles the filters, dates and chosen facet values allow (opaque; None: all).

        ``facets`` maps a facet onto the clause of its chosen values; each is kept
        apart, so that the facet's other values can be counted.
        """

    def rank(self, clause: Clause | None, allowed: object | None, *, by_date: bool,
             collapse: bool, want: int, limit: int | None = None,
             proximity: Sequence[InOrder] = (), ascending: bool = False) -> Ranked:
        """Rank the live articles matching ``clause`` (all, for None) that are allowed.

        The ``want`` best come first, ties kept whole; ``limit`` caps how many are
        ranked at all; proximity bonuses rescore the best when sorting by relevance.
        Sorted by date (newest first, oldest if ``ascending``), only strong matches
        are ranked: those scoring at least a share of the best.
        """

    def facets(self, ranked: Ranked, collapse: bool) -> Counts:
        """Count the sections, sources, years and months of all the articles ranked."""

    def stored(self, doc: object) -> Article:
        """The stored article behind one of ``Ranked.docs``."""

    def article(self, article_id: str) -> Article | None:
        """The article with this id, if the index holds it."""

    def cooccurrences(self, word: str, candidates: Sequence[str]) -> list[int]:
        """How many articles have both ``word`` and each candidate (folded forms)."""

    def surface_form(self, folded: str, titles_only: bool = False) -> str:
        """How the articles write a folded word: ``presidentielle`` -> ``présidentielle``."""

    def related(self, article_id: str, limit: int) -> list[tuple[Article, float]]:
        """Articles like this one, best first, without its republished copies."""


class Index(Protocol):
    """An index followed across rebuilds and updates."""

    def snapshot(self) -> Snapshot:
        """The live generation, reopened when a change landed."""

    def warm_up(self) -> None:
        """Compute the live generation's tables now (a server, before its first request)."""

    def reading(self) -> contextlib.AbstractContextManager[None]:
        """A context that turns this backend's read failures into IndexUnavailable."""


def documents(snapshot: Snapshot, ranked: Ranked, first: int, last: int
              ) -> Iterator[tuple[Article, float, int]]:
    """Yield (article, score, duplicates) for ranks ``first`` to ``last`` of a ranking."""
    for i in range(first, min(last, len(ranked.docs))):
        yield snapshot.stored(ranked.docs[i]), float(ranked.scores[i]), int(ranked.duplicates[i])
