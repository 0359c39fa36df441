"""SearchService: the one entry point the web page, the API and the CLI search through.

It only orchestrates the stages, in the order a query meets them: parse →
analysed query → spelling corrections → plan → run (execution and ranking, by
the backend) → page (hits, highlights, facets) → records.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from pathlib import Path

from newssearch import notices, page, schema, spelling
from newssearch.analysis import terms
from newssearch.articles import Article
from newssearch.backend import Index, Snapshot, documents
from newssearch.opensearch import connection
from newssearch.opensearch.connection import Location
from newssearch.opensearch.search import OpenSearchIndex
from newssearch.query import run
from newssearch.query.analyse import AnalysedQuery
from newssearch.query.parse import parse
from newssearch.query.plan import Plan, Planner
from newssearch.query.rank import FACETS, Counts, hit_facets
from newssearch.records import (
    ArticleView,
    Hit,
    IndexInfo,
    SearchPage,
    SearchRequest,
    Suggestion,
)
from newssearch.whoosh_backend import WhooshIndex


class SearchService:
    """Search one index; follows rebuilds and updates without a restart."""

    def __init__(self, index_dir: Path | str | Location, index: Index | None = None):
        """Search the index at ``index_dir``: a directory or an ``opensearch+http(s)://`` URL."""
        if isinstance(index_dir, Location) or connection.is_location(str(index_dir)):
            location = (index_dir if isinstance(index_dir, Location)
                        else connection.parse(str(index_dir)))
            # Named by its text, which leaves the password out; Path() would fold its "//".
            self.index_dir: Path | str = str(location)
            self.index: Index = index if index is not None else OpenSearchIndex(location)
        else:
            self.index_dir = Path(index_dir)
            self.index = index if index is not None else WhooshIndex(self.index_dir)

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
        if request.dates_swapped:
            said.append(notices.dates_swapped(request.date_from, request.date_to))
        forced, suggested = spelling.find_typos(query, snapshot.doc_frequency,
                                                snapshot.vocabulary)
        if request.verbatim:
            forced, suggested = {}, suggested | forced
        planner = Planner(snapshot, forced)
        plan = planner.plan(query)
        browsing = bool(request.sections or request.sources or request.date_from
                        or request.date_to)
        if plan.query() is None and not browsing:
            said.append(notices.EMPTY_QUERY)
            return SearchPage(query.parsed.text, 0, request.page, request.per_page, 0,
                              request.sort, _ms(started), (), None, tuple(said),
                              {name: () for name in FACETS} if request.facets else {})
        allowed = run.allowed(snapshot, request, plan, planner, said)
        outcome = run.run(snapshot, plan, allowed, request)
        if suggested and not request.verbatim and (outcome.ranked.total == 0
                                                   or outcome.complete == 0):
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
        said.extend(n for n in outcome.ranked.notices if n not in said)
        if outcome.ranked.left_out:
            said.append(notices.weak_left_out(outcome.ranked.left_out))
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
                                      total)
        counts = Counts({}, ())
        if request.facets:
            counts = hit_facets(hits) if filled else snapshot.facets(outcome.ranked,
                                                                     request.collapse)
        pages = max(1, math.ceil(total / request.per_page)) if total else 0
        return SearchPage(query.parsed.text, total, request.page, request.per_page, pages,
                          request.sort, _ms(started), hits, suggestion, tuple(said),
                          counts.facets, counts.histogram,
                          query.parsed.text if forced else None)

    def export(self, request: SearchRequest, limit: int) -> tuple[int, Iterator[Article]]:
        """Every article with all the query's words, in the request's order, up to ``limit``.

        Returns how many match in all, and the articles, read from the index as iterated.
        """
        with self.index.reading():
            query = AnalysedQuery.of(parse(request.q))
            snapshot = self.snapshot()
            forced, _ = spelling.find_typos(query, snapshot.doc_frequency, snapshot.vocabulary)
            planner = Planner(snapshot, {} if request.verbatim else forced)
            plan = planner.plan(query)
            clause = plan.query()
            if clause is None and not (request.sections or request.sources
                                       or request.date_from or request.date_to):
                return 0, iter(())
            allowed = run.allowed(snapshot, request, plan, planner, [])
            ranked = snapshot.rank(clause, allowed, by_date=request.sort != "relevance",
                                   collapse=request.collapse, want=limit,
                                   ascending=request.sort == "date_asc")

        def articles() -> Iterator[Article]:
            with self.index.reading():
                for doc in ranked.docs[:limit]:
                    yield snapshot.stored(doc)

        return ranked.total, articles()

    def _hits(self, snapshot: Snapshot, outcome: run.Outcome, request: SearchRequest,
              plan: Plan) -> tuple[Hit, ...]:
        """The requested page of results, marked (partial matches: the first page)."""
        first = 0 if outcome.complete is not None else (request.page - 1) * request.per_page
        match = plan.match_terms() if request.highlight else None
        by_date = request.sort != "relevance"  # then there is no relevance to show
        return tuple(page.hit(article, match, 0.0 if by_date else score, duplicates)
                     for article, score, duplicates in documents(
                         snapshot, outcome.ranked, first, first + request.per_page))

    def _suggestion(self, snapshot: Snapshot, query: AnalysedQuery, request: SearchRequest,
                    allowed: object | None, forced: dict[str, str], suggested: dict[str, str],
                    total: int) -> Suggestion | None:
        """The corrected query searched instead, or a much more frequent spelling to offer."""
        text = query.parsed.text
        if forced:
            return spelling.suggestion(text, self._shown(snapshot, forced), total)
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

    def source_spellings(self, names: set[str]) -> dict[str, str]:
        """How the index already writes these sources (``AFP`` for ``afp``), where it has them."""
        with self.index.reading():
            snapshot = self.snapshot()
            known = {n: snapshot.facet_values(schema.SOURCE, schema.facet_key(n)) for n in names}
        return {n: values[0] for n, values in known.items() if values}

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
        """Complete the last word of ``q`` as the articles write it, after the word before.

        After another word, one letter is enough (``gilets j``), and the words found with
        the nearest content word before in the most articles come first (``reforme ret``
        and ``reforme des ret``: « retraites »).
        A joined compound (``Macron-Le`` of « Macron-Le Pen ») is offered only to a word
        typed with a hyphen.
        """
        words = parse(q).text.split()
        if not words:
            return []
        typed = words[-1]
        compound = "-" in typed.strip("-")
        prefix = terms(typed, stemmed=False)
        if not prefix or (len(prefix) != 1 and not compound):
            return []
        before = _context(words[:-1])
        if len(prefix[0]) < (1 if before else 2):
            return []
        with self.index.reading():
            snapshot = self.snapshot()
            vocabulary = snapshot.vocabulary()
            candidates = vocabulary.complete(prefix[0], spelling.COMPLETION_CANDIDATES)
            if before:
                # « reforme r »: not « reforme réforme », which goes with itself everywhere.
                candidates = [w for w in candidates if w != before[0]]
                together = snapshot.cooccurrences(before[0], candidates)
                ranked = spelling.in_context(candidates, together, vocabulary.df)
                # Function words go with everything: after a word, content words first
                # (« etat d urgence s » → « sanitaire » before « sur »).
                candidates = sorted(ranked, key=lambda w: not terms(w))
            shown: list[str] = []
            for word in candidates:
                form = snapshot.surface_form(word, titles_only=True)
                if form == word:  # not in a headline: read it from the texts
                    form = snapshot.surface_form(word)
                if ("-" in form) == compound and form not in shown:
                    shown.append(form)
                if len(shown) == limit:
                    break
        head = " ".join(words[:-1])
        return [f"{head} {form}".strip() for form in shown]

    def related(self, article_id: str, limit: int = 5) -> tuple[Hit, ...]:
        """Return articles like this one, without its republished copies."""
        with self.index.reading():
            return tuple(page.related_hit(article, score)
                         for article, score in self.snapshot().related(article_id, limit))


def _context(words: list[str]) -> list[str]:
    """The folded word nearest before the one typed, past stop words and a lone ``l``/``d``."""
    nearest: list[str] = []
    for word in reversed(words):
        folded = terms(word, stemmed=False)[-1:]
        nearest = nearest or folded
        if folded and len(folded[0]) > 1 and terms(word):  # stemming keeps content words
            return folded
    return nearest


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
