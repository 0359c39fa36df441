"""SearchService: the one entry point the web page, the API and the CLI search through."""

from __future__ import annotations

import contextlib
import functools
import html
import math
import re
import threading
import time
import weakref
from collections import Counter
from pathlib import Path

import numpy as np
from whoosh import index as whoosh_index

from newssearch import postings, schema, store
from newssearch.analysis import analyze, terms
from newssearch.highlight import MatchTerms, highlight, snippet
from newssearch.query.execute import Engine, PostingCache, Tables
from newssearch.query.parse import Filter, ParsedQuery, Word, parse
from newssearch.query.plan import LONG_QUERY_WORDS, WEIGHTS, Plan, Planner, split_compounds
from newssearch.query.rank import FACETS, Ranked, hit_facets, rank, rescore
from newssearch.query.rank import facets as facet_counts
from newssearch.query.tree import AllDocuments, Clause, MatchAll
from newssearch.records import (
    ArticleView,
    Hit,
    IndexInfo,
    SearchPage,
    SearchRequest,
    Suggestion,
)
from newssearch.spelling import Vocabulary

FEW_MATCHES = 2  # a word in this few documents may be a typo of a common one


class Generation:
    """One opened index generation and what is computed once per generation."""

    def __init__(self, ix, path: Path, toc: int):
        self.ix, self.path, self.toc = ix, path, toc
        self._lock = threading.Lock()
        self._vocabulary: Vocabulary | None = None
        self._facet_names: dict[str, dict[str, list[str]]] | None = None
        self._tables: Tables | None = None
        self._cache = PostingCache()
        self._local = threading.local()
        self._searchers: list = []
        # Close this generation's searchers once no request holds it any more.
        weakref.finalize(self, _close_all, self._searchers)

    def warm_up(self) -> None:
        """Compute the per-generation caches now rather than in the first request."""
        searcher = self.searcher()
        self.engine()
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
            searcher = self.ix.searcher()
            self._local.searcher = searcher
            with self._lock:
                self._searchers.append(searcher)
        return searcher

    def engine(self) -> Engine:
        """Return a query engine over this thread's reader (one per request: it memoises)."""
        reader = self.searcher().reader()
        with self._lock:
            if self._tables is None:
                self._tables = Tables(reader)
        return Engine(reader, self._tables, self._cache)

    def vocabulary(self, reader) -> Vocabulary:
        with self._lock:
            if self._vocabulary is None:
                self._vocabulary = Vocabulary(
                    postings.document_frequencies(reader, schema.EXACT_FIELDS))
        return self._vocabulary

    def facet_names(self, reader) -> dict[str, dict[str, list[str]]]:
        """Map folded section and source names onto the names as written."""
        with self._lock:
            if self._facet_names is None:
                names: dict[str, dict[str, list[str]]] = {}
                for fieldname in schema.FACET_FIELDS:
                    names[fieldname] = {}
                    for value in reader.field_terms(fieldname):
                        names[fieldname].setdefault(schema.facet_key(value), []).append(value)
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
                ix, path, _ = postings.open_index(self.index_dir)
                gen = Generation(ix, path, ix.latest_generation())
            elif gen.toc != gen.ix.latest_generation():
                gen = Generation(gen.ix, gen.path, gen.ix.latest_generation())
            # The previous generation is not closed: a request may still be reading it.
            self._generation = gen
        return gen

    def warm_up(self) -> None:
        """Compute the live generation's tables now (a server, before its first request)."""
        with contextlib.suppress(store.IndexUnavailable):
            self.generation().warm_up()

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
        engine = gen.engine()
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
        allowed = self._filters(engine, request, plan, planner, notices)
        ranked, complete = self._execute(engine, plan, allowed, request)
        if suggested and (ranked.total == 0 or complete == 0):
            # The rare word spoils the query: search for its correction instead.
            corrections, suggested = {**corrections, **suggested}, {}
            plan = Planner(reader, names, corrections).plan(parsed)
            ranked, complete = self._execute(engine, plan, allowed, request)
        loose = parsed.phrases_as_words() if ranked.total == 0 else None
        if loose is not None:
            # No article has the phrase as typed (a quotation misremembered): its words.
            loose_plan = Planner(reader, names, corrections).plan(loose)
            found, found_complete = self._execute(engine, loose_plan, allowed, request)
            if found.total:
                plan, ranked, complete = loose_plan, found, found_complete
                notices.append("Aucun article ne contient l’expression exacte : "
                               "résultats pour ses mots.")
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
        first = 0 if filled else (request.page - 1) * request.per_page
        page = self._page(searcher, ranked, first, request, plan.match_terms())
        total = len(page) if filled else ranked.total
        if filled and request.page > 1:
            page = ()  # the partial matches fill one page only
        suggestion = None
        if corrections:
            shown = self._display(corrections, searcher, engine)
            notices.append(f"Aucun résultat pour « {parsed.text} » : résultats pour "
                           f"« {_apply(parsed, shown)} ».")
            suggestion = self._suggestion(parsed, shown, total)
        elif suggested:
            shown = self._display(suggested, searcher, engine)
            other = Planner(reader, names, suggested).plan(parsed).query()
            mask, score = self._match(engine, other, allowed)
            count = rank(engine.tables, mask, score, False, request.collapse, 1).total
            if count > total:
                suggestion = self._suggestion(parsed, shown, count)
        if not request.facets:
            facets = {}
        elif filled:  # the result set is this one page
            facets = hit_facets(page)
        else:
            facets = facet_counts(engine.tables, ranked.matches, request.collapse)
        pages = max(1, math.ceil(total / request.per_page)) if total else 0
        return SearchPage(parsed.text, total, request.page, request.per_page, pages,
                          request.sort, _ms(started), page, suggestion, tuple(notices),
                          facets)

    def _match(self, engine: Engine, q: Clause | None, allowed: np.ndarray | None):
        """Return the mask of live, allowed documents matching ``q``, and their scores."""
        mask, score = engine.evaluate(q if q is not None else AllDocuments())
        mask = mask & engine.tables.live
        if allowed is not None:
            mask &= allowed
        return mask, score

    def _execute(self, engine: Engine, plan: Plan, allowed: np.ndarray | None,
                 request: SearchRequest) -> tuple[Ranked, int | None]:
        """Run a plan: the exact sequence first if it has one, then all words, then any.

        Returns the ranking and, when articles with only some of the words had to
        fill the page, how many have all of them.
        """
        by_date = request.sort == "date"

        def ranked(q: Clause | None, limit: int | None = None) -> Ranked:
            mask, score = self._match(engine, q, allowed)
            if not by_date:
                score = rescore(engine, mask, score, plan.proximity)
            want = request.per_page if limit else request.page * request.per_page
            return rank(engine.tables, mask, score, by_date, request.collapse, want, limit)

        if plan.sequence is not None:
            # La Poste: the articles with the exact sequence, if there are any.
            found = ranked(plan.query(strict=True))
            if found.total:
                return found, None
        found = ranked(plan.query())
        if found.total < request.per_page and len(plan.required) > 1 and not plan.long:
            # Fewer articles than a page have every word: those with some follow them,
            # on this one page, ranked from the top of the looser query.
            loose = ranked(plan.query(loose=True), limit=request.per_page + 20)
            if loose.total > found.total:
                return loose, found.total
        return found, None

    def _filters(self, engine: Engine, request: SearchRequest, plan: Plan, planner: Planner,
                 notices: list[str]) -> np.ndarray | None:
        """Return the mask of documents the filters allow, or None for all of them."""
        filters = list(plan.filters)
        for fieldname, value in (("section", request.section), ("source", request.source)):
            if value:
                unknown = Plan()
                filters.append(planner.filter_query(Filter(fieldname, value), unknown))
                notices.extend(unknown.notices)
        allowed = engine.evaluate(MatchAll(tuple(filters)))[0] if filters else None
        if request.date_from or request.date_to:
            dated = engine.tables.day_mask(request.date_from, request.date_to)
            allowed = dated if allowed is None else allowed & dated
        return allowed

    def _page(self, searcher, ranked: Ranked, first: int, request: SearchRequest,
              match: MatchTerms) -> tuple[Hit, ...]:
        hits = []
        last = min(ranked.docs.size, first + request.per_page)
        for i in range(first, last):
            fields = searcher.stored_fields(int(ranked.docs[i]))
            text = schema.full_text(fields.get("lede"), fields.get("body"))
            date = fields.get("date")
            marks = request.highlight
            # Sorted by date, there is no relevance to show.
            score = 0.0 if request.sort == "date" else float(ranked.scores[i])
            hits.append(Hit(
                id=fields["id"], title=fields.get("title", ""),
                title_html=highlight(fields.get("title", ""), match) if marks else "",
                snippet_html=snippet(text, match) if marks else "", url=fields.get("url") or "",
                date=date.date() if date else None, source=fields.get("source") or "",
                section=fields.get("section") or "",
                score=round(score, 4), duplicates=int(ranked.duplicates[i])))
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

    def _display(self, corrections: dict[str, str], searcher, engine: Engine) -> dict[str, str]:
        """Return corrections in their accented form, as the articles write them."""
        return {typed: surface_form(searcher, engine, folded)
                for typed, folded in corrections.items()}

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
        engine = gen.engine()
        return [f"{head} {surface_form(searcher, engine, w, titles_only=True)}".strip()
                for w in completions]

    @_index_errors
    def related(self, article_id: str, limit: int = 5) -> tuple[Hit, ...]:
        """Return articles like this one (more-like-this on the body)."""
        gen = self.generation()
        searcher = gen.searcher()
        docnum = searcher.document_number(id=article_id)
        if docnum is None:
            return ()
        own = searcher.stored_fields(docnum)
        own_key = own.get("title")
        text = schema.full_text(own.get("lede"), own.get("body"))
        found = []
        for hit in searcher.more_like(docnum, "text", text=text, top=limit * 2, numterms=12):
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


def surface_form(searcher, engine: Engine, folded: str, titles_only: bool = False) -> str:
    """Return how the articles write a folded word: ``presidentielle`` -> ``présidentielle``.

    Read from the headlines of three articles with the word, then from their texts.
    """
    places = [("title_exact", ("title",))]
    if not titles_only:
        places.append(("text_exact", ("lede", "body")))
    forms: Counter[str] = Counter()
    for fieldname, names in places:
        ids = engine.term(fieldname, folded)[0]
        for doc in ids[engine.tables.live[ids]][:3].tolist():
            fields = searcher.stored_fields(doc)
            for text in (fields.get(name) or "" for name in names):
                for t in analyze(text, stemmed=False):
                    if t.text == folded:
                        forms[text[t.start:t.end]] += 1
        if any(f[:1].islower() for f in forms):
            break  # a headline's capital may only open the sentence: texts tell
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


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
