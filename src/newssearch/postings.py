"""Reading an index: opening it, and every read-side use of Whoosh's postings internals.

Opening a generation (with its schema check), and reading postings and positions
of Whoosh-Reloaded 2.7.5 segments into numpy arrays (columns.py reads the
per-document tables). What each function mirrors in Whoosh is named in it, so
that an upgrade of Whoosh is a diff of those functions:

- ``read_postings``, ``read_positions``: ``whoosh.codec.whoosh3.W3LeafMatcher``
  (``_read_data``, ``_data``, ``_blocklength``, ``_read_ids``, ``_read_weights``,
  ``_read_values``, ``_next_block``), reached
  through ``W3TermsReader.matcher`` (``SegmentReader._terms``);
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
from pathlib import Path

import numpy as np
from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import W3LeafMatcher

from newssearch import gaps, postarrays, store
from newssearch.analysis import FrenchPositions
from newssearch.schema import SCHEMA_VERSION, require_whoosh

require_whoosh()

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
    return [segment_arrays(leaf, cache) for leaf, _ in reader.leaf_readers()]


def segment_arrays(leaf, cache: SegmentArrays):
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
    # Every segment's values are decoded together: a query visits each segment per word.
    found_docs, blobs, lengths, whoosh_docs = [], [], [], []
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
            blob, count = found.values(row, which)
            found_docs.append(ids[which].astype(np.int64) + offset)
            blobs.append(blob)
            lengths.append(count)
    parts = [gaps.decode_keys(np.concatenate(found_docs), np.concatenate(blobs),
                          np.concatenate(lengths))] if found_docs else []
    if whoosh_docs:
        wanted = np.concatenate(whoosh_docs)
        read_docs, values = _wanted_values(reader, field, text, wanted)
        if values:
            count = np.array([len(v) for v in values], dtype=np.int64)
            blob = np.frombuffer(b"".join(values), dtype=np.uint8)
            parts.append(gaps.decode_keys(np.array(read_docs, dtype=np.int64), blob, count))
    if not parts:
        return np.zeros(0, dtype=np.int64)
    keys = np.concatenate(parts)
    return keys if len(parts) == 1 else np.sort(keys)


def _keys(found_docs: list[int], positions: list[list[int]]) -> np.ndarray:
    counts = np.array([len(p) for p in positions], dtype=np.int64)
    flat = np.fromiter((p for lst in positions for p in lst), dtype=np.int64,
                       count=int(counts.sum()))
    return (np.repeat(np.array(found_docs, dtype=np.int64), counts) << 32) | flat


