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
- ``merge_tiers``: ``whoosh.writing.MERGE_SMALL``;
- ``write_all``: ``whoosh.multiproc.MpWriter._commit`` (``_close_segment``,
  ``_commit_toc``, ``_finish``, ``_finalize_segment``).
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import pickle
import secrets
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence

from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3Codec, W3Segment
from whoosh.filedb.filestore import FileStorage
from whoosh.reading import SegmentReader
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
                         codec=UniqueSegments(W3Codec(compression=0)))
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
        terms = self.pool.sorted_terms()
        write_postings(self.fieldwriter, self.schema, self.lengths, terms)
        self.fieldwriter.close()
        with self.newsegment.create_file(self.storage, "." + postarrays.EXTENSION) as f:
            postarrays.write(f, terms, self.docnum, self.columns)


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
    """Postings grouped by field and term as documents are added, in document order, in arrays.

    Whoosh's pool keeps one tuple per posting (about 160 bytes in Python) and sorts
    them all at the end; here each term holds its document numbers, weights and
    values in arrays (about 16 bytes and the value's), and only the distinct terms
    are sorted, since each term's postings arrive in order. So a worker's memory
    limit holds ten times the postings, and a build writes a tenth of the segments
    (each of which a query visits).
    """

    def __init__(self):
        self.fields: dict[str, dict[bytes, postarrays.Postings]] = {}
        self.currentsize = 0  # estimated bytes, as Python holds them

    @property
    def fieldnames(self) -> set[str]:
        return set(self.fields)

    def add(self, item: tuple[str, bytes, int, float, bytes | None]) -> None:
        """Add one posting (PostingPool.add: Whoosh's merges add them one at a time)."""
        fieldname, btext, docnum, weight, value = item
        self.add_postings(fieldname, docnum, ((btext, weight, value),))

    def add_postings(self, fieldname: str, docnum: int,
                     items: Iterable[tuple[bytes, float, bytes | None]]) -> None:
        """Add a document's postings in one field: (term, weight, value) each."""
        terms = self.fields.get(fieldname)
        if terms is None:
            terms = self.fields[fieldname] = {}
        size = 0
        for btext, weight, value in items:
            postings = terms.get(btext)
            if postings is None:
                postings = terms[btext] = (array("i"), array("d"), bytearray(), array("I"))
                # The key and its bytes, the dict's slot, the tuple and its four arrays.
                size += 550 + len(btext)
            postings[0].append(docnum)
            postings[1].append(weight)
            if value:
                postings[2].extend(value)
                postings[3].append(len(value))
                size += 16 + len(value)
            else:
                postings[3].append(0)
                size += 16
        self.currentsize += size

    def sorted_terms(self) -> list[tuple[tuple[str, bytes], postarrays.Postings]]:
        return [((fieldname, btext), postings) for fieldname in sorted(self.fields)
                for btext, postings in sorted(self.fields[fieldname].items())]

    @staticmethod
    def postings_of(terms) -> Iterator[tuple[str, bytes, int, float, bytes | None]]:
        for (fieldname, btext), (docnums, weights, blob, lengths) in terms:
            values = bytes(blob)
            start = 0
            for docnum, weight, length in zip(docnums, weights, lengths, strict=True):
                yield fieldname, btext, docnum, weight, values[start:start + length] or None
                start += length

    def iter_postings(self) -> Iterator[tuple[str, bytes, int, float, bytes | None]]:
        return self.postings_of(self.sorted_terms())

    def cleanup(self) -> None:
        # The writer outlives its segment (its closures make a cycle, and a build
        # pauses the cycle collector), so the pool must let go of its postings here.
        self.fields = {}


def _postings(field, value, fieldboost: float) -> tuple[list, int]:
    """A field's (term, weight, value) postings of a value and its length, as Whoosh adds them."""
    items, length = [], 0
    for btext, freq, weight, vbytes in field.index(value):
        items.append((btext, weight * fieldboost, vbytes))
        length += freq
    return items, length


