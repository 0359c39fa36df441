"""SearchService: the one entry point the web page, the API and the CLI search through.

It only orchestrates the stages, in the order a query meets them: parse →
analysed query → spelling corrections → plan → run (execution and ranking, by
the backend) → page (hits, highlights, facets) → records.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

from newssearch import notices, page, schema, spelling
from newssearch.analysis import terms
from newssearch.backend import Index, Snapshot, documents
from newssearch.query import run
from newssearch.query.analyse import AnalysedQuery
from newssearch.query.parse import parse
from newssearch.query.plan import Plan, Planner
from newssearch.query.rank import FACETS, hit_facets
from newssearch.records import (
    ArticleView,
    FacetValue,
    Hit,
    IndexInfo,
    SearchPage,
    SearchRequest,
    Suggestion,
)
from newssearch.whoosh_backend import WhooshIndex


class SearchService:
    """Search one index; follows rebuilds and updates without a restart."""

    def __init__(self, index_dir: Path, index: Index | None = None):
        self.index_dir = Path(index_dir)
        self.index: Index = index if index is not None else WhooshIndex(self.index_dir)

    def snapshot(self) -> Snapshot:
        """Return the live generation (raises IndexUnavailable, saying why)."""
        return self.index.snapshot()

    def warm_up(self) -> None:
        """Compute the live generation's tables now (a server, before its first request)."""
        self.index.warm_up()

    def info(self) -> IndexInfo:
        with self.index.reading():
            return self.snapshot().info()

    def search(self, request: SearchRequest) -> SearchPage:
        """Run a query and return one page of marked results with facets."""
        with self.index.reading():
            return self._search(request, time.perf_counter())

    def _search(self, request: SearchRequest, started: float) -> SearchPage:
        query = AnalysedQuery.of(parse(request.q))
        snapshot = self.snapshot()
        said = list(query.parsed.notices)
        forced, suggested = spelling.find_typos(query, snapshot.doc_frequency,
                                                snapshot.vocabulary)
        planner = Planner(snapshot, forced)
        plan = planner.plan(query)
        browsing = bool(request.section or request.source or request.date_from
                        or request.date_to)
        if plan.query() is None and not browsing:
            said.append(notices.EMPTY_QUERY)
            return SearchPage(query.parsed.text, 0, request.page, request.per_page, 0,
                              request.sort, _ms(started), (), None, tuple(said),
                              {name: () for name in FACETS} if request.facets else {})
        allowed = run.allowed(snapshot, request, plan, planner, said)
        outcome = run.run(snapshot, plan, allowed, request)
        if suggested and (outcome.ranked.total == 0 or outcome.complete == 0):
            # The rare word spoils the query: search for its correction instead.
            forced, suggested = {**forced, **suggested}, {}
            plan = Planner(snapshot, forced).plan(query)
            outcome = run.run(snapshot, plan, allowed, request)
        loose = query.parsed.phrases_as_words() if outcome.ranked.total == 0 else None
        if loose is not None:
            # No article has the phrase as typed (a quotation misremembered): its words.
            loose_plan = Planner(snapshot, forced).plan(query.rewritten(loose))
            found = run.run(snapshot, loose_plan, allowed, request)
            if found.ranked.total:
                plan, outcome = loose_plan, found
                said.append(notices.PHRASE_AS_WORDS)
        said.extend(plan.notices)
        if outcome.complete == 0:
            said.append(notices.NO_COMPLETE_MATCH)
        elif outcome.complete is not None:
            said.append(notices.some_complete(outcome.complete))
        hits = self._hits(snapshot, outcome, request, plan)
        filled = outcome.complete is not None  # the result set is this one page
        total = len(hits) if filled else outcome.ranked.total
        if filled and request.page > 1:
            hits = ()  # the partial matches fill one page only
        suggestion = self._suggestion(snapshot, query, request, allowed, forced, suggested,
                                      total, said)
        facets: dict[str, tuple[FacetValue, ...]] = {}
        if request.facets:
            facets = hit_facets(hits) if filled else snapshot.facets(outcome.ranked,
                                                                     request.collapse)
        pages = max(1, math.ceil(total / request.per_page)) if total else 0
        return SearchPage(query.parsed.text, total, request.page, request.per_page, pages,
                          request.sort, _ms(started), hits, suggestion, tuple(said), facets)

    def _hits(self, snapshot: Snapshot, outcome: run.Outcome, request: SearchRequest,
              plan: Plan) -> tuple[Hit, ...]:
        """The requested page of results, marked (partial matches: the first page)."""
        first = 0 if outcome.complete is not None else (request.page - 1) * request.per_page
        match = plan.match_terms() if request.highlight else None
        by_date = request.sort == "date"  # then there is no relevance to show
        return tuple(page.hit(article, match, 0.0 if by_date else score, duplicates)
                     for article, score, duplicates in documents(
                         snapshot, outcome.ranked, first, first + request.per_page))

    def _suggestion(self, snapshot: Snapshot, query: AnalysedQuery, request: SearchRequest,
                    allowed: object | None, forced: dict[str, str], suggested: dict[str, str],
                    total: int, said: list[str]) -> Suggestion | None:
        """Say which words were corrected, or offer a much more frequent spelling."""
        text = query.parsed.text
        if forced:
            shown = self._shown(snapshot, forced)
            said.append(notices.corrected(text, spelling.rewrite(text, shown)))
            return spelling.suggestion(text, shown, total)
        if not suggested:
            return None
        shown = self._shown(snapshot, suggested)
        other = Planner(snapshot, suggested).plan(query).query()
        count = snapshot.rank(other, allowed, by_date=False, collapse=request.collapse,
                              want=1).total
        return spelling.suggestion(text, shown, count) if count > total else None

    @staticmethod
    def _shown(snapshot: Snapshot, corrections: dict[str, str]) -> dict[str, str]:
        """Corrections in their accented form, as the articles write them."""
        return {typed: snapshot.surface_form(folded) for typed, folded in corrections.items()}

    def has(self, article_id: str) -> bool:
        """Whether the index holds an article with this id."""
        with self.index.reading():
            return self.snapshot().article(article_id) is not None

    def source_spelling(self, name: str) -> str | None:
        """How the index already writes a source (``AFP`` for ``afp``), if it has it."""
        with self.index.reading():
            known = self.snapshot().facet_values(schema.SOURCE, schema.facet_key(name))
        return known[0] if known else None

    def article(self, article_id: str, q: str = "") -> ArticleView | None:
        """Return one article, with the words of ``q`` marked."""
        with self.index.reading():
            snapshot = self.snapshot()
            article = snapshot.article(article_id)
            if article is None:
                return None
            plan = Planner(snapshot).plan(AnalysedQuery.of(parse(q)))
            return page.article_view(article, plan.match_terms())

    def suggest(self, q: str, limit: int = 8) -> list[str]:
        """Complete the last word of ``q`` with the index's most frequent words."""
        words = parse(q).text.split()
        if not words:
            return []
        prefix = terms(words[-1], stemmed=False)
        if len(prefix) != 1 or len(prefix[0]) < 2:
            return []
        with self.index.reading():
            snapshot = self.snapshot()
            completions = snapshot.vocabulary().complete(prefix[0], limit)
            head = " ".join(words[:-1])
            return [f"{head} {snapshot.surface_form(w, titles_only=True)}".strip()
                    for w in completions]

    def related(self, article_id: str, limit: int = 5) -> tuple[Hit, ...]:
        """Return articles like this one, without its republished copies."""
        with self.index.reading():
            return tuple(page.related_hit(article, score)
                         for article, score in self.snapshot().related(article_id, limit))


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
