"""SearchService: the one entry point the web page, the API and the CLI search through."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import html
import math
import re
import threading
import time
import weakref
from array import array
from collections import Counter
from datetime import datetime
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh import scoring, sorting

from newssearch import indexer, store
from newssearch.analysis import analyze, terms
from newssearch.highlight import MatchTerms, highlight, snippet
from newssearch.queries import LONG_QUERY_WORDS, WEIGHTS, Plan, Planner, split_compounds
from newssearch.querylang import Filter, ParsedQuery, Word, parse
from newssearch.records import (
    ArticleView,
    FacetValue,
    Hit,
    IndexInfo,
    SearchPage,
    SearchRequest,
    Suggestion,
)
from newssearch.spelling import Vocabulary

FACETS = ("section", "source", "year")
BM25_B, BM25_K1 = 0.75, 1.2
TITLE_SHARE_DAMPING = 0.5
FEW_MATCHES = 2  # a word in this few documents may be a typo of a common one


class RobertsonBM25F(scoring.BM25F):
    """BM25F with the Robertson-Sparck Jones idf (as Lucene and bm25s), not Whoosh's.

    Whoosh's idf, log(N / (df + 1)) + 1, never falls below 1, so words in nearly
    every article still weigh a lot: long queries then rank by their commonest words.
    """

    def idf(self, searcher, fieldname, text):
        parent = searcher.get_parent()
        df = parent.doc_frequency(fieldname, text)
        n = parent.doc_count_all()
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def scorer(self, searcher, fieldname, text, qf=1):
        scorer = super().scorer(searcher, fieldname, text, qf)
        if fieldname in ("title", "title_exact"):
            return SharedTitleScorer(scorer, _title_factors(searcher))
        return scorer


class SharedTitleScorer(scoring.BaseScorer):
    """A title match, weighed down when many documents share that title.

    A headline names its article; a title that many documents share (the pages of
    one encyclopedia entry, a wire story republished) names none of them, and
    boosting it buries the one passage that answers. Weight 1/sqrt(n) for n
    documents with the same title: 1 for a unique headline. (1/n helped the
    encyclopedia set a little more but pushed republished wire stories down.)
    """

    def __init__(self, inner, factors):
        self.inner, self.factors = inner, factors

    def supports_block_quality(self):
        return self.inner.supports_block_quality()

    def max_quality(self):
        return self.inner.max_quality()  # still an upper bound: factors are at most 1

    def block_quality(self, matcher):
        return self.inner.block_quality(matcher)

    def score(self, matcher):
        return self.inner.score(matcher) * self.factors[matcher.id()]


def _title_factors(searcher) -> array:
    """Per document of a segment, the damping of its title's weight, computed once."""
    reader = searcher.reader()
    factors = getattr(reader, "_title_factors", None)
    if factors is None:
        parent = searcher.get_parent().reader()
        counts = getattr(parent, "_title_counts", None)
        if counts is None:
            counts = parent._title_counts = Counter(parent.column_reader("title_key"))
        keys = reader.column_reader("title_key")
        factors = array("f", ((counts[keys[d]] or 1) ** -TITLE_SHARE_DAMPING
                              for d in range(reader.doc_count_all())))
        reader._title_factors = factors
    return factors


SCORING: type[scoring.BM25F] = RobertsonBM25F


