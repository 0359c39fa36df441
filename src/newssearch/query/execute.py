"""Query execution over one index generation: BM25F from posting arrays, with numpy.

Whoosh's matchers walk postings one document at a time through a tree of Python
objects; with five fields, bonuses and facets that cost most of a query's time.
Here each term's postings are read once into arrays, scored per field as Whoosh's
BM25F scores them, and combined as sorted document lists with their scores
(intersections, unions), so a query costs what its postings hold, not the archive's
size; facets, collapsing and sorting are counts and sorts over the matches.
Word positions (phrases, proximity) are read only for the documents that need them.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from datetime import date

import numpy as np

from newssearch import columns, postings, schema
from newssearch.query import bm25
from newssearch.query.tree import (
    BM25F,
    AllDocuments,
    Clause,
    ConstantScore,
    InOrder,
    MatchAll,
    MatchAny,
    Term,
    WithBonus,
    Without,
)

TITLE_SHARE_DAMPING = 0.5
COLUMNS = (schema.SECTION, schema.SOURCE, schema.YEAR, schema.DAY)  # with their labels
CACHE_BYTES = 64 * 1024 * 1024
# A request decodes at most about this many posting blocks to read word positions for
# phrases and sequences: « de la » or « le la les de des » occur in nearly every article,
# and checking them everywhere costs in proportion to the archive. Beyond it, only the
# most recently indexed candidates are checked (blocks hold neighbouring documents, so
# the cost stays bounded), and the page says so.
POSITION_BUDGET = 300
BLOCK = 128  # documents per posting block (Whoosh's W3Codec blocklimit)
# Scores of postings at least 1/DENSE_SHARE of the archive's size add up in an array
# over it; a union of postings from 1/UNION_SHARE is made with a mask over it (a byte per
# document: ×10, 3,000 ids took 0.06 ms that way and 0.5 ms sorted; ×30, even at 3,000).
DENSE_SHARE = 32
UNION_SHARE = 256


class Tables:
    """What every query reads, computed once per index generation: lengths and columns."""

    def __init__(self, reader, segments: postings.SegmentArrays | None = None):
        segments = segments if segments is not None else postings.SegmentArrays()
        self.size = reader.doc_count_all()
        self.live = columns.live_documents(reader)
        self.live_ids = np.flatnonzero(self.live).astype(np.int32)
        self.arrays = postings.segment_postings(reader, segments)
        self.lengths: dict[str, np.ndarray] = {}
        self.average: dict[str, float] = {}
        for field in schema.TEXT_FIELDS:
            self.lengths[field] = columns.field_lengths(reader, field, segments)
            self.average[field] = (reader.field_length(field) / self.size) or 1.0
        # Columns as integer codes into sorted label lists; "" when a document has none.
        self.labels: dict[str, list[str]] = {}
        self.codes: dict[str, np.ndarray] = {}
        for name in COLUMNS:
            self.labels[name], self.codes[name] = columns.column_codes(reader, name, segments)
        # The headline key's labels are never shown: only which articles share one.
        self.codes[schema.TITLE_KEY] = columns.key_codes(reader, schema.TITLE_KEY, segments)
        self.days = np.array([int(d.replace("-", "")) if d else 0
                              for d in self.labels[schema.DAY]],
                             dtype=np.int32)[self.codes[schema.DAY]]
        # Months as codes for the timeline: 0 undated, then 1 for January of the first year.
        dated = self.days[self.days > 0]
        self.first_year = int(dated.min()) // 10_000 if dated.size else 0
        self.months = np.where(self.days > 0, (self.days // 10_000 - self.first_year) * 12
                               + self.days // 100 % 100, 0).astype(np.int32)
        self.months_count = int(self.months.max()) + 1 if self.size else 1
        keys = self.codes[schema.TITLE_KEY]
        copies = np.bincount(keys)
        self.title_keys = copies.size  # headline keys are numbered 0 to title_keys - 1
        shared = copies[keys]
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


def in_sequence_docs(keys: list[np.ndarray], slop: int) -> np.ndarray:
    """The documents where each word follows the previous one by at most ``slop`` positions.

    ``keys`` holds each word's occurrences as sorted ``doc << 32 | position``: for each
    occurrence of the next word, the nearest earlier end of a chain decides.
    """
    ends = keys[0]
    for following in keys[1:]:
        if not ends.size:
            break
        nearest = np.searchsorted(ends, following - 1, side="right") - 1
        ok = nearest >= 0
        ok[ok] = following[ok] - ends[nearest[ok]] <= slop
        ends = following[ok]
    return np.unique(ends >> 32).astype(np.int32)


class Engine:
    """Evaluates query trees for one thread's reader of a generation."""

    def __init__(self, reader, tables: Tables, cache: PostingCache):
        self.reader, self.tables, self.cache = reader, tables, cache
        # A plan reuses clauses (all words, then any of them): each is computed once.
        self._memo: dict[object, Matches] = {}
        self.budget = POSITION_BUDGET
        self.unchecked = 0  # candidates of sequences the budget left unchecked

    def frequencies(self, field: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Return (document numbers, length-normalised frequencies) of a term in a field."""
        key = ("tf", field, text)
        found = self.cache.get(key)
        if found is None:
            ids, tf = postings.read_postings(self.reader, field, text, self.tables.arrays)
            found = (ids, self._normalised(field, ids, tf))
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
            found = (ids, self._scores(field, ids, tf, len(ids)))
            self.cache.put(key, found)
        return found

    def bm25f(self, node: BM25F) -> Matches:
        ids, tf = added([(ids, term.weight * self.title_damped(term.field, ids, freqs))
                         for term in node.terms
                         for ids, freqs in (self.frequencies(term.field, term.text),)],
                        self.tables.size)
        idf = bm25.idf(self.tables.size, int(ids.size))
        return ids, (idf * bm25.saturated(tf)).astype(np.float32)

    def evaluate(self, node: Clause) -> Matches:
        """Return the (sorted document numbers, scores) of the documents matching ``node``.

        Deleted documents may be among them: ranking leaves them out. The arrays are
        shared with later calls: callers must not change them.
        """
        found = self._memo.get(node)
        if found is None:
            found = self._memo[node] = self._evaluate(node)
        return found

    def _evaluate(self, node: Clause) -> Matches:
        # Every operation costs in proportion to the postings it combines, never to the
        # whole archive: intersections look the smaller list up in the larger.
        if isinstance(node, Term):
            ids, scores = self.term(node.field, node.text)
            return ids, scores * np.float32(node.weight) if node.weight != 1 else scores
        if isinstance(node, BM25F):
            return self.bm25f(node)
        if isinstance(node, MatchAll | MatchAny):
            if not node.children:
                return NOTHING
            if isinstance(node, MatchAny):
                return self._any(node, [self.evaluate(child) for child in node.children])
            # The words' documents first, then the scores of those having every word.
            smallest, *others = sorted((self._ids_of(c) for c in node.children), key=len)
            ids = smallest
            for got in others:
                ids = ids[contains(got, ids)]
            score = np.zeros(ids.size, dtype=np.float32)
            for child in node.children:  # in the children's order, as float32
                score += self._scores_at(child, ids)
            return ids, score
        if isinstance(node, Without):
            ids, score = self.evaluate(node.node)
            keep = ~contains(self.evaluate(node.excluded)[0], ids)
            return ids[keep], score[keep]
        if isinstance(node, WithBonus):
            ids, score = self.evaluate(node.node)
            got, bonus = self.at(node.bonus, ids)
            score = score.copy()
            score[np.searchsorted(ids, got)] += bonus
            return ids, score
        if isinstance(node, ConstantScore):
            ids, _ = self.evaluate(node.node)
            return ids, np.full(ids.size, node.score, dtype=np.float32)
        if isinstance(node, InOrder):
            return self.in_order(node)
        if isinstance(node, AllDocuments):
            ids = self.tables.live_ids
            return ids, np.zeros(ids.size, dtype=np.float32)
        return NOTHING

    def _ids_of(self, node: Clause) -> np.ndarray:
        """The documents matching ``node``: for a word (BM25F), without scoring them."""
        if isinstance(node, BM25F) and node not in self._memo:
            key = ("ids", node)
            found = self._memo.get(key)
            if found is None:
                found = self._memo[key] = union(
                    [self._ids(t.field, t.text) for t in node.terms], self.tables.size)
            return found
        return self.evaluate(node)[0]

    def _scores_at(self, node: Clause, wanted: np.ndarray) -> np.ndarray:
        """The scores evaluate(node) gives the sorted documents ``wanted``, which match it."""
        if isinstance(node, BM25F) and node not in self._memo:
            return self._bm25f_at(node, wanted)
        ids, scores = self.evaluate(node)
        return scores[np.searchsorted(ids, wanted)]

    def _bm25f_at(self, node: BM25F, wanted: np.ndarray) -> np.ndarray:
        """bm25f()'s scores, computed for the documents ``wanted`` alone."""
        parts = []
        for term in node.terms:
            here = wanted[contains(self._ids(term.field, term.text), wanted)]
            freqs = self._frequencies_at(term.field, term.text, here)
            parts.append((here, term.weight * self.title_damped(term.field, here, freqs)))
        _, tf = added(parts, self.tables.size)
        idf = bm25.idf(self.tables.size, int(self._ids_of(node).size))
        return (idf * bm25.saturated(tf)).astype(np.float32)

    def _frequencies_at(self, field: str, text: str, wanted: np.ndarray) -> np.ndarray:
        """frequencies()'s values for the documents ``wanted`` (which hold the term)."""
        cached = self.cache.get(("tf", field, text))
        if cached is not None:
            return cached[1][np.searchsorted(cached[0], wanted)]
        ids, tf = self._postings(field, text)
        return self._normalised(field, wanted, tf[np.searchsorted(ids, wanted)])

    def at(self, node: Clause, among: np.ndarray) -> Matches:
        """evaluate(node) for the sorted documents ``among`` alone, with the same scores.

        A bonus counts only where the query matches: its terms (the exact forms of
        every word) are scored for those documents, not over all their postings.
        """
        if isinstance(node, Term):
            ids = self._ids(node.field, node.text)
            wanted = among[contains(ids, among)]
            scores = self.term_at(node.field, node.text, wanted)
            return wanted, scores * np.float32(node.weight) if node.weight != 1 else scores
        if isinstance(node, MatchAny) and node.children \
                and all(isinstance(c, Term) for c in node.children):  # _any's one union
            return added([self.at(c, among) for c in node.children], self.tables.size)
        ids, scores = self.evaluate(node)
        keep = contains(among, ids)
        return ids[keep], scores[keep]

    def _any(self, node: MatchAny, found: list[Matches]) -> Matches:
        """The documents matching any child, each scored by the children's supports.

        A child that does not match a document may still score in it: the parts of a
        hyphenated word (``ouest`` of ``ouest-africaine``) count where only some occur.
        """
        supports = [self.support(c) for c in node.children]
        support, scores = added(supports, self.tables.size)
        if all(s is f for s, f in zip(supports, found, strict=True)):
            return support, scores  # every child scores only where it matches: one union
        ids = added(found, self.tables.size)[0]
        return ids, scores[np.searchsorted(support, ids)]

    def support(self, node: Clause) -> Matches:
        """The documents where ``node`` scores, matching or not, and those scores.

        The sum of the children's scores for MatchAll and MatchAny, the node's for
        Without, the node's plus the bonus's for WithBonus; else the matches' own.
        """
        key = ("support", node)
        found = self._memo.get(key)
        if found is None:
            if isinstance(node, MatchAll | MatchAny) and node.children:
                found = added([self.support(c) for c in node.children], self.tables.size)
            elif isinstance(node, Without):
                found = self.support(node.node)
            elif isinstance(node, WithBonus):
                found = added([self.support(node.node), self.evaluate(node.bonus)],
                              self.tables.size)
            else:
                found = self.evaluate(node)
            self._memo[key] = found
        return found

    def in_order(self, node: InOrder, among: np.ndarray | None = None) -> Matches:
        """Documents (of the sorted ``among`` if given) with the words in sequence; their score.

        Only the documents that keep the words in sequence are scored: a sequence of
        common words has candidates in most of the archive, and most fail the budget
        or their positions.
        """
        found = [self._ids(node.field, word) for word in node.words]
        ids = among if among is not None else min(found, key=lambda f: f.size)
        for got in sorted(found, key=lambda f: f.size):
            ids = ids[contains(got, ids)]
        if len(node.words) > 1 and among is None:
            ids = self._within_budget(ids, found)
        if len(node.words) > 1 and ids.size:
            keep = contains(in_sequence_docs(
                [postings.position_keys(self.reader, node.field, w, ids, self.tables.arrays)
                 for w in node.words],
                node.slop), ids)
            ids = ids[keep]
        score = np.zeros(ids.size, dtype=np.float32)
        for word in node.words:
            score += self.term_at(node.field, word, ids)
        return ids, score * np.float32(node.weight)

    def _ids(self, field: str, text: str) -> np.ndarray:
        """A term's document numbers: term()'s if it has them, else read."""
        cached = self.cache.get(("bm25", field, text)) or self.cache.get(("tf", field, text))
        return cached[0] if cached is not None else self._postings(field, text)[0]

    def _postings(self, field: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        """A term's document numbers and raw frequencies, read once per request."""
        key = ("postings", field, text)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = postings.read_postings(self.reader, field, text,
                                                             self.tables.arrays)
        return found

    def term_at(self, field: str, text: str, wanted: np.ndarray) -> np.ndarray:
        """The BM25 scores term() gives the documents ``wanted`` (which hold the term),
        computed for them alone unless term() has already scored the whole list."""
        cached = self.cache.get(("bm25", field, text))
        if cached is not None:
            return cached[1][np.searchsorted(cached[0], wanted)]
        tf = self._frequencies_at(field, text, wanted)
        return self._scores(field, wanted, tf, len(self._ids(field, text)))

    def _normalised(self, field: str, ids: np.ndarray, tf: np.ndarray) -> np.ndarray:
        """Frequencies normalised by the documents' lengths (as float32), for frequencies()."""
        t = self.tables
        if field in t.lengths:  # not a keyword field (section, source)
            tf = bm25.normalised(tf, t.lengths[field][ids], t.average[field])
        return tf.astype(np.float32)

    def _scores(self, field: str, ids: np.ndarray, tf: np.ndarray, df: int) -> np.ndarray:
        """BM25 scores of normalised frequencies of a term held by ``df`` documents."""
        if field not in self.tables.lengths:  # a keyword field: matches, scores nothing
            return np.zeros(len(ids), dtype=np.float32)
        idf = bm25.idf(self.tables.size, df)
        return self.title_damped(field, ids, idf * bm25.saturated(tf)).astype(np.float32)

    def _within_budget(self, ids: np.ndarray, found: list[np.ndarray]) -> np.ndarray:
        """The candidates whose positions the request can still afford to read.

        A word's positions cost a block per candidate, at most its whole posting list
        (the matching itself is vectorised); over the budget, the candidates of the last
        indexed share of the archive are kept.
        """
        blocks = sum(min(ids.size, -(-got.size // BLOCK)) for got in found)
        if blocks <= self.budget:
            self.budget -= blocks
            return ids
        start = self.tables.size - int(self.tables.size * self.budget / blocks)
        self.budget = 0
        keep = ids >= start
        self.unchecked += int(ids.size - np.count_nonzero(keep))
        return ids[keep]


Matches = tuple[np.ndarray, np.ndarray]
NOTHING: Matches = (np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32))


def contains(sorted_ids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Which of ``wanted`` are in ``sorted_ids`` (both sorted, unique): a boolean per wanted.

    Many wanted go through a mask of the ids (up to the last): a binary search for each
    of 300,000 in 300,000 took 6.6 ms, the mask 1.4 (the stop words at ×10 test eight).
    """
    if not sorted_ids.size or not wanted.size:
        return np.zeros(wanted.size, dtype=bool)
    last = int(sorted_ids[-1])
    if wanted.size * math.log2(sorted_ids.size + 1) > 2 * sorted_ids.size + last / 2:
        return dense(last + 2, sorted_ids)[np.minimum(wanted, last + 1)]
    where = np.searchsorted(sorted_ids, wanted)
    where[where == sorted_ids.size] = 0
    return sorted_ids[where] == wanted


def added(parts: list[Matches], size: int) -> Matches:
    """The documents in any of the parts, each with the sum of its scores in them.

    The scores add up in the parts' order, in float32, whichever way the union is
    made (union()).
    """
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return NOTHING
    lists = [got for got, _ in parts]
    ids, masked = union(lists, size), _through_mask(lists, size)
    sums = np.zeros(size if masked else ids.size, dtype=np.float32)
    for got, scores in parts:
        sums[got if masked else np.searchsorted(ids, got)] += scores
    return ids, sums[ids] if masked else sums


def union(parts: list[np.ndarray], size: int) -> np.ndarray:
    """The documents in any of the parts (sorted lists): a union holding a large share of
    the archive goes through a mask over it (cheaper than sorting), a smaller one through
    a sort of the lists."""
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return NOTHING[0]
    if _through_mask(parts, size, UNION_SHARE):
        mask = np.zeros(size, dtype=bool)
        for ids in parts:
            mask[ids] = True
        return np.flatnonzero(mask).astype(np.int32)
    return np.unique(np.concatenate(parts))


def _through_mask(parts: list[np.ndarray], size: int, share: int = DENSE_SHARE) -> bool:
    """Whether these lists hold at least 1/share of the archive: then they are combined
    in an array over it (scores from 1/DENSE_SHARE, a union from 1/UNION_SHARE)."""
    return sum(ids.size for ids in parts) * share >= size


def dense(size: int, ids: np.ndarray) -> np.ndarray:
    """A mask over every document with ``ids`` set (filters read it per match)."""
    mask = np.zeros(size, dtype=bool)
    mask[ids] = True
    return mask
