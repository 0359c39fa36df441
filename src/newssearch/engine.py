"""Query execution over one index generation: BM25F from posting arrays, with numpy.

Whoosh's matchers walk postings one document at a time through a tree of Python
objects; with five fields, bonuses and facets that cost most of a query's time.
Here each term's postings are read once into arrays, scored per field as Whoosh's
BM25F scores them, and combined as whole-corpus vectors: a query is a few vector
operations, and facets, collapsing and sorting are counts and sorts over arrays.
Word positions (phrases, proximity) are read only for the documents that need them.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date

import numpy as np

from newssearch import postings, schema

BM25_B, BM25_K1 = 0.75, 1.2
TITLE_SHARE_DAMPING = 0.5
COLUMNS = (schema.TITLE_KEY, schema.SECTION, schema.SOURCE, schema.YEAR, schema.DAY)
CACHE_BYTES = 64 * 1024 * 1024


# The query tree ------------------------------------------------------------------------

@dataclass(frozen=True)
class Term:
    """Documents with ``text`` in ``field``, scored by BM25 times ``weight``."""

    field: str
    text: str
    weight: float = 1.0


@dataclass(frozen=True)
class Fields:
    """A word in any of several fields, scored by BM25F.

    The fields' length-normalised frequencies, times their weights, add up before
    saturating: a word in the headline and the body counts once, more strongly,
    not as two separate words.
    """

    terms: tuple[Term, ...]


@dataclass(frozen=True)
class All:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Any:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Without:
    node: Node
    excluded: Node


@dataclass(frozen=True)
class Maybe:
    """Documents of ``node``, with the score of ``bonus`` added where it matches too."""

    node: Node
    bonus: Node


@dataclass(frozen=True)
class Constant:
    """Documents of ``node``, all scored ``score``."""

    node: Node
    score: float


@dataclass(frozen=True)
class Sequence:
    """The words in this order in ``field``, each at most ``slop`` positions after the last.

    Scored as the words' BM25 in that field, times ``weight``.
    """

    field: str
    words: tuple[str, ...]
    slop: int = 1
    weight: float = 1.0


@dataclass(frozen=True)
class Every:
    pass


@dataclass(frozen=True)
class Nothing:
    pass


Node = Term | Fields | All | Any | Without | Maybe | Constant | Sequence | Every | Nothing


# Per-generation tables -----------------------------------------------------------------

class Tables:
    """What every query reads, computed once per index generation: lengths and columns."""

    def __init__(self, reader):
        self.size = reader.doc_count_all()
        self.live = postings.live_documents(reader)
        self.lengths: dict[str, np.ndarray] = {}
        self.average: dict[str, float] = {}
        for field in schema.TEXT_FIELDS:
            self.lengths[field] = postings.field_lengths(reader, field)
            self.average[field] = (reader.field_length(field) / self.size) or 1.0
        # Columns as integer codes into sorted label lists; "" when a document has none.
        self.labels: dict[str, list[str]] = {}
        self.codes: dict[str, np.ndarray] = {}
        for name in COLUMNS:
            values = postings.column(reader, name)
            labels, codes = np.unique(np.array(values, dtype=object), return_inverse=True)
            self.labels[name] = [str(x) for x in labels]
            self.codes[name] = codes.astype(np.int32)
        self.days = np.array([int(d.replace("-", "")) if d else 0
                              for d in self.labels[schema.DAY]],
                             dtype=np.int32)[self.codes[schema.DAY]]
        keys = self.codes[schema.TITLE_KEY]
        shared = np.bincount(keys)[keys]
        self.title_factor = (np.maximum(shared, 1) ** -TITLE_SHARE_DAMPING).astype(np.float32)

    def day_mask(self, start: date | None, end: date | None) -> np.ndarray:
        low = _day_number(start) if start else 1
        high = _day_number(end) if end else 99_999_999
        return (self.days >= low) & (self.days <= high)


def _day_number(day: date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


class PostingCache:
    """Normalised and scored postings of recent terms, shared by a generation's threads."""

    def __init__(self, limit: int = CACHE_BYTES):
        self.limit, self.used = limit, 0
        self._items: OrderedDict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key, value) -> None:
        size = value[0].nbytes + value[1].nbytes + 100
        with self._lock:
            if key in self._items:
                return
            self._items[key] = value
            self.used += size
            while self.used > self.limit and len(self._items) > 1:
                _, (ids, scores) = self._items.popitem(last=False)
                self.used -= ids.nbytes + scores.nbytes + 100


def in_sequence(positions: list[list[int]], slop: int) -> bool:
    """True if each list has a position after the previous word's, at most ``slop`` on."""
    for start in positions[0]:
        at = start
        for following in positions[1:]:
            i = bisect.bisect_right(following, at)
            if i == len(following) or following[i] > at + slop:
                break
            at = following[i]
        else:
            return True
    return False


# Scoring -------------------------------------------------------------------------------

def robertson_idf(documents: int, df: int) -> float:
    """The Robertson-Sparck Jones idf (as Lucene and bm25s), not Whoosh's.

    Whoosh's idf, log(N / (df + 1)) + 1, never falls below 1, so words in nearly
    every article still weigh a lot: long queries then rank by their commonest words.
    """
    return math.log(1 + (documents - df + 0.5) / (df + 0.5))