class Generation:
    """One opened index generation and what is computed once per generation."""

    def __init__(self, ix, path: Path, toc: int):
        self.ix, self.path, self.toc = ix, path, toc
        self._lock = threading.Lock()
        self._vocabulary: Vocabulary | None = None
        self._facet_names: dict[str, dict[str, list[str]]] | None = None
        self._local = threading.local()
        self._searchers: list = []
        # Close this generation's searchers once no request holds it any more.
        weakref.finalize(self, _close_all, self._searchers)

    def warm_up(self) -> None:
        """Compute the per-generation caches now rather than in the first request."""
        searcher = self.searcher()
        self.facet_names(searcher.reader())
        self.vocabulary(searcher.reader())

    def searcher(self):
        """Return this thread's searcher of the generation, opened once.

        Opening a searcher reads every segment's length columns and term tables:
        on the full news corpus that cost more than the search itself. A Whoosh
        searcher is not shared between threads, so each thread keeps its own.
        """
        searcher = getattr(self._local, "searcher", None)
        if searcher is None:
            searcher = self.ix.searcher(weighting=SCORING(B=BM25_B, K1=BM25_K1))
            self._local.searcher = searcher
            with self._lock:
                self._searchers.append(searcher)
        return searcher

    def column(self, name: str):
        """Return this thread's reader of a sort column, opened once."""
        columns = getattr(self._local, "columns", None)
        if columns is None:
            columns = self._local.columns = {}
        if name not in columns:
            columns[name] = self.searcher().reader().column_reader(name)
        return columns[name]

    def vocabulary(self, reader) -> Vocabulary:
        with self._lock:
            if self._vocabulary is None:
                df: Counter[str] = Counter()
                for fieldname in ("title_exact", "body_exact"):
                    for word, info in reader.iter_field(fieldname):
                        df[word.decode("utf-8")] += info.doc_frequency()
                self._vocabulary = Vocabulary(dict(df))
        return self._vocabulary

    def facet_names(self, reader) -> dict[str, dict[str, list[str]]]:
        """Map folded section and source names onto the names as written."""
        with self._lock:
            if self._facet_names is None:
                names: dict[str, dict[str, list[str]]] = {}
                for fieldname in ("section", "source"):
                    names[fieldname] = {}
                    for value in reader.field_terms(fieldname):
                        key = " ".join(terms(value, stemmed=False))
                        names[fieldname].setdefault(key, []).append(value)
                self._facet_names = names
        return self._facet_names


def _close_all(searchers: list) -> None:
    for searcher in searchers:
        with contextlib.suppress(Exception):
            searcher.close()


