"""The embedded backend: one index directory of Whoosh generations, queried with numpy.

A generation is opened once per process and shared by its threads, each with
its own Whoosh searcher; what every query reads (lengths, columns, vocabulary,
facet names) is computed once per generation. A snapshot is one request's view.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import weakref
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
from whoosh import index as whoosh_index

from newssearch import columns, notices, postings, schema, store
from newssearch.analysis import analyze
from newssearch.articles import Article
from newssearch.query.bm25 import idf
from newssearch.query.execute import Engine, PostingCache, Tables, dense
from newssearch.query.rank import Counts, Ranked, facets
from newssearch.query.select import Allowed, select_and_rank
from newssearch.query.tree import BM25F, AllDocuments, Clause, InOrder, MatchAll, MatchAny, Term
from newssearch.records import IndexInfo
from newssearch.spelling import Vocabulary, written_form

# More like this: the article's words that say most about it, as Whoosh's more_like takes.
RELATED_TERMS = 12

# A directory's modification time is trusted once it is this old: the kernel takes
# it from a coarse clock, so a change in the same tick could leave the same time.
SETTLED_NS = 1_000_000_000


class Generation:
    """One opened index generation and what is computed once per generation."""

    def __init__(self, ix, path: Path, toc: int, segments: postings.SegmentArrays):
        self.ix, self.path, self.toc = ix, path, toc
        self.segments = segments
        self._mtime: int | None = None
        self._lock = threading.Lock()
        self._vocabulary: Vocabulary | None = None
        self._facet_names: dict[str, dict[str, list[str]]] | None = None
        self._tables: Tables | None = None
        self.cache = PostingCache()
        self._local = threading.local()
        self._searchers: list = []
        # Close this generation's searchers once no request holds it any more.
        weakref.finalize(self, _close_all, self._searchers)

    def moved_on(self) -> bool:
        """Whether a commit into this generation's directory changed Whoosh's TOC.

        Listing the directory for the newest TOC took 0.1 to 0.4 ms a request (more
        segments, more files); a directory whose time has not changed since a settled
        time was seen has no new TOC.
        """
        mtime = os.stat(self.path).st_mtime_ns
        if mtime == self._mtime and time.time_ns() - mtime > SETTLED_NS:
            return False
        moved = self.ix.latest_generation() != self.toc
        self._mtime = mtime
        return moved

    def warm_up(self) -> None:
        """Compute the per-generation caches now rather than in the first request."""
        self.tables()
        self.facet_names()
        self.vocabulary()

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

    def tables(self) -> Tables:
        with self._lock:
            if self._tables is None:
                reader = self.searcher().reader()
                self._tables = Tables(reader, self.segments)
                self.segments.keep(reader)
        return self._tables

    def vocabulary(self) -> Vocabulary:
        with self._lock:
            if self._vocabulary is None:
                self._vocabulary = Vocabulary(columns.document_frequencies(
                    self.searcher().reader(), schema.EXACT_FIELDS, self.segments))
        return self._vocabulary

    def facet_names(self) -> dict[str, dict[str, list[str]]]:
        """Map folded section and source names onto the names as written."""
        with self._lock:
            if self._facet_names is None:
                reader = self.searcher().reader()
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


class WhooshIndex:
    """An index directory, followed across rebuilds and updates without a restart."""

    def __init__(self, index_dir: Path):
        self.index_dir = Path(index_dir)
        self._lock = threading.Lock()
        self._generation: Generation | None = None
        self._segments = postings.SegmentArrays()

    def snapshot(self) -> WhooshSnapshot:
        try:
            return WhooshSnapshot(self._live())
        except store.IndexUnavailable:
            raise
        except Exception as e:  # the files went away or were damaged while serving
            raise store.unreadable(self.index_dir, e) from e

    def warm_up(self) -> None:
        with contextlib.suppress(store.IndexUnavailable):
            self.snapshot().generation.warm_up()

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Report files that vanished or broke under a request as an unavailable index."""
        try:
            yield
        except store.IndexUnavailable:
            raise
        except (OSError, EOFError, whoosh_index.IndexError) as e:
            raise store.unreadable(self.index_dir, e) from e

    def _live(self) -> Generation:
        path = store.current_generation(self.index_dir)
        gen = self._generation
        if gen is not None and gen.path == path and not gen.moved_on():
            return gen
        with self._lock:
            gen = self._generation
            if gen is None or gen.path != path:
                ix, path, _ = postings.open_index(self.index_dir)
                gen = Generation(ix, path, ix.latest_generation(), self._segments)
            elif gen.toc != gen.ix.latest_generation():
                gen = Generation(gen.ix, gen.path, gen.ix.latest_generation(), self._segments)
            # The previous generation is not closed: a request may still be reading it.
            self._generation = gen
        return gen