class Engine:
    """Evaluates query trees for one thread's reader of a generation."""

    def __init__(self, reader, tables: Tables, cache: PostingCache):
        self.reader, self.tables, self.cache = reader, tables, cache
        # A plan reuses clauses (all words, then any of them): each is computed once.
        self._memo: dict[Node, tuple[np.ndarray, np.ndarray]] = {}

    def frequencies(self, field: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Return (document numbers, length-normalised frequencies) of a term in a field."""
        key = ("tf", field, text)
        found = self.cache.get(key)
        if found is None:
            ids, tf = postings.read_postings(self.reader, field, text)
            t = self.tables
            if field in t.lengths:  # not a keyword field (section, source)
                tf = tf / ((1 - BM25_B) + BM25_B * t.lengths[field][ids] / t.average[field])
            found = (ids, tf.astype(np.float32))
            self.cache.put(key, found)
        return found

    def title_damped(self, field: str, ids: np.ndarray, values: np.ndarray) -> np.ndarray:
        """A title many documents share names none of them: weigh it down."""
        return values * self.tables.title_factor[ids] if field in schema.TITLE_FIELDS else values

    def term(self, field: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Return (document numbers, BM25 scores) of a term in one field."""
        key = ("bm25", field, text)
        found = self.cache.get(key)
        if found is None:
            ids, tf = self.frequencies(field, text)
            if field in self.tables.lengths:
                idf = robertson_idf(self.tables.size, len(ids))
                scores = self.title_damped(field, ids, idf * tf * (BM25_K1 + 1) / (tf + BM25_K1))
            else:  # a keyword field: matches, scores nothing
                scores = np.zeros(len(ids), dtype=np.float32)
            found = (ids, scores.astype(np.float32))
            self.cache.put(key, found)
        return found

    def fields(self, node: Fields) -> tuple[np.ndarray, np.ndarray]:
        size = self.tables.size
        tf = np.zeros(size, dtype=np.float32)
        mask = np.zeros(size, dtype=bool)
        for term in node.terms:
            ids, freqs = self.frequencies(term.field, term.text)
            tf[ids] += term.weight * self.title_damped(term.field, ids, freqs)
            mask[ids] = True
        idf = robertson_idf(size, int(np.count_nonzero(mask)))
        return mask, (idf * tf * (BM25_K1 + 1) / (tf + BM25_K1)).astype(np.float32)

    def evaluate(self, node: Node) -> tuple[np.ndarray, np.ndarray]:
        """Return (mask of matching documents, scores) over the whole generation.

        The arrays are shared with later calls: callers must not change them.
        """
        found = self._memo.get(node)
        if found is None:
            found = self._memo[node] = self._evaluate(node)
        return found

    def _evaluate(self, node: Node) -> tuple[np.ndarray, np.ndarray]:
        size = self.tables.size
        if isinstance(node, Term):
            ids, scores = self.term(node.field, node.text)
            mask = np.zeros(size, dtype=bool)
            mask[ids] = True
            score = np.zeros(size, dtype=np.float32)
            score[ids] = scores * node.weight
            return mask, score
        if isinstance(node, Fields):
            return self.fields(node)
        if isinstance(node, All | Any):
            if not node.children:
                return self.evaluate(Nothing())
            mask, score = self.evaluate(node.children[0])
            combine = np.logical_and if isinstance(node, All) else np.logical_or
            for child in node.children[1:]:
                m, s = self.evaluate(child)
                mask = combine(mask, m)
                score = score + s
            return mask, score
        if isinstance(node, Without):
            mask, score = self.evaluate(node.node)
            return mask & ~self.evaluate(node.excluded)[0], score
        if isinstance(node, Maybe):
            mask, score = self.evaluate(node.node)
            m, s = self.evaluate(node.bonus)
            return mask, score + np.where(m, s, 0)
        if isinstance(node, Constant):
            mask, _ = self.evaluate(node.node)
            return mask, np.where(mask, np.float32(node.score), np.float32(0))
        if isinstance(node, Sequence):
            return self.sequence(node)
        if isinstance(node, Every):
            return self.tables.live.copy(), np.zeros(size, dtype=np.float32)
        return np.zeros(size, dtype=bool), np.zeros(size, dtype=np.float32)

    def sequence(self, node: Sequence, among: np.ndarray | None = None):
        """Documents (of ``among`` if given) with the words in sequence, and their score."""
        size = self.tables.size
        mask = np.ones(size, dtype=bool) if among is None else among.copy()
        score = np.zeros(size, dtype=np.float32)
        for word in node.words:
            ids, scores = self.term(node.field, word)
            has = np.zeros(size, dtype=bool)
            has[ids] = True
            mask &= has
            score[ids] += scores
        candidates = np.flatnonzero(mask)
        if len(node.words) > 1 and candidates.size:
            positions = [postings.read_positions(self.reader, node.field, w, candidates)
                         for w in node.words]
            for doc in candidates.tolist():
                lists = [p.get(doc) for p in positions]
                if not all(lists) or not in_sequence(lists, node.slop):
                    mask[doc] = False
        return mask, np.where(mask, score * node.weight, np.float32(0))
