"""Writing Whoosh segments fast: postings sorted in memory, and segments built in parallel.

A profile of a full build showed Whoosh's posting pool spilling sorted runs to
disk (one pickle per posting, written, read back and merged) taking about a
third of the time, and everything else being per-posting work that one core does
alone. So each writer keeps its postings in memory and writes a segment when
they reach a memory limit, and each worker process writes segments of its own,
which the parent then lists in the index's table of contents, as Whoosh's own
multi-segment writer does. This relies on SegmentWriter internals, which is why
Whoosh-Reloaded is pinned to one exact version (2.7.5, checked at import). Every
write-side use of Whoosh's internals is here; what each mirrors, so that an
upgrade is a diff of those:

- ``FastSegmentWriter``: ``whoosh.writing.SegmentWriter.__init__`` and
  ``_flush_segment`` (``perdocwriter``, ``fieldwriter``, ``pool``, ``docnum``,
  ``newsegment``, whose ``create_file`` also writes the derived postarrays file,
  and ``perdocwriter.add_column_value``, whose values it also gets);
- ``UniqueSegments``: ``whoosh.codec.whoosh3.W3Codec.new_segment`` and
  ``W3Segment._random_id``;
- ``TermPool``: ``whoosh.writing.PostingPool`` (``add``, ``iter_postings``,
  ``cleanup``, ``currentsize``);
- ``write_postings``: ``whoosh.codec.base.FieldWriter.add_postings`` and
  ``whoosh.codec.whoosh3.W3PostingsWriter._write_block``, ``_mini_weights`` and
  ``W3TermInfo.add_block`` (``_terminfo``, ``_postfile``, ``_blocklimit``,
  ``_blockcount``, and the term info's ``_weight``, ``_df``, ``_minlength``,
  ``_maxlength``, ``_maxweight``, ``_minid``, ``_maxid``);
- ``_write_hashes``: ``whoosh.filedb.filetables.HashWriter._write_hashes``
  (``buckets``, ``directory``, ``dbfile``, and its ``_pointer`` slots);
- ``merge_tiers``: ``whoosh.writing.MERGE_SMALL``;
- ``write_all``: ``whoosh.multiproc.MpWriter._commit`` (``_close_segment``,
  ``_commit_toc``, ``_finish``, ``_finalize_segment``).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import itertools
import pickle
import secrets
import zlib
from array import array
from collections.abc import Callable, Iterator, Sequence

import numpy as np
from whoosh.analysis import IDTokenizer
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3Codec, W3Segment, W3TermInfo
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.filetables import _lengths as _KEY_VALUE_LENGTHS
from whoosh.formats import Existence
from whoosh.reading import SegmentReader
from whoosh.system import _INT_SIZE, pack_int, pack_long, pack_ushort
from whoosh.util import IDCHARS
from whoosh.util.numeric import length_to_byte
from whoosh.writing import SegmentWriter

from newssearch import postarrays, workers
from newssearch.analysis import FrenchPositions
from newssearch.schema import require_whoosh

require_whoosh()

Documents = Callable[[int, int], Iterator[dict]]
"""documents(start, stop) yields the Whoosh documents of items start to stop."""

# Postings stay in memory until a segment is written: Whoosh's own spilling to
# sorted runs on disk cost a third of the build time.
NO_SPILL_MB = 1 << 20
# Posting blocks of this many pickled bytes or more are compressed. At 5,000 articles
# those blocks held 19.6 of the 26.0 MB and shrank to 10.5 MB; compressing every block
# saved 0.4 MB more for over twice the time (1.75 s against 0.74 s). Level 1: level 6
# saved 3 % more for a third more time.
COMPRESS_FROM = 256
ZLIB_LEVEL = 1
# Postings per Whoosh block (Whoosh's own writer: 128). Queries read the arrays file, not
# these blocks, so they need not be small for skipping: larger ones compress better and
# write faster.
BLOCK_LIMIT = 1024
# Terms with this many postings or fewer (at ×10, 2.4 of the 3.2 million terms) have them
# in the term table, as Whoosh's term infos allow, rather than a block of their own:
# a block's header, statistics and pointer took about 40 bytes more.
INLINE_LIMIT = 4


class FastSegmentWriter(SegmentWriter):
    """A SegmentWriter that keeps postings in memory and writes them with less overhead.

    Segments are left as separate files rather than one compound file: opening a
    searcher copies every part of a compound file out of its memory map, which cost
    a search on the full news corpus about half a second. Large posting blocks are
    zlib-compressed (see _write_blocks).

    Whoosh adds and writes each posting through several method calls, type
    assertions and a field-length lookup that reads back the length column it has
    just written. Here a document's postings in a field go to the pool at once, the
    lengths are remembered as documents are added, and a term's posting blocks are
    written together (see _write_blocks). Whoosh reads the files as its own.
    """

    def __init__(self, ix):
        super().__init__(ix, _lk=False, limitmb=NO_SPILL_MB, compound=False,
                         codec=UniqueSegments(W3Codec(blocklimit=BLOCK_LIMIT, compression=0)))
        self.pool = TermPool()
        self.lengths: dict[str, dict[int, int]] = {}
        add_field = self.perdocwriter.add_field

        def remember(fieldname, fieldobj, value, length) -> None:
            if length:
                self.lengths.setdefault(fieldname, {})[self.docnum] = length
            add_field(fieldname, fieldobj, value, length)

        self.perdocwriter.add_field = remember
        # The sortable columns' values, for the postarrays file's tables.
        self.columns: dict[str, dict[int, bytes]] = {}
        add_column_value = self.perdocwriter.add_column_value

        def remember_value(fieldname, columnobj, value) -> None:
            if fieldname in postarrays.COLUMNS:
                self.columns.setdefault(fieldname, {})[self.docnum] = value
            add_column_value(fieldname, columnobj, value)

        self.perdocwriter.add_column_value = remember_value
        # add_document does not build spelling fields or term vectors: none is used.
        self._plain = not any(f.separate_spelling() or f.vector for _, f in self.schema.items())

    def add_document(self, **fields) -> None:
        """SegmentWriter.add_document, adding each field's postings to the pool at once.

        French text fields get their postings from FrenchPositions.postings, a list
        built in one pass, where Whoosh runs two generators and a method call per
        posting. Other fields go through their own field.index, as in Whoosh.
        """
        if not self._plain:
            return super().add_document(**fields)
        self._check_state()
        perdocwriter = self.perdocwriter
        schema = self.schema
        docnum = self.docnum
        add_postings = self.pool.add_postings
        docboost = self._doc_boost(fields)
        fieldnames = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(schema, fieldnames)
        perdocwriter.start_doc(docnum)
        try:
            for fieldname in fieldnames:
                value = fields.get(fieldname)
                if value is None:
                    continue
                field = schema[fieldname]
                length = 0
                if field.indexed:
                    fieldboost = self._field_boost(fields, fieldname, docboost)
                    fast = isinstance(field.format, FrenchPositions)
                    items, length = (field.format.postings(value, field.analyzer, fieldboost)
                                     if fast else _postings(field, value, fieldboost))
                    add_postings(fieldname, docnum, items)
                    if not field.scorable:
                        length = 0
                customval = fields.get(f"_stored_{fieldname}", value)
                perdocwriter.add_field(fieldname, field, customval if field.stored else None,
                                       length)
                column = field.column_type
                if column and customval is not None:
                    perdocwriter.add_column_value(fieldname, column,
                                                  field.to_column_value(customval))
        except Exception:
            perdocwriter.cancel_doc()
            raise
        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        postings = self.pool.sorted()  # and the pool let go of them
        write_postings(self.fieldwriter, self.schema, self.lengths, postings, self.docnum)
        self.fieldwriter.close()
        with self.newsegment.create_file(self.storage, "." + postarrays.EXTENSION) as f:
            postarrays.write(f, postings, self.docnum, self.columns)


class UniqueSegments:
    """A W3Codec whose new segments take their ids from os.urandom.

    Whoosh draws segment ids from the random module, whose state a test framework
    (or any caller) may have seeded: two writers drawing the same id write files of
    the same names, and since a new generation starts from hard links to the live
    one's files, that would overwrite a segment of the live generation in place.
    Only the writer holds this wrapper; the segment keeps the plain codec, so the
    table of contents unpickles with Whoosh alone.
    """

    def __init__(self, codec: W3Codec):
        self._codec = codec

    def __getattr__(self, name: str):
        return getattr(self._codec, name)

    def new_segment(self, storage, indexname: str) -> W3Segment:
        taken = set(storage.list())
        while True:
            segid = "".join(secrets.choice(IDCHARS) for _ in range(16))
            if not any(name.startswith(f"{indexname}_{segid}") for name in taken):
                return W3Segment(self._codec, indexname, segid=segid)


class TermPool:
    """A segment's postings in flat arrays, in the order documents are added; sorted by term
    once, when the segment is written.

    Whoosh's pool keeps one tuple per posting (about 160 bytes in Python) and sorts
    them all at the end. Here a posting is a term number, a document number, a weight
    and its value's bytes, appended a document's field at a time (about 24 bytes and
    the value's), and each distinct term is a number. So a worker's memory limit holds
    ten times the postings, a build writes a tenth of the segments (each of which a
    query visits), and adding a document costs a few calls per field, not per posting.
    """

    def __init__(self):
        self._numbers: dict[str, dict[bytes, int]] = {}  # each field's terms' numbers
        self._terms: list[tuple[str, bytes]] = []
        self._term_of, self._docs = array("i"), array("i")
        self._weights, self._lengths, self._values = array("d"), array("I"), bytearray()
        self.currentsize = 0  # estimated bytes, as Python holds them

    def __len__(self) -> int:
        return len(self._docs)

    @property
    def fieldnames(self) -> set[str]:
        return set(self._numbers)

    def add(self, item: tuple[str, bytes, int, float, bytes | None]) -> None:
        """Add one posting (PostingPool.add: Whoosh's merges add them one at a time)."""
        fieldname, btext, docnum, weight, value = item
        numbers = self._numbers.get(fieldname)
        if numbers is None:
            numbers = self._numbers[fieldname] = {}
        number = numbers.get(btext)
        if number is None:
            number = self._new_term(numbers, fieldname, btext)
        size = 24
        self._term_of.append(number)
        self._docs.append(docnum)
        self._weights.append(weight)
        self._lengths.append(len(value) if value else 0)
        if value:
            self._values += value
            size += len(value)
        self.currentsize += size

    def add_postings(self, fieldname: str, docnum: int,
                     items: Sequence[tuple[bytes, float, bytes | None]]) -> None:
        """Add a document's postings in one field: (term, weight, value) each, one per term."""
        if not items:
            return
        numbers = self._numbers.get(fieldname)
        if numbers is None:
            numbers = self._numbers[fieldname] = {}
        texts, weights, values = zip(*items, strict=True)
        found = list(map(numbers.get, texts))
        if None in found:
            found = [self._new_term(numbers, fieldname, text) if number is None else number
                     for text, number in zip(texts, found, strict=True)]
        size = 0
        count = len(found)
        self._term_of.extend(found)
        self._docs.extend(array("i", (docnum,)) * count)
        self._weights.extend(weights)
        if values[0] is None and values[-1] is None and not any(values):
            self._lengths.extend(array("I", (0,)) * count)
        else:
            values = [v or b"" for v in values]
            self._lengths.extend(map(len, values))
            joined = b"".join(values)
            self._values += joined
            size += len(joined)
        self.currentsize += size + 24 * count

    def _new_term(self, numbers: dict[bytes, int], fieldname: str, text: bytes) -> int:
        number = numbers[text] = len(self._terms)
        self._terms.append((fieldname, text))
        self.currentsize += 150 + len(text)  # the bytes, the tuple, two list and dict slots
        return number

    def sorted(self) -> postarrays.SortedPostings:
        """The postings grouped by term, terms sorted by field then text; the pool is left
        empty (each of its arrays let go once copied, which bounds a segment's peak)."""
        terms = self._terms
        order = sorted(range(len(terms)), key=terms.__getitem__)
        rank = np.empty(len(terms), dtype=np.int32)
        rank[order] = np.arange(len(terms), dtype=np.int32)
        term_of = rank[np.frombuffer(self._term_of, dtype=np.int32)]
        del rank
        # Stable: each term's postings stay in document order.
        by_term = np.argsort(term_of, kind="stable")
        starts = np.zeros(len(terms) + 1, dtype=np.int64)
        np.cumsum(np.bincount(term_of, minlength=len(terms)), out=starts[1:])
        del term_of
        docs = np.frombuffer(self._docs, dtype=np.int32)[by_term]
        weights = np.frombuffer(self._weights, dtype=np.float64)[by_term]
        values, lengths = self._values, self._lengths
        self.__init__()
        lengths = np.frombuffer(lengths, dtype=np.uint32)
        return postarrays.SortedPostings(
            [terms[i] for i in order], starts, docs, weights, lengths[by_term],
            _gather(np.frombuffer(values, dtype=np.uint8), lengths, by_term))

    def iter_postings(self) -> Iterator[tuple[str, bytes, int, float, bytes | None]]:
        """Every posting in term order, as PostingPool.iter_postings gives them."""
        found = self.sorted()
        ends = found.value_starts().tolist()
        values = found.values.tobytes()
        term = 0
        starts = found.starts.tolist()
        for i, (docnum, weight) in enumerate(zip(found.docs.tolist(), found.weights.tolist(),
                                                 strict=True)):
            while starts[term + 1] <= i:
                term += 1
            fieldname, btext = found.terms[term]
            yield fieldname, btext, docnum, weight, values[ends[i]:ends[i + 1]] or None

    def cleanup(self) -> None:
        # The writer outlives its segment (its closures make a cycle, and a build
        # pauses the cycle collector), so the pool must let go of its postings here.
        self.__init__()


# Values gathered at once: an index of 8 bytes per value byte is made for each part.
GATHER_POSTINGS = 1 << 20


def _gather(values: np.ndarray, lengths: np.ndarray, order: np.ndarray) -> np.ndarray:
    """The values (end to end, of these lengths) in the given order, end to end."""
    starts = np.zeros(lengths.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    parts = []
    for first in range(0, order.size, GATHER_POSTINGS):
        which = order[first:first + GATHER_POSTINGS]
        sizes = lengths[which].astype(np.int64)
        ends = np.cumsum(sizes)
        # Each byte's place: its value's start, plus its rank within the value.
        within = np.arange(int(ends[-1]) if ends.size else 0, dtype=np.int64) \
            - np.repeat(ends - sizes, sizes)
        parts.append(values[np.repeat(starts[which], sizes) + within])
    return np.concatenate(parts) if parts else values[:0].copy()


def _postings(field, value, fieldboost: float) -> tuple[list, int]:
    """A field's (term, weight, value) postings of a value and its length, as Whoosh adds them."""
    if type(field.format) is Existence and type(field.analyzer) is IDTokenizer \
            and isinstance(value, str):
        # An ID field's one term (what IDTokenizer and Existence.word_values give), without
        # the token stream: the article's id, day, source and such, each document.
        return [(value.encode("utf-8"), field.format.field_boost * fieldboost, b"")], 1
    items, length = [], 0
    for btext, freq, weight, vbytes in field.index(value):
        items.append((btext, weight * fieldboost, vbytes))
        length += freq
    return items, length


def write_postings(fw, schema, lengths: dict[str, dict[int, int]],
                   postings: postarrays.SortedPostings, doc_count: int) -> None:
    """Write a segment's postings to a Whoosh 3 field writer, field by field."""
    tindex = fw._tindex
    tindex._write_hashes = functools.partial(_write_hashes, tindex)
    value_starts = postings.value_starts()
    starts = postings.starts
    for fieldname, (first, end) in postings.fields.items():
        fw.start_field(fieldname, schema[fieldname])
        field_lengths = np.zeros(doc_count + 1, dtype=np.int64)
        if found := lengths.get(fieldname):
            field_lengths[np.fromiter(found, dtype=np.int64, count=len(found))] = \
                np.fromiter(found.values(), dtype=np.int64, count=len(found))
        fixedsize = schema[fieldname].format.fixed_value_size()
        term = first
        while term < end:
            # Terms holding about BLOCK_POSTINGS postings at once (a bigger term alone).
            stop = int(np.searchsorted(starts, starts[term] + BLOCK_POSTINGS, side="right")) - 1
            stop = min(max(stop, term + 1), end)
            _write_terms(fw, postings, value_starts, term, stop, field_lengths, fixedsize)
            term = stop
        fw.finish_field()


# Postings turned into Python objects at once when their blocks are written.
BLOCK_POSTINGS = 1 << 18
_NO_LENGTH = np.iinfo(np.int64).max
_TERM_INFO = W3TermInfo._struct
_LENGTH_BYTES = np.array([length_to_byte(n) for n in range(1024)], dtype=np.int64)


def _length_bytes(lengths: np.ndarray) -> list[int]:
    """length_to_byte of each length (_NO_LENGTH for None gives 0, as Whoosh's None does)."""
    small = lengths < _LENGTH_BYTES.size
    found = _LENGTH_BYTES[np.where(small, lengths, 0)]
    if not small.all():
        found[~small] = [0 if n == _NO_LENGTH else length_to_byte(n)
                         for n in lengths[~small].tolist()]
    return found.tolist()


def _write_terms(fw, postings: postarrays.SortedPostings, value_starts: np.ndarray,
                 first: int, end: int, field_lengths: np.ndarray, fixedsize: int | None) -> None:
    """Write terms ``first`` to ``end`` as W3FieldWriter.start_term, W3PostingsWriter's
    add_posting and _write_block, and W3FieldWriter.finish_term do, with each block's
    and term's statistics computed for all the terms at once.

    The blocks are those Whoosh writes, with two differences its reader does not
    see: the block's data is pickled with protocol 5, where Whoosh's protocol 2
    spells every value's bytes as a call to codecs.encode over a Latin-1 string,
    and whole-number weights are pickled as ints (2 bytes, not a 9-byte float).
    At 5,000 articles that made the posting file 60 % smaller. Blocks of COMPRESS_FROM
    bytes or more are then zlib-compressed at level 1, which the block's info tells
    Whoosh's reader; queries read the postarrays file, not these blocks.
    """
    limit = fw._postwriter._blocklimit
    p0, p1 = int(postings.starts[first]), int(postings.starts[end])
    bounds = postings.starts[first:end + 1] - p0
    counts = np.diff(bounds)
    # Each term's blocks of `limit` postings: where each starts and ends.
    blocks = -(-counts // limit)
    first_block = np.cumsum(blocks) - blocks
    term_of = np.repeat(np.arange(end - first), blocks)
    block_start = bounds[term_of] + (np.arange(term_of.size) - first_block[term_of]) * limit
    block_end = np.minimum(block_start + limit, bounds[term_of + 1])
    docs = postings.docs[p0:p1].astype(np.int64)
    before = np.concatenate(([0], docs[:-1]))
    before[block_start] = 0  # whoosh.util.numlists.delta_encode, block by block
    deltas = (docs - before).tolist()
    weights = postings.weights[p0:p1]
    weights32 = weights.astype(np.float32)  # Whoosh keeps them as float32
    max_weight = np.maximum.reduceat(weights, block_start)
    same = np.minimum.reduceat(weights32, block_start) == np.maximum.reduceat(weights32,
                                                                              block_start)
    whole = np.logical_and.reduceat(weights32 == np.floor(weights32), block_start)
    block_sum = np.add.reduceat(weights32.astype(np.float64), block_start)
    lengths = field_lengths[docs]
    max_length = np.maximum.reduceat(lengths, block_start)
    min_length = np.minimum.reduceat(np.where(lengths > 0, lengths, _NO_LENGTH), block_start)
    # The terms' statistics (W3TermInfo.add_block over their blocks).
    term_weight = np.add.reduceat(block_sum, first_block).tolist()
    term_max_weight = np.maximum.reduceat(max_weight, first_block).tolist()
    term_min_length = _length_bytes(np.minimum.reduceat(min_length, first_block))
    term_max_length = _length_bytes(np.maximum.reduceat(max_length, first_block))
    min_id, max_id = docs[bounds[:-1]].tolist(), docs[bounds[1:] - 1].tolist()
    doc_frequency = counts.tolist()
    last_id = docs[block_end - 1].tolist()
    weight_list = weights32.tolist()
    as_ints = weights32.astype(np.int64).tolist() if (whole & ~same).any() else None
    block_values = _block_values(postings, value_starts, p0, p1, fixedsize)
    infos = zip(block_start.tolist(), block_end.tolist(), last_id, max_weight.tolist(),
                same.tolist(), whole.tolist(), _length_bytes(min_length),
                _length_bytes(max_length), strict=True)
    postfile = fw._postwriter._postfile
    offset = postfile.tell()
    pieces: list[bytes] = []
    term_infos: list[bytes] = []
    for term, count in enumerate(blocks.tolist()):
        inline = doc_frequency[term] <= INLINE_LIMIT
        stats = _TERM_INFO.pack(  # W3TermInfo.to_bytes: flags (inlined), then statistics
            inline, term_weight[term], doc_frequency[term], term_min_length[term],
            term_max_length[term], term_max_weight[term], min_id[term], max_id[term])
        if inline:
            start, stop = next(infos)[:2]
            term_infos.append(stats + _inlined(deltas[start:stop], weight_list[start:stop],
                                               block_values(start, stop), fixedsize))
            continue
        term_start = offset
        pieces.append(WHOOSH3_HEADER_MAGIC)
        offset += len(WHOOSH3_HEADER_MAGIC)
        for b in range(count):
            start, stop, last, top, equal, ints, minlength, maxlength = next(infos)
            if equal:
                first_weight = weight_list[start]
                mini = None if first_weight == 1.0 else first_weight
            else:
                mini = tuple((as_ints if ints else weight_list)[start:stop])
            data = pickle.dumps((tuple(deltas[start:stop]), mini, block_values(start, stop)), 5)
            level = ZLIB_LEVEL if len(data) >= COMPRESS_FROM else 0
            if level:
                data = zlib.compress(data, level)
            info = pickle.dumps((stop - start, last, top, level, minlength, maxlength), 2)
            size = len(info) + len(data)
            pieces += (pack_int(-size if b == count - 1 else size), info, data)
            offset += _INT_SIZE + size
        term_infos.append(stats + pack_long(term_start) + pack_int(offset - term_start))
    postfile.write(b"".join(pieces))
    prefix = pack_ushort(fw._fieldid)
    _add_terms(fw._tindex, [prefix + text for _, text in postings.terms[first:end]], term_infos)


def _inlined(deltas: list[int], weights: list[float], values: object,
             fixedsize: int | None) -> bytes:
    """A few postings as W3TermInfo.to_bytes inlines them after the term's statistics
    (Whoosh's reader gives them to a ListMatcher), pickled with protocol 5 and
    whole-number weights as ints, as in the blocks."""
    if values is None:  # no values: None each, as a block gives
        values = (None,) * len(deltas)
    elif isinstance(values, bytes):  # fixed-size values end to end
        values = tuple(values[i:i + fixedsize] for i in range(0, len(values), fixedsize))
    return pickle.dumps((tuple(itertools.accumulate(deltas)),
                         tuple(int(w) if w.is_integer() else w for w in weights), values), 5)


def _block_values(postings: postarrays.SortedPostings, value_starts: np.ndarray, p0: int,
                  p1: int, fixedsize: int | None) -> Callable[[int, int], object]:
    """For postings p0 to p1, block(start, stop) gives a block's values as
    W3PostingsWriter._mini_values does (only the non-empty values are buffered)."""
    if fixedsize == 0:
        return lambda start, stop: None
    base = int(value_starts[p0])
    blob = postings.values[base:int(value_starts[p1])].tobytes()
    ends = (value_starts[p0:p1 + 1] - base).tolist()
    if fixedsize is not None and fixedsize > 0:
        return lambda start, stop: blob[ends[start]:ends[stop]]
    values = [blob[a:b] for a, b in itertools.pairwise(ends)]
    if postings.value_lengths[p0:p1].all():
        return lambda start, stop: tuple(values[start:stop])
    return lambda start, stop: tuple(v for v in values[start:stop] if v)


def _add_terms(tindex, keys: list[bytes], values: list[bytes]) -> None:
    """OrderedHashWriter.add of each key and value, in one write."""
    if keys and keys[0] <= tindex.lastkey:
        raise ValueError(f"Keys must increase: {tindex.lastkey!r}..{keys[0]!r}")
    position = tindex.dbfile.tell()
    hashfn, buckets, index = tindex.hashfn, tindex.buckets, tindex.index
    pieces: list[bytes] = []
    for key, value in zip(keys, values, strict=True):
        index.append(position)
        h = hashfn(key)
        buckets[h & 255].append((h, position))
        pieces += (_KEY_VALUE_LENGTHS.pack(len(key), len(value)), key, value)
        position += _KEY_VALUE_LENGTHS.size + len(key) + len(value)
    tindex.dbfile.write(b"".join(pieces))
    if keys:
        tindex.lastkey = keys[-1]


# Whoosh's hash table slots (filetables._pointer), and slots per key: Whoosh's own
# writer gives two, which took 24 of a term's 106 bytes in the term table at ×10. Only
# Whoosh's own searcher looks terms up there; queries read the arrays file.
_SLOT = np.dtype([("hash", ">u4"), ("position", ">i8")])
SLOTS_PER_KEY = 1.25


def _write_hashes(tindex) -> None:
    """HashWriter._write_hashes, with SLOTS_PER_KEY slots per key placed with numpy.

    Linear probing, as Whoosh's reader expects: a key is in the first slot from its home
    (its hash's slot) on, wrapping at the end, that holds it, and no empty slot lies
    between. Keys placed in the order of their homes each take the first free slot from
    theirs; those that run past the end take the first free slots from the start.
    """
    dbfile = tindex.dbfile
    for entries in tindex.buckets:
        count = len(entries)
        slots = int(count * SLOTS_PER_KEY) + 1 if count else 0
        tindex.directory.append((dbfile.tell(), slots))
        if not count:
            continue
        found = np.array(entries, dtype=np.int64)
        home = (found[:, 0] >> 8) % slots
        order = np.argsort(home, kind="stable")
        home, found = home[order], found[order]
        rank = np.arange(count)
        placed = rank + np.maximum.accumulate(home - rank)
        over = placed >= slots
        if over.any():
            placed[over] = np.setdiff1d(np.arange(slots), placed[~over])[:over.sum()]
        table = np.zeros(slots, dtype=_SLOT)
        table["hash"][placed], table["position"][placed] = found[:, 0], found[:, 1]
        dbfile.write(table.tobytes())


# A tier holds segments within a factor of ten in size; this many in one tier are merged.
MERGE_FACTOR = 10


def merge_tiers(writer, segments: list) -> list:
    """Merge the segments of a tier once it has MERGE_FACTOR of them; return the others.

    Pushed writes add one small segment per commit. Whoosh's MERGE_SMALL would in
    time merge the rebuild's big segments too, rewriting the whole index inside one
    write; here a segment only ever merges with its peers, so each document is
    rewritten about once per tenfold growth, and a tier holds at most ten segments.
    (Mirrors whoosh.writing.MERGE_SMALL's use of SegmentReader and add_reader.)
    """
    tiers: dict[int, list] = {}
    for segment in segments:
        live = segment.doc_count_all() - segment.deleted_count()
        tiers.setdefault(len(str(max(live, 1))), []).append(segment)
    kept = []
    for tier in tiers.values():
        if len(tier) < MERGE_FACTOR:
            kept.extend(tier)
            continue
        for segment in tier:
            reader = SegmentReader(writer.storage, writer.schema, segment)
            writer.add_reader(reader)
            reader.close()
    return kept


def new_writer(ix) -> SegmentWriter:
    """Return a segment writer that keeps its postings in memory; the caller holds the lock."""
    return FastSegmentWriter(ix)


def write_all(ix, documents: Documents, count: int, *, procs: int = 1, limitmb: int = 1024,
              progress: Callable[[int, int], None] | None = None) -> None:
    """Index ``count`` documents into an empty index, in segments built by ``procs`` processes.

    Each process keeps at most about ``limitmb`` MB of postings before writing a segment.
    With more than one, the documents are fed to new worker processes (workers.py).
    """
    procs = max(1, min(procs, count // 500 or 1))
    parent = SegmentWriter(ix, compound=False)  # holds Whoosh's lock for the workers
    done = 0

    def added(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(min(done, count - 1), count)

    try:
        if procs == 1:
            found = _write(ix, documents(0, count), limitmb, added)
        else:
            bounds = [count * i // procs for i in range(procs + 1)]
            shares = [map(_portable, documents(start, stop))
                      for start, stop in itertools.pairwise(bounds)]
            found = [segment for share in workers.run(
                write_share, (ix.storage.folder, ix.indexname, limitmb), shares, added)
                for segment in share]
    except BaseException:
        with contextlib.suppress(Exception):  # the caller discards the build anyway
            parent.cancel()
        raise
    parent._close_segment()
    parent._commit_toc(found)
    parent._finish()
    if progress is not None:
        progress(count, count)


def write_share(folder: str, indexname: str, limitmb: int, documents: Iterator[dict],
                added: Callable[[int], None]) -> list:
    """What a worker does: write its documents into segments of the index in ``folder``."""
    own = FileStorage(folder).open_index(indexname)
    return _write(own, map(_restored, documents), limitmb, added)


def _portable(doc: dict) -> tuple[dict, dict]:
    """A document to pickle: its strings as UTF-8 bytes, each string object encoded once.

    Pickling a non-ASCII str makes it keep a UTF-8 copy of itself for its whole life:
    the articles the parent holds until the build ends grew by their size again (the
    corpus ×1: 168 → 256 MB). ``str.encode`` returns a copy and keeps nothing.
    """
    encoded: dict[int, bytes] = {}
    texts, others = {}, {}
    for name, value in doc.items():
        if not isinstance(value, str):
            others[name] = value
            continue
        if id(value) not in encoded:
            encoded[id(value)] = value.encode("utf-8", "surrogatepass")
        texts[name] = encoded[id(value)]
    return texts, others


def _restored(portable: tuple[dict, dict]) -> dict:
    """The document _portable encoded, its fields sharing string objects as they did."""
    texts, others = portable
    decoded: dict[int, str] = {}
    for name, value in texts.items():
        if id(value) not in decoded:
            decoded[id(value)] = value.decode("utf-8", "surrogatepass")
        others[name] = decoded[id(value)]
    return others


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector: indexing makes millions of small tuples and no
    cycles, and the collector's passes over them took a tenth of a build."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _write(ix, documents: Iterator[dict], limitmb: int, added: Callable[[int], None]) -> list:
    """Write documents into as many segments as memory allows; return the segments."""
    with _collector_paused():
        return _write_segments(ix, documents, limitmb, added)


def _write_segments(ix, documents: Iterator[dict], limitmb: int,
                    added: Callable[[int], None]) -> list:
    found = []
    writer = new_writer(ix)
    try:
        for n, doc in enumerate(documents, 1):
            writer.add_document(**doc)
            if n % 100 == 0:
                added(100)
                if writer.pool.currentsize > limitmb * 1024 * 1024:
                    found.append(writer._finalize_segment())
                    writer = new_writer(ix)
        found.append(writer._finalize_segment())
    except BaseException:
        # Close the files but no writer.cancel(): it would delete the temporary
        # files every writer of this index shares. The caller discards the build.
        with contextlib.suppress(Exception):
            writer._close_segment()
        raise
    return found


def documents_of(items: Sequence, convert: Callable) -> Documents:
    """Adapt a sequence and a converter to the ``documents(start, stop)`` protocol."""
    def documents(start: int, stop: int) -> Iterator[dict]:
        for item in itertools.islice(items, start, stop):
            yield convert(item)
    return documents
