"""Reading an index's per-document tables: deletions, field lengths, columns, vocabulary.

Every use of Whoosh-Reloaded 2.7.5's per-document internals, read into numpy
arrays a segment at a time. What each function mirrors in Whoosh is named here,
so that an upgrade of Whoosh is a diff of those functions:

- ``field_lengths``: ``W3PerDocReader.doc_field_length`` (``SegmentReader._perdoc``,
  ``whoosh3._lenfield``, ``LENGTHS_COLUMN``, ``util.numeric.byte_to_length``), reading
  ``columns.NumericColumn.Reader``'s bytes (``_basepos``, ``_count``);
- ``live_documents``: ``W3PerDocReader.deleted_docs`` (``SegmentReader._perdoc``);
- ``column_codes``, ``column_values``: ``reading.IndexReader.column_reader``, and the
  file layout of ``columns.VarBytesColumn`` (values, then lengths and offsets, then
  type codes: its ``Writer.finish`` and ``Reader._read_offsets_and_lengths``) through
  ``W3PerDocReader._get_column_file`` and ``_doccount``;
- ``document_frequencies``: ``SegmentReader.iter_field``.

Where a segment has its postarrays file, its labelled columns, headline hashes and
vocabulary are read from it (postings.segment_arrays).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from whoosh import columns as whoosh_columns
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.util.numeric import byte_to_length

from newssearch import postarrays
from newssearch.postings import SegmentArrays, segment_arrays
from newssearch.schema import require_whoosh

require_whoosh()

_LENGTH_OF_BYTE = np.array([byte_to_length(b) or 0 for b in range(256)], dtype=np.float32)


def live_documents(reader) -> np.ndarray:
    """Return a mask of the documents not deleted."""
    live = np.ones(reader.doc_count_all(), dtype=bool)
    for leaf, offset in reader.leaf_readers():
        if leaf.has_deletions():
            live[offset + np.fromiter(leaf._perdoc.deleted_docs(), dtype=np.int64)] = False
    return live


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
    found = segment_arrays(leaf, cache)
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
    found = segment_arrays(leaf, cache)
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

    A field's terms are merged across segments by their keys' 64-bit hashes (each
    segment's already sorted), and each distinct word decoded once: a Counter updated
    segment by segment took 3 s on the corpus ×10 (1.4 million terms, 159,000 words),
    Whoosh's merged iteration 10 s.
    """
    df: Counter[str] = Counter()
    leaves = [leaf for leaf, _ in reader.leaf_readers()]
    for field in fields:
        parts = [cache.get(leaf, "terms", field, lambda leaf, f: _leaf_terms(leaf, f, cache))
                 for leaf in leaves]
        if not sum(p.hashes.size for p in parts):
            continue
        hashes, counts, terms = (np.concatenate([getattr(p, name) for p in parts])
                                 for name in ("hashes", "counts", "terms"))
        order = np.argsort(hashes, kind="stable")  # a merge of sorted runs
        hashes = hashes[order]
        new = np.empty(hashes.size, dtype=bool)
        new[0], new[1:] = True, hashes[1:] != hashes[:-1]
        totals = np.bincount(np.cumsum(new) - 1, weights=counts[order])
        first = order[new]  # where each distinct term is first met
        ends = np.cumsum([p.hashes.size for p in parts])
        owner = np.searchsorted(ends, first, side="right")
        words: list[str] = [""] * first.size
        for i, part in enumerate(parts):
            mine = np.flatnonzero(owner == i)
            for at, text in zip(mine.tolist(), part.words(terms[first[mine]]), strict=True):
                words[at] = text
        df.update(dict(zip(words, totals.astype(np.int64).tolist(), strict=True)))
    return df


@dataclass(frozen=True)
class _FieldTerms:
    """A segment's terms of one field, by key hash: the hashes, document counts, the
    terms' numbers in the field, and a way to read the texts of those numbers."""

    hashes: np.ndarray
    counts: np.ndarray
    terms: np.ndarray
    words: Callable[[np.ndarray], list[str]]


def _leaf_terms(leaf, field: str, cache: SegmentArrays) -> _FieldTerms:
    found = segment_arrays(leaf, cache)
    if found is not None:
        return _FieldTerms(*found.field_terms(field), lambda which: found.words(field, which))
    texts, counts = [], []
    for word, info in leaf.iter_field(field):
        texts.append(word)
        counts.append(info.doc_frequency())
    hashes = np.array([postarrays.term_key(field, t)[1] for t in texts], dtype=np.uint64)
    order = np.argsort(hashes, kind="stable")
    return _FieldTerms(hashes[order], np.array(counts, dtype=np.int64)[order], order,
                       lambda which: [texts[i].decode("utf-8") for i in which.tolist()])


def column_values(reader, name: str) -> list[str]:
    """Each document's value of a text column, by document number ("" for none).

    A segment's column is read at once: Whoosh's column reader, a document at a
    time, took about 20 s for the ids, fingerprints and origins of 336,840 articles.
    """
    values: list[str] = []
    for leaf, _ in reader.leaf_readers():
        raw = _var_bytes(leaf, name)
        if raw is None:  # another column type, or none: through Whoosh's own reader
            found = [v.decode("utf-8") if isinstance(v, bytes) else v or ""
                     for v in leaf.column_reader(name)] if leaf._perdoc.has_column(name) else []
        else:
            blob, lengths = raw
            data, ends = blob.tobytes(), np.cumsum(lengths).tolist()
            found = [data[start:end].decode("utf-8")
                     for start, end in zip([0, *ends[:-1]], ends, strict=True)]
        values += found + [""] * (leaf.doc_count_all() - len(found))
    return values


def value_counts(reader, name: str) -> Counter[str]:
    """How many live documents have each value of a labelled column ("" for none)."""
    labels, codes = column_codes(reader, name, SegmentArrays())
    counts = np.bincount(codes[live_documents(reader)], minlength=len(labels))
    return Counter({label: int(n) for label, n in zip(labels, counts.tolist(), strict=True) if n})
