"""Reading an index: every read-side use of Whoosh's internals, in one place.

Opening a generation (with its schema check), and reading postings, positions,
field lengths and columns of Whoosh-Reloaded 2.7.5 segments into numpy arrays.
What each function mirrors in Whoosh is named in it, so that an upgrade of Whoosh
is a diff of those functions:

- ``read_postings``, ``read_positions``: ``whoosh.codec.whoosh3.W3LeafMatcher``
  (``_read_data``, ``_data``, ``_blocklength``, ``_read_ids``, ``_read_weights``,
  ``_read_values``, ``_next_block``), reached
  through ``W3TermsReader.matcher`` (``SegmentReader._terms``);
- ``field_lengths``: ``W3PerDocReader.doc_field_length`` (``SegmentReader._perdoc``,
  ``whoosh3._lenfield``, ``LENGTHS_COLUMN``, ``util.numeric.byte_to_length``);
- ``live_documents``: ``W3PerDocReader.deleted_docs`` (``SegmentReader._perdoc``);
- ``column_codes``: ``reading.IndexReader.column_reader``, and the file layout of
  ``columns.VarBytesColumn`` (values, then lengths and offsets, then type codes: its
  ``Writer.finish`` and ``Reader._read_offsets_and_lengths``) through
  ``W3PerDocReader._get_column_file`` and ``_doccount``;
- ``field_lengths`` reads ``columns.NumericColumn.Reader``'s bytes (``_basepos``,
  ``_count``);
- ``document_frequencies``: ``SegmentReader.iter_field``;
- ``SegmentArrays``: ``SegmentReader._segment`` and ``W3Segment.segment_id``;
- ``segment_postings``: ``SegmentReader._storage`` (``FileStorage.folder``) and
  ``W3Segment.make_filename``, to find the segment's postarrays file.

Where a segment has its postarrays file (every segment newssearch writes), postings
and positions are read from it instead of through Whoosh's matchers.
"""

from __future__ import annotations

import gc
import threading
import warnings
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from whoosh import columns as whoosh_columns
from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.util.numeric import byte_to_length

from newssearch import postarrays, store
from newssearch.analysis import FrenchPositions
from newssearch.schema import SCHEMA_VERSION, require_whoosh

require_whoosh()

_LENGTH_OF_BYTE = np.array([byte_to_length(b) or 0 for b in range(256)], dtype=np.float32)


def open_index(index_dir: Path) -> tuple[whoosh_index.Index, Path, store.IndexMeta]:
    """Open the live generation, checking it was built by this version's analysis."""
    index_dir = Path(index_dir)
    generation = store.current_generation(index_dir)
    if generation is None:
        raise store.IndexUnavailable(
            f"no index in {index_dir}. Build one with: newssearch index SOURCE --index {index_dir}")
    return open_generation(index_dir, generation)


def check_generation(index_dir: Path, generation: Path) -> store.IndexMeta:
    """Check that a generation opens with this version's schema; return its metadata."""
    ix, _, meta = open_generation(index_dir, generation)
    ix.close()
    return meta


def open_generation(index_dir: Path, generation: Path
                    ) -> tuple[whoosh_index.Index, Path, store.IndexMeta]:
    """Open one generation of an index, checking it was built by this version's analysis."""
    try:
        meta = store.IndexMeta.read(generation)
    except (OSError, ValueError, KeyError) as e:
        raise store.IndexUnavailable(
            f"the index in {index_dir} is damaged ({e}); rebuild it with: newssearch index") from e
    if meta.schema_version != SCHEMA_VERSION:
        raise store.IndexUnavailable(
            f"the index in {index_dir} was built with schema version {meta.schema_version}, "
            f"this newssearch reads version {SCHEMA_VERSION}; rebuild it with: newssearch index")
    problem = None
    # Whoosh leaves a damaged file open; let it close quietly with the exception.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            ix = whoosh_index.open_dir(str(generation))
            ix.reader().close()  # opens every segment: a missing or cut file shows now
        except Exception as e:  # Whoosh raises many kinds on a damaged index.
            problem = f"{type(e).__name__}: {e}"
        if problem is not None:
            gc.collect()
    if problem is not None:
        raise store.IndexUnavailable(f"the index in {index_dir} cannot be opened ({problem}); "
                                     "rebuild it with: newssearch index")
    return ix, generation, meta