def _index_errors(method):
    """Report files that vanished or broke under a request as an unavailable index."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except (OSError, EOFError, whoosh_index.IndexError) as e:
            raise store.IndexUnavailable(
                f"the index in {self.index_dir} cannot be read ({type(e).__name__}: {e}); "
                "rebuild it with: newssearch index") from e
    return wrapper


class SearchService:
    """Search one index directory; follows rebuilds and updates without a restart."""

    def __init__(self, index_dir: Path):
        self.index_dir = Path(index_dir)
        self._lock = threading.Lock()
        self._generation: Generation | None = None

    def generation(self) -> Generation:
        """Return the live generation, reopening it when a rebuild or update landed."""
        try:
            return self._generation_or_raise()
        except store.IndexUnavailable:
            raise
        except Exception as e:  # the files went away or were damaged while serving
            raise store.IndexUnavailable(
                f"the index in {self.index_dir} cannot be read ({type(e).__name__}: {e}); "
                "rebuild it with: newssearch index") from e

    def _generation_or_raise(self) -> Generation:
        path = store.current_generation(self.index_dir)
        gen = self._generation
        if gen is not None and gen.path == path and gen.toc == gen.ix.latest_generation():
            return gen
        with self._lock:
            gen = self._generation
            if gen is None or gen.path != path:
                ix, path, _ = indexer.open_index(self.index_dir)
                gen = Generation(ix, path, ix.latest_generation())
            elif gen.toc != gen.ix.latest_generation():
                gen = Generation(gen.ix, gen.path, gen.ix.latest_generation())
            # The previous generation is not closed: a request may still be reading it.
            self._generation = gen
        return gen

    def info(self) -> IndexInfo:
        gen = self.generation()
        try:
            meta = store.IndexMeta.read(gen.path)
            # Not ix.doc_count(): Whoosh opens (and reads) a whole new reader for it.
            return IndexInfo(gen.searcher().doc_count(), meta.schema_version, meta.built_at)
        except Exception as e:
            raise store.IndexUnavailable(
                f"the index in {self.index_dir} cannot be read ({type(e).__name__}: {e}); "
                "rebuild it with: newssearch index") from e

    @_index_errors
    def search(self, request: SearchRequest) -> SearchPage:
        """Run a query and return one page of marked results with facets."""
        started = time.perf_counter()
        parsed = parse(request.q)
        gen = self.generation()
        searcher = gen.searcher()
        reader = searcher.reader()
        names = gen.facet_names(reader)
        notices = list(parsed.notices)
        corrections, suggested = self._typos(parsed, searcher, gen)
        planner = Planner(reader, names, corrections)
        plan = planner.plan(parsed)
        browsing = bool(request.section or request.source or request.date_from
                        or request.date_to)
        if plan.query() is None and not browsing:
            notices.append("Requête vide : tapez un ou plusieurs mots.")
            return SearchPage(parsed.text, 0, request.page, request.per_page, 0,
                              request.sort, _ms(started), (), None, tuple(notices),
                              {name: () for name in FACETS} if request.facets else {})
        filters = self._filters(request, plan, planner, notices)
        q, results, answered, complete = self._execute(searcher, plan, filters, request)
        if suggested and (results.is_empty() or complete == 0):
            # The rare word spoils the query: search for its correction instead.
            corrections, suggested = {**corrections, **suggested}, {}
            plan = Planner(reader, names, corrections).plan(parsed)
            q, results, answered, complete = self._execute(searcher, plan, filters, request)
        notices.extend(plan.notices)
        filled = complete is not None
        if complete == 0:
            notices.append("Aucun article ne contient tous les mots : "
                           "voici ceux qui en contiennent une partie.")
        elif complete is not None:
            notices.append(f"Seul{'s' if complete > 1 else ''} {complete} "
                           f"article{'s' if complete > 1 else ''} contien"
                           f"{'nent' if complete > 1 else 't'} tous les mots ; "
                           "les suivants n’en contiennent qu’une partie.")
        rerun = _Rerun(self, gen, q, filters, answered, results, group=not filled)
        page = self._page(searcher, results, rerun, plan.match_terms())
        total = len(page) if filled else _total(results, request)
        if filled and request.page > 1:
            page = ()  # the partial matches fill one page only
        suggestion = None
        if corrections:
            shown = self._display(corrections, searcher)
            notices.append(f"Aucun résultat pour « {parsed.text} » : résultats pour "
                           f"« {_apply(parsed, shown)} ».")
            suggestion = self._suggestion(parsed, shown, total)
        elif suggested:
            shown = self._display(suggested, searcher)
            other = Planner(reader, names, suggested).plan(parsed).query()
            count = _total(self._run(searcher, other, filters, request, facets=False),
                           request)
            if count > total:
                suggestion = self._suggestion(parsed, shown, count)
        if not request.facets:
            facets = {}
        elif filled:  # the result set is this one page
            facets = _hit_facets(page)
        else:
            facets = _facets(gen, results, request)
        pages = max(1, math.ceil(total / request.per_page)) if total else 0
        return SearchPage(parsed.text, total, request.page, request.per_page, pages,
                          request.sort, _ms(started), page, suggestion, tuple(notices),
                          facets)

    def _execute(self, searcher, plan, filters, request: SearchRequest):
        """Run a plan: the exact sequence first if it has one, then all words, then any.

        Returns the query that answered, its results, the request they answer, and,
        when articles with only some of the words had to fill the page, how many
        have all of them.
        """
        if plan.sequence is not None:
            # La Poste: the articles with the exact sequence, if there are any.
            q = plan.query(strict=True)
            results = self._run(searcher, q, filters, request)
            if not results.is_empty():
                return q, results, request, None
        q = plan.query()
        results = self._run(searcher, q, filters, request)
        complete = _total(results, request)
        if complete < request.per_page and len(plan.required) > 1 and not plan.long:
            # Fewer articles than a page have every word: those with some follow them,
            # on this one page. Only the top of that looser result set is ranked:
            # counting and grouping all of it (half the corpus for common words) is
            # what made such queries slow.
            filled = dataclasses.replace(request, page=1, facets=False)
            loose_q = plan.query(loose=True)
            loose = self._run(searcher, loose_q, filters, filled, limit=request.per_page + 20,
                              group=False)
            if loose.scored_length() > complete:
                return loose_q, loose, filled, complete
        return q, results, request, None

    def _filters(self, request: SearchRequest, plan: Plan, planner: Planner,
                 notices: list[str]) -> wq.Query | None:
        filters = list(plan.filters)
        for fieldname, value in (("section", request.section), ("source", request.source)):
            if value:
                unknown = Plan()
                filters.append(planner.filter_query(Filter(fieldname, value), unknown))
                notices.extend(unknown.notices)
        if request.date_from or request.date_to:
            start = datetime.combine(request.date_from, datetime.min.time()) \
                if request.date_from else None
            end = datetime.combine(request.date_to, datetime.max.time()) \
                if request.date_to else None
            filters.append(wq.DateRange("date", start, end))
        return wq.And(filters) if filters else None

    def _run(self, searcher, q, filters, request: SearchRequest, facets: bool = True,
             limit: int | None = None, group: bool = True):
        kwargs: dict = {}
        if group and (request.collapse or (facets and request.facets)):
            # One pass groups every match by headline: collapsing copies and counting
            # facets both start from it. (Whoosh's own CollapseCollector is skipped by
            # filters and miscounts sorted results.)
            kwargs["groupedby"] = {"title_key": sorting.FieldFacet("title_key")}
            kwargs["maptype"] = sorting.UnorderedList
        if request.sort == "date":
            kwargs["sortedby"] = sorting.FieldFacet("day", reverse=True)
        if limit is None:
            limit = request.page * request.per_page + (10 if request.collapse else 0)
        return searcher.search(q or wq.Every(), filter=filters, limit=limit, terms=False,
                               **kwargs)

    def _ranked(self, searcher, results, rerun) -> list[tuple[int, float, int]]:
        """Return (docnum, score, duplicates) of every hit up to the requested page."""
        request: SearchRequest = rerun.request
        want = request.page * request.per_page
        keys = rerun.gen.column("title_key") if request.collapse else None
        while True:
            if keys is None:
                copies = None
            elif rerun.group:
                copies = {k: len(v) for k, v in results.groups("title_key").items()}
            else:  # not grouped: count the copies among the ranked top only
                copies = Counter(keys[results.docnum(i)]
                                 for i in range(results.scored_length()))
            seen: set[str] = set()
            picked = []
            for i in range(results.scored_length()):
                docnum = results.docnum(i)
                dups = 0
                if keys is not None:
                    key = keys[docnum]
                    if key in seen:
                        continue
                    seen.add(key)
                    dups = copies[key] - 1
                # Sorted by date, Whoosh's score is the sort key: no relevance to show.
                score = 0.0 if request.sort == "date" else results.score(i)
                picked.append((docnum, score, dups))
                if len(picked) == want:
                    return picked
            if results.scored_length() < rerun.limit:
                return picked
            rerun.limit *= 4
            results = rerun()

    def _page(self, searcher, results, rerun, match: MatchTerms) -> tuple[Hit, ...]:
        request: SearchRequest = rerun.request
        hits = []
        ranked = self._ranked(searcher, results, rerun)
        for docnum, score, duplicates in ranked[(request.page - 1) * request.per_page:]:
            fields = searcher.stored_fields(docnum)
            text = "\n\n".join(p for p in (fields.get("lede"), fields.get("body")) if p)
            date = fields.get("date")
            marks = request.highlight
            hits.append(Hit(
                id=fields["id"], title=fields.get("title", ""),
                title_html=highlight(fields.get("title", ""), match) if marks else "",
                snippet_html=snippet(text, match) if marks else "", url=fields.get("url") or "",
                date=date.date() if date else None, source=fields.get("source") or "",
                section=fields.get("section") or "",
                score=round(score or 0.0, 4), duplicates=duplicates))
        return tuple(hits)

    def _typos(self, parsed: ParsedQuery, searcher, gen: Generation):
        """Find words with no (or very few) matches and their likely corrections."""
        reader = searcher.reader()
        forced: dict[str, str] = {}
        suggested: dict[str, str] = {}
        content = [w for w in parsed.positive() if isinstance(w, Word) and analyze(w.text)]
        if len(content) > LONG_QUERY_WORDS:
            # A question or a pasted sentence: an unknown word is more likely a rare
            # name than a typo, and the other words carry the query anyway.
            return forced, suggested
        for word in parsed.positive():
            if not isinstance(word, Word) or word.prefix:
                continue
            parts, compounds = split_compounds(analyze(word.text))
            folded = terms(word.text, stemmed=False)
            if len(parts) != 1 or compounds or len(folded) != 1:
                continue
            df = max(reader.doc_frequency(f, parts[0].text) for f in WEIGHTS)
            if df > FEW_MATCHES:
                continue
            fix = gen.vocabulary(reader).correct(folded[0])
            if fix is None:
                continue
            if df == 0:
                forced[word.text] = fix[0]
            elif fix[1] >= 10 * df:
                suggested[word.text] = fix[0]
        return forced, suggested

    def _display(self, corrections: dict[str, str], searcher) -> dict[str, str]:
        """Return corrections in their accented form, as the articles write them."""
        return {typed: surface_form(searcher, folded) for typed, folded in corrections.items()}

    def _suggestion(self, parsed: ParsedQuery, shown: dict[str, str], total: int) -> Suggestion:
        text = _apply(parsed, shown)
        html = _apply(parsed, {k: f"<em>{_esc(v)}</em>" for k, v in shown.items()}, escape=True)
        return Suggestion(text, html, total)

    @_index_errors
    def article(self, article_id: str, q: str = "") -> ArticleView | None:
        """Return one article, with the words of ``q`` marked."""
        gen = self.generation()
        searcher = gen.searcher()
        fields = searcher.document(id=article_id)
        if fields is None:
            return None
        plan = Planner(searcher.reader(), gen.facet_names(searcher.reader())).plan(parse(q))
        match = plan.match_terms()
        date = fields.get("date")
        return ArticleView(
            id=fields["id"], title=fields.get("title", ""),
            title_html=highlight(fields.get("title", ""), match),
            lede_html=highlight(fields.get("lede", ""), match),
            body_html="".join(f"<p>{highlight(p, match)}</p>"
                              for p in (fields.get("body") or "").split("\n\n") if p.strip()),
            url=fields.get("url") or "", date=date.date() if date else None,
            source=fields.get("source") or "", section=fields.get("section") or "",
            tags=tuple(t for t in (fields.get("tags") or "").split(",") if t))


    @_index_errors
    def suggest(self, q: str, limit: int = 8) -> list[str]:
        """Complete the last word of ``q`` with the index's most frequent words."""
        words = parse(q).text.split()
        if not words:
            return []
        prefix = terms(words[-1], stemmed=False)
        if len(prefix) != 1 or len(prefix[0]) < 2:
            return []
        gen = self.generation()
        searcher = gen.searcher()
        vocabulary = gen.vocabulary(searcher.reader())
        completions = vocabulary.complete(prefix[0], limit)
        head = " ".join(words[:-1])
        return [f"{head} {surface_form(searcher, w, titles_only=True)}".strip()
                for w in completions]

    @_index_errors
    def related(self, article_id: str, limit: int = 5) -> tuple[Hit, ...]:
        """Return articles like this one (more-like-this on the body)."""
        gen = self.generation()
        searcher = gen.searcher()
        docnum = searcher.document_number(id=article_id)
        if docnum is None:
            return ()
        own_key = searcher.stored_fields(docnum).get("title")
        found = []
        for hit in searcher.more_like(docnum, "body", top=limit * 2, numterms=12):
            fields = hit.fields()
            if fields.get("title") == own_key:
                continue  # a republished copy of the same story
            date = fields.get("date")
            found.append(Hit(
                id=fields["id"], title=fields.get("title", ""),
                title_html=highlight(fields.get("title", ""), MatchTerms()),
                snippet_html="", url=fields.get("url") or "",
                date=date.date() if date else None, source=fields.get("source") or "",
                section=fields.get("section") or "", score=round(hit.score or 0.0, 4)))
            if len(found) == limit:
                break
        return tuple(found)