def write_postings(fw, schema, lengths: dict[str, dict[int, int]], terms) -> None:
    """Write sorted terms' postings to a Whoosh 3 field writer, a block at a time."""
    lastfield = None
    field_lengths: dict[int, int] = {}
    fixedsize = None
    for (fieldname, btext), term_postings in terms:
        if fieldname != lastfield:
            if lastfield is not None:
                fw.finish_field()
            fw.start_field(fieldname, schema[fieldname])
            field_lengths = lengths.get(fieldname, {})
            fixedsize = schema[fieldname].format.fixed_value_size()
            lastfield = fieldname
        fw.start_term(btext)
        _write_blocks(fw._postwriter, term_postings, field_lengths, fixedsize)
        fw.finish_term()
    if lastfield is not None:
        fw.finish_field()


def _write_blocks(pw, term_postings: postarrays.Postings, field_lengths: dict[int, int],
                  fixedsize: int | None) -> None:
    """Write one term's postings as W3PostingsWriter._write_block does, block by block.

    The blocks are those Whoosh writes, with two differences its reader does not
    see: the block's data is pickled with protocol 5, where Whoosh's protocol 2
    spells every value's bytes as a call to codecs.encode over a Latin-1 string,
    and whole-number weights are pickled as ints (2 bytes, not a 9-byte float).
    At 5,000 articles that made the posting file 60 % smaller. Blocks of COMPRESS_FROM
    bytes or more are then zlib-compressed at level 1, which the block's info tells
    Whoosh's reader; queries read the postarrays file, not these blocks.
    """
    docnums, weights, blob, sizes = term_postings
    values = bytes(blob)
    ends = list(itertools.accumulate(sizes))
    terminfo = pw._terminfo
    postfile = pw._postfile
    limit = pw._blocklimit
    count = len(docnums)
    for start in range(0, count, limit):
        stop = min(start + limit, count)
        ids = docnums[start:stop]
        got = weights[start:stop]
        block_weights = array("f", got)  # Whoosh keeps them as float32
        maxweight = max(0, max(got))
        block_lengths = [n for n in map(field_lengths.get, ids) if n]
        minlength = min(block_lengths) if block_lengths else None
        maxlength = max(block_lengths, default=0)
        if fixedsize == 0:
            block_values = None
        else:
            found = [values[ends[i] - sizes[i]:ends[i]] for i in range(start, stop)]
            found = [v for v in found if v]  # Whoosh buffers only non-empty values
            block_values = tuple(found) if fixedsize is None or fixedsize < 0 \
                else b"".join(found)
        before = array("i", (0,)) + ids[:-1]  # whoosh.util.numlists.delta_encode
        deltas = tuple([b - a for a, b in zip(before, ids, strict=True)])
        databytes = pickle.dumps((deltas, _mini_weights(block_weights), block_values), 5)
        level = ZLIB_LEVEL if len(databytes) >= COMPRESS_FROM else 0
        if level:
            databytes = zlib.compress(databytes, level)
        # W3TermInfo.add_block
        terminfo._weight += sum(block_weights)
        terminfo._df += stop - start
        if minlength is not None:
            terminfo._minlength = minlength if terminfo._minlength is None \
                else min(terminfo._minlength, minlength)
        terminfo._maxlength = max(terminfo._maxlength, maxlength)
        terminfo._maxweight = max(terminfo._maxweight, maxweight)
        if terminfo._minid is None:
            terminfo._minid = ids[0]
        terminfo._maxid = ids[-1]
        if not pw._blockcount:
            postfile.write(WHOOSH3_HEADER_MAGIC)
        infobytes = pickle.dumps((stop - start, ids[-1], maxweight, level,
                                  length_to_byte(minlength), length_to_byte(maxlength)), 2)
        blocklength = len(infobytes) + len(databytes)
        postfile.write_int(-blocklength if stop == count else blocklength)
        postfile.write(infobytes)
        postfile.write(databytes)
        pw._blockcount += 1


def _mini_weights(weights: array) -> float | tuple | None:
    """W3PostingsWriter._mini_weights, with whole numbers as ints."""
    first = weights[0]
    if all(w == first for w in weights):
        return None if first == 1.0 else first
    if all(w.is_integer() for w in weights):
        return tuple(int(w) for w in weights)
    return tuple(weights)


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