def live_documents(reader) -> np.ndarray:
    """Return a mask of the documents not deleted."""
    live = np.ones(reader.doc_count_all(), dtype=bool)
    for leaf, offset in reader.leaf_readers():
        if leaf.has_deletions():
            live[offset + np.fromiter(leaf._perdoc.deleted_docs(), dtype=np.int64)] = False
    return live


class SegmentArrays:
    """Arrays read from segments, kept across generations: a segment never changes once
    written (deletions are the table of contents'), so a generation made by an update or
    a pushed write reads only its new segments."""

    def __init__(self):
        self._items: dict[tuple[str, str, str], object] = {}
        self._lock = threading.Lock()

    def get(self, leaf, what: str, name: str, read):
        key = (leaf._segment.segment_id(), what, name)
        found = self._items.get(key)
        if found is None:
            found = read(leaf, name)
            with self._lock:
                self._items[key] = found
        return found

    def keep(self, reader) -> None:
        """Forget the segments this generation no longer has."""
        live = {leaf._segment.segment_id() for leaf, _ in reader.leaf_readers()}
        with self._lock:
            for key in [k for k in self._items if k[0] not in live]:
                del self._items[key]


Arrays = list["postarrays.SegmentPostings | None"]
"""Each segment's postarrays file, in the reader's segment order; None where it has none."""


def segment_postings(reader, cache: SegmentArrays) -> Arrays:
    """Open each segment's postarrays file (memory-mapped, so opening reads nothing)."""
    return [_arrays(leaf, cache) for leaf, _ in reader.leaf_readers()]


def _arrays(leaf, cache: SegmentArrays):
    """The segment's postarrays file, opened once per segment; None where it has none."""
    return cache.get(leaf, "postarrays", "", _open_postings) or None


def _open_postings(leaf, _name: str):
    folder = getattr(leaf._storage, "folder", None)
    if folder is None:
        return False
    path = Path(folder) / leaf._segment.make_filename("." + postarrays.EXTENSION)
    try:
        return postarrays.SegmentPostings(path)
    except (OSError, ValueError, KeyError):  # none (Whoosh wrote the segment) or damaged
        return False


def _segments(reader, arrays: Arrays | None):
    leaves = reader.leaf_readers()
    return zip(leaves, arrays if arrays is not None else [None] * len(leaves), strict=True)


def field_lengths(reader, field: str, cache: SegmentArrays) -> np.ndarray:
    """Return each document's length in ``field``, as Whoosh stores it (one byte, lossy)."""
    parts = [cache.get(leaf, "lengths", field, _leaf_lengths) for leaf, _ in reader.leaf_readers()]
    return _LENGTH_OF_BYTE[np.concatenate(parts)] if parts else np.zeros(0, dtype=np.float32)


def _leaf_lengths(leaf, field: str) -> np.ndarray:
    perdoc, name = leaf._perdoc, _lenfield(field)
    part = np.zeros(leaf.doc_count_all(), dtype=np.uint8)
    # No column when no document of the segment has the field.
    if perdoc.has_column(name):
        column = perdoc.column_reader(name, LENGTHS_COLUMN)
        # One read of the column's bytes: its own load() reads a document at a time.
        count = min(column._count, part.size)
        part[:count] = np.frombuffer(column._dbfile.get(column._basepos, count), np.uint8)
    return part


def column_codes(reader, name: str, cache: SegmentArrays) -> tuple[list[str], np.ndarray]:
    """Return a sortable column as sorted labels and each document's label number.

    A document without a value has the label "". Each segment's labels and codes are
    kept (read from its postarrays file when it has one); a generation only merges
    the segments' sorted labels (as UTF-8 bytes, whose order is the strings' order).
    """
    parts = [cache.get(leaf, "codes", name, lambda leaf, name: _leaf_codes(leaf, name, cache))
             for leaf, _ in reader.leaf_readers()]
    if not parts:
        return [""], np.zeros(0, dtype=np.int32)
    labels = np.unique(np.concatenate([p[0] for p in parts]))
    codes = [np.searchsorted(labels, p[0]).astype(np.int32)[p[1]] for p in parts]
    return [x.decode("utf-8") for x in labels.tolist()], np.concatenate(codes)