def surface_form(searcher, folded: str, titles_only: bool = False) -> str:
    """Return how the articles write a folded word: ``presidentielle`` -> ``présidentielle``."""
    q = wq.Term("title_exact", folded)
    if not titles_only:
        q = wq.Or([q, wq.Term("body_exact", folded)])
    forms: Counter[str] = Counter()
    for hit in searcher.search(q, limit=3, terms=False):
        fields = hit.fields()
        texts = ("title",) if titles_only else ("title", "lede", "body")
        for text in (fields.get(name, "") for name in texts):
            for t in analyze(text, stemmed=False):
                if t.text == folded:
                    forms[text[t.start:t.end]] += 1
    if not forms:
        return folded
    lower = Counter({f.lower(): n for f, n in forms.items() if f[:1].islower()})
    # A word always capitalised is a name (Macron); otherwise the common noun's form.
    return (lower or forms).most_common(1)[0][0]


def _apply(parsed: ParsedQuery, replacements: dict[str, str], escape: bool = False) -> str:
    """Replace typed words in the query text (also after ``titre:`` or in a group)."""
    if not replacements:
        return _esc(parsed.text) if escape else parsed.text
    pattern = re.compile("|".join(rf"(?<!\w){re.escape(w)}(?!\w)"
                                  for w in sorted(replacements, key=len, reverse=True)))
    out, pos = [], 0
    for m in pattern.finditer(parsed.text):
        between = parsed.text[pos:m.start()]
        out.append(_esc(between) if escape else between)
        out.append(replacements[m.group()])
        pos = m.end()
    rest = parsed.text[pos:]
    out.append(_esc(rest) if escape else rest)
    return "".join(out)


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