class WhooshSnapshot:
    """One request's view of a generation: its thread's searcher and a memoising engine."""

    def __init__(self, generation: Generation):
        self.generation = generation
        self.searcher = generation.searcher()
        self.reader = self.searcher.reader()
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = Engine(self.reader, self.generation.tables(), self.generation.cache)
        return self._engine

    def info(self) -> IndexInfo:
        try:
            meta = store.IndexMeta.read(self.generation.path)
            # Not ix.doc_count(): Whoosh opens (and reads) a whole new reader for it.
            return IndexInfo(self.searcher.doc_count(), meta.schema_version, meta.built_at)
        except Exception as e:
            raise store.unreadable(self.generation.path.parent, e) from e

    def expand_prefix(self, field: str, prefix: str) -> Iterable[str]:
        for term in self.reader.expand_prefix(field, prefix):
            yield term.decode("utf-8") if isinstance(term, bytes) else term

    def facet_values(self, field: str, key: str) -> list[str]:
        return self.generation.facet_names().get(field, {}).get(key, [])

    def doc_frequency(self, field: str, word: str) -> int:
        return postings.doc_frequency(self.reader, field, word, self.engine.tables.arrays)

    def vocabulary(self) -> Vocabulary:
        return self.generation.vocabulary()

    def allowed(self, filters: Sequence[Clause], date_from: date | None,
                date_to: date | None, facets: Mapping[str, Clause] | None = None
                ) -> Allowed | None:
        size = self.engine.tables.size
        allowed = None
        if filters:
            allowed = dense(size, self.engine.evaluate(MatchAll(tuple(filters)))[0])
        if date_from or date_to:
            dated = self.engine.tables.day_mask(date_from, date_to)
            allowed = dated if allowed is None else allowed & dated
        chosen = {name: dense(size, self.engine.evaluate(c)[0])
                  for name, c in (facets or {}).items()}
        return Allowed(allowed, chosen) if allowed is not None or chosen else None

    def rank(self, clause: Clause | None, allowed: Allowed | np.ndarray | None, *,
             by_date: bool, collapse: bool, want: int, limit: int | None = None,
             proximity: Sequence[InOrder] = (), ascending: bool = False) -> Ranked:
        ids, scores = self.engine.evaluate(clause if clause is not None else AllDocuments())
        ranked = select_and_rank(self.engine, ids, scores, allowed, by_date=by_date,
                                 collapse=collapse, want=want, limit=limit,
                                 proximity=proximity, ascending=ascending)
        if self.engine.unchecked:
            ranked = replace(ranked, notices=(notices.unchecked(self.engine.unchecked),))
        return ranked

    def facets(self, ranked: Ranked, collapse: bool) -> Counts:
        return facets(self.engine.tables, ranked, collapse)

    def stored(self, doc: object) -> Article:
        return schema.stored_article(self.searcher.stored_fields(int(doc)))  # type: ignore

    def article(self, article_id: str) -> Article | None:
        fields = self.searcher.document(**{schema.ID: article_id})
        return schema.stored_article(fields) if fields is not None else None

    def cooccurrences(self, word: str, candidates: Sequence[str]) -> list[int]:
        """How many live articles have both ``word`` and each candidate (folded forms)."""
        engine, tables = self.engine, self.engine.tables
        with_word = np.zeros(tables.size, dtype=bool)
        for fieldname in schema.EXACT_FIELDS:
            with_word[engine.term(fieldname, word)[0]] = True
        with_word &= tables.live
        counts = []
        for candidate in candidates:
            ids = np.union1d(*(engine.term(f, candidate)[0] for f in schema.EXACT_FIELDS))
            counts.append(int(np.count_nonzero(with_word[ids])))
        return counts

    def surface_form(self, folded: str, titles_only: bool = False) -> str:
        """Read from the headlines of three articles with the word, then from their texts."""
        places = [(schema.TITLE_EXACT, (schema.TITLE,))]
        if not titles_only:
            places.append((schema.TEXT_EXACT, (schema.LEDE, schema.BODY)))
        engine = self.engine

        def texts(fieldname: str, names: tuple[str, ...]) -> Iterator[str]:
            ids = engine.term(fieldname, folded)[0]
            for doc in ids[engine.tables.live[ids]][:3].tolist():
                fields = self.searcher.stored_fields(doc)
                yield from (fields.get(name) or "" for name in names)

        return written_form(folded, (texts(f, names) for f, names in places))

    def related(self, article_id: str, limit: int) -> list[tuple[Article, float]]:
        """More like this on the engine: the article's most telling words, any of them.

        Its republished copies share its headline key and are left out, as collapsing
        leaves them out of a result page.
        """
        docnum = self.searcher.document_number(**{schema.ID: article_id})
        if docnum is None:
            return []
        own = self.stored(docnum)
        words = Counter(t.text for t in analyze(f"{own.title}\n{own.lede}\n{own.body}"))
        size = self.engine.tables.size
        # Words it shares with no other article relate it to nothing; rare shared ones most.
        # (A word's frequency in headlines plus texts: its own headline and text count twice.)
        telling = sorted(((n * idf(size, df), w) for w, n in words.items()
                          if (df := sum(self.doc_frequency(f, w) for f in schema.STEMMED_FIELDS))
                          > 1), reverse=True)[:RELATED_TERMS]
        if not telling:
            return []
        top = telling[0][0]
        query = MatchAny(tuple(
            BM25F((Term(schema.TITLE, w, 2.0 * weight / top), Term(schema.TEXT, w, weight / top)))
            for weight, w in telling))
        keys = self.engine.tables.codes[schema.TITLE_KEY]
        others = keys != keys[docnum]
        ranked = self.rank(query, others, by_date=False, collapse=True, want=limit)
        return [(self.stored(doc), float(score))
                for doc, score in zip(ranked.docs[:limit], ranked.scores[:limit], strict=True)]