def key_codes(reader, name: str, cache: SegmentArrays) -> np.ndarray:
    """Each document's number for its value of a column: equal values, equal numbers.

    From 64-bit hashes of the values (written at build time in the postarrays file):
    a column with as many values as articles, like the headline key, costs a sort of
    integers rather than of strings.
    """
    parts = [cache.get(leaf, "hashes", name, lambda leaf, name: _leaf_hashes(leaf, name, cache))
             for leaf, _ in reader.leaf_readers()]
    if not parts:
        return np.zeros(0, dtype=np.int32)
    return np.unique(np.concatenate(parts), return_inverse=True)[1].astype(np.int32).ravel()


def _leaf_hashes(leaf, name: str, cache: SegmentArrays) -> np.ndarray:
    found = _arrays(leaf, cache)
    if found is not None and found.hashes(name) is not None:
        return found.hashes(name)
    labels, codes = _leaf_codes(leaf, name, cache)
    return np.array([postarrays.value_hash(v) for v in labels.tolist()], dtype=np.uint64)[codes]


# Python array typecodes of the lengths a VarBytesColumn writes, big-endian on disk.
_ARRAYS = {"B": ">u1", "b": ">i1", "H": ">u2", "h": ">i2", "I": ">u4", "i": ">i4",
           "L": ">u8", "l": ">i8", "Q": ">u8", "q": ">i8"}
_GRID_LIMIT = 8_000_000  # documents × longest value, for the vectorised read


def _leaf_codes(leaf, name: str, cache: SegmentArrays) -> tuple[np.ndarray, np.ndarray]:
    """A segment's sorted distinct values of a column (UTF-8 bytes) and each document's."""
    size = leaf.doc_count_all()
    found = _arrays(leaf, cache)
    kept = found.column(name) if found is not None else None
    if kept is not None:
        labels, codes = kept
        return np.array(labels, dtype=bytes), codes
    raw = _var_bytes(leaf, name)
    if raw is None:  # another column type, or none: through Whoosh's own reader
        found = [v if isinstance(v, bytes) else (v or "").encode("utf-8")
                 for v in leaf.column_reader(name)] if leaf._perdoc.has_column(name) else []
        found += [b""] * (size - len(found))
        values = np.array(found, dtype=bytes) if found else np.zeros(0, dtype="S1")
    else:
        blob, lengths = raw
        values = _padded(blob, lengths)
    labels, codes = np.unique(np.concatenate((values, np.array([b""]))), return_inverse=True)
    return labels, codes[:-1].astype(np.int32)


def _var_bytes(leaf, name: str) -> tuple[np.ndarray, np.ndarray] | None:
    """The values of a VarBytesColumn end to end and their lengths, read from its file at
    once (the column's Reader derives offsets and reads values a document at a time)."""
    perdoc = leaf._perdoc
    if not (isinstance(leaf.schema[name].column_type, whoosh_columns.VarBytesColumn)
            and perdoc.has_column(name)):
        return None
    colfile, base, length = perdoc._get_column_file(name)
    try:
        raw = colfile.get(base, length)
    finally:
        colfile.close()
    count, tail = perdoc._doccount, len(raw) - 1
    code = chr(raw[tail])
    if code == "X":  # offsets were written too, before the last three bytes
        code = chr(raw[tail - 2])
        tail -= 2 + count * np.dtype(_ARRAYS[chr(raw[tail - 1])]).itemsize
    dtype = np.dtype(_ARRAYS[code])
    lengths = np.frombuffer(raw, dtype=dtype, count=count,
                            offset=tail - count * dtype.itemsize).astype(np.int64)
    return np.frombuffer(raw, dtype=np.uint8, count=int(lengths.sum())), lengths