class _Rerun:
    """The same search again with a higher limit, when collapsing left a page short."""

    def __init__(self, service: SearchService, gen: Generation, q, filters, request, results,
                 group: bool = True):
        self.service, self.gen, self.q, self.filters = service, gen, q, filters
        self.searcher = gen.searcher()
        self.request, self.group = request, group
        self.limit = results.scored_length() if results.scored_length() else 1

    def __call__(self):
        return self.service._run(self.searcher, self.q, self.filters, self.request,
                                 facets=False, limit=self.limit, group=self.group)


def _total(results, request: SearchRequest) -> int:
    """Number of results, counting a headline's copies once when collapsing."""
    return len(results.groups("title_key")) if request.collapse else len(results)


def _facets(gen: Generation, results, request: SearchRequest
            ) -> dict[str, tuple[FacetValue, ...]]:
    """Count sections, sources and years of the whole result set (one per headline)."""
    columns = {name: gen.column(name) for name in FACETS}
    counts: dict[str, Counter[str]] = {name: Counter() for name in FACETS}
    for docnums in results.groups("title_key").values():
        for docnum in docnums[:1] if request.collapse else docnums:
            for name, column in columns.items():
                counts[name][column[docnum]] += 1
    return {name: _facet_values(name, counts[name]) for name in FACETS}


def _hit_facets(hits: tuple[Hit, ...]) -> dict[str, tuple[FacetValue, ...]]:
    """Count sections, sources and years of some hits."""
    counts = {"section": Counter(h.section for h in hits),
              "source": Counter(h.source for h in hits),
              "year": Counter(str(h.date.year) if h.date else "" for h in hits)}
    return {name: _facet_values(name, counts[name]) for name in FACETS}


def _facet_values(name: str, groups: Counter[str]) -> tuple[FacetValue, ...]:
    values = [FacetValue(str(k), int(n)) for k, n in groups.items() if k not in (None, "", b"")]
    if name == "year":
        return tuple(sorted(values, key=lambda v: v.value, reverse=True))
    return tuple(sorted(values, key=lambda v: (-v.count, v.value)))


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