def _padded(blob: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Variable-length values end to end as one fixed-width bytes array."""
    widest = int(lengths.max()) if lengths.size else 0
    if not widest:
        return np.zeros(lengths.size, dtype="S1")
    ends = np.cumsum(lengths)
    if lengths.size * widest > _GRID_LIMIT:  # one very long value: slice in Python
        data = blob.tobytes()
        return np.array([data[e - n:e] for n, e in zip(lengths.tolist(), ends.tolist(),
                                                         strict=True)], dtype=f"S{widest}")
    grid = np.arange(widest)
    inside = grid < lengths[:, None]
    padded = np.zeros((lengths.size, widest), dtype=np.uint8)
    padded[inside] = blob[((ends - lengths)[:, None] + grid)[inside]]
    return padded.view(f"S{widest}").ravel()


def document_frequencies(reader, fields: Iterable[str], cache: SegmentArrays) -> Counter[str]:
    """Count, for each word of these fields, the documents that hold it (summed over fields).

    Segment by segment: Whoosh's merged iteration over all of them took 10 s.
    """
    df: Counter[str] = Counter()
    for leaf, _ in reader.leaf_readers():
        for fieldname in fields:
            df.update(cache.get(leaf, "df", fieldname,
                                lambda leaf, field: _leaf_frequencies(leaf, field, cache)))
    return df


def _leaf_frequencies(leaf, field: str, cache: SegmentArrays) -> Counter[str]:
    found = _arrays(leaf, cache)
    if found is not None:
        return Counter(dict(found.frequencies(field)))
    return Counter({word.decode("utf-8"): info.doc_frequency()
                    for word, info in leaf.iter_field(field)})


def doc_frequency(reader, field: str, text: str, arrays: Arrays | None = None) -> int:
    """How many documents hold a term, deleted ones included (as Whoosh counts)."""
    term = postarrays.term_key(field, reader.schema[field].to_bytes(text))
    total = 0
    for (leaf, _), found in _segments(reader, arrays):
        if found is None:
            total += leaf.doc_frequency(field, text)
        elif (row := found.row(term)) >= 0:
            total += found.count(row)
    return total


def _raw(leaf, field: str, text: str):
    """The codec's own matcher of a segment's term, deleted documents included.

    Whoosh's reader wraps it in a filter that has already moved past deleted
    documents; deletions are masked with the live vector here instead, and the
    idf counts them as Whoosh's does.
    """
    return leaf._terms.matcher(field, leaf._text_to_bytes(field, text),
                               leaf.schema[field].format)


def read_postings(reader, field: str, text: str, arrays: Arrays | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Return the document numbers and term frequencies of a term, in document order."""
    ids: list[np.ndarray] = []
    freqs: list[np.ndarray] = []
    term = postarrays.term_key(field, reader.schema[field].to_bytes(text))
    for (leaf, offset), found in _segments(reader, arrays):
        if found is not None:
            row = found.row(term)
            if row >= 0:
                docs, weights = found.postings(row)
                ids.append(docs.astype(np.int32) + np.int32(offset))
                freqs.append(weights.astype(np.float32))
            continue
        if (field, text) not in leaf:
            continue
        m = _raw(leaf, field, text)
        if isinstance(m, W3LeafMatcher):
            while m.is_active():
                ids.append(_block_ids(m) + offset)
                freqs.append(_block_weights(m))
                m._next_block()
        else:  # postings inlined in the term table
            got, weights = [], []
            while m.is_active():
                got.append(m.id() + offset)
                weights.append(m.weight())
                m.next()
            ids.append(np.array(got, dtype=np.int32))
            freqs.append(np.array(weights, dtype=np.float32))
    if not ids:
        return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
    return np.concatenate(ids), np.concatenate(freqs)


def _block_ids(m) -> np.ndarray:
    """The document numbers of a matcher's current block (W3LeafMatcher._read_ids, whose
    delta decoding is a Python generator: a cumulative sum here)."""
    if m._data is None:
        m._read_data()
    return np.cumsum(np.asarray(m._data[0], dtype=np.int32), dtype=np.int32)


def _block_weights(m) -> np.ndarray:
    """The weights of a matcher's current block (W3LeafMatcher._read_weights)."""
    if m._data is None:
        m._read_data()
    weights = m._data[1]
    if weights is None or isinstance(weights, float):
        return np.full(m._blocklength, 1.0 if weights is None else weights, dtype=np.float32)
    return np.asarray(weights, dtype=np.float32)


def _wanted_values(reader, field: str, text: str, docs: np.ndarray
                   ) -> tuple[list[int], list[bytes]]:
    """The document numbers of ``docs`` (sorted) holding the term, and their raw values."""
    found_docs: list[int] = []
    found_values: list[bytes] = []
    for leaf, offset in reader.leaf_readers():
        local = docs[(docs >= offset) & (docs < offset + leaf.doc_count_all())] - offset
        if not local.size or (field, text) not in leaf:
            continue
        wanted = set(local.tolist())
        m = _raw(leaf, field, text)
        if not isinstance(m, W3LeafMatcher):
            while m.is_active():
                if m.id() in wanted:
                    found_docs.append(m.id() + offset)
                    found_values.append(m.value())
                m.next()
            continue
        low = 0
        while m.is_active() and low < local.size:
            top = m.block_max_id()
            high = int(np.searchsorted(local, top, side="right"))
            if high > low:  # some wanted document may be in this block
                block = _block_ids(m)
                hit = np.flatnonzero(np.isin(block, local[low:high], assume_unique=True))
                if hit.size:
                    m._read_values()
                    values = m._values
                    found_docs.extend((block[hit] + offset).tolist())
                    found_values.extend(values[i] for i in hit.tolist())
            low = high
            m._next_block()
    return found_docs, found_values


def read_positions(reader, field: str, text: str, docs: np.ndarray) -> dict[int, list[int]]:
    """Return the positions of a term in each of ``docs`` (sorted) that contains it."""
    decode = reader.schema[field].format.decode_positions
    found_docs, values = _wanted_values(reader, field, text, docs)
    return {doc: decode(v) for doc, v in zip(found_docs, values, strict=True)}


def position_keys(reader, field: str, text: str, docs: np.ndarray,
                  arrays: Arrays | None = None) -> np.ndarray:
    """The term's occurrences in ``docs`` (sorted), as sorted ``doc << 32 | position``."""
    if not isinstance(reader.schema[field].format, FrenchPositions):
        found_docs, values = _wanted_values(reader, field, text, docs)
        decode = reader.schema[field].format.decode_positions
        return _keys(found_docs, [decode(v) for v in values])
    term = postarrays.term_key(field, reader.schema[field].to_bytes(text))
    parts, whoosh_docs = [], []
    for (leaf, offset), found in _segments(reader, arrays):
        local = docs[(docs >= offset) & (docs < offset + leaf.doc_count_all())] - offset
        if not local.size:
            continue
        if found is None:
            whoosh_docs.append(local + offset)
            continue
        row = found.row(term)
        if row < 0:
            continue
        ids = found.postings(row)[0]
        where = np.searchsorted(ids, local.astype(ids.dtype))  # a segment's numbers fit
        inside = where < ids.size
        where = where[inside]
        which = where[ids[where] == local[inside]]
        if which.size:
            blob, lengths = found.values(row, which)
            parts.append(_french_keys(ids[which].astype(np.int64) + offset, blob, lengths))
    if whoosh_docs:
        wanted = np.concatenate(whoosh_docs)
        found_docs, values = _wanted_values(reader, field, text, wanted)
        if values:
            lengths = np.array([len(v) for v in values], dtype=np.int64)
            blob = np.frombuffer(b"".join(values), dtype=np.uint8)
            parts.append(_french_keys(np.array(found_docs, dtype=np.int64), blob, lengths))
    if not parts:
        return np.zeros(0, dtype=np.int64)
    keys = np.concatenate(parts)
    return keys if len(parts) == 1 else np.sort(keys)


def _french_keys(docs: np.ndarray, blob: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Decode FrenchPositions values (end to end in ``blob``) into sorted keys.

    A value is a zero byte then a byte per gap (nearly always), or a one byte then
    32-bit gaps (positions 256 or more apart): each kind is decoded for all the
    documents at once.
    """
    starts = np.cumsum(lengths) - lengths
    short = blob[starts] == 0
    owner = np.repeat(np.arange(lengths.size), lengths)
    gap = np.ones(blob.size, dtype=bool)
    gap[starts] = False
    keys = _running_keys(docs[short], blob[gap & short[owner]], lengths[short] - 1)
    if short.all():
        return keys
    wide = blob[gap & ~short[owner]].view(np.uint32)  # written as native 32-bit numbers
    rest = _running_keys(docs[~short], wide, (lengths[~short] - 1) // 4)
    return np.sort(np.concatenate((keys, rest)))


def _running_keys(docs: np.ndarray, gaps: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Keys of each document's positions, from their gaps end to end (``counts`` each)."""
    if not counts.size:
        return np.zeros(0, dtype=np.int64)
    running = np.cumsum(gaps, dtype=np.int64)
    ends = np.cumsum(counts)
    before = np.repeat(np.concatenate(([0], running[ends[:-1] - 1])), counts)
    return (np.repeat(docs.astype(np.int64), counts) << 32) | (running - before)


def _keys(found_docs: list[int], positions: list[list[int]]) -> np.ndarray:
    counts = np.array([len(p) for p in positions], dtype=np.int64)
    flat = np.fromiter((p for lst in positions for p in lst), dtype=np.int64,
                       count=int(counts.sum()))
    return (np.repeat(np.array(found_docs, dtype=np.int64), counts) << 32) | flat


