"""A segment's postings as plain arrays, written beside it and memory-mapped.

Whoosh finds a term through an on-disk hash table and unpickles its postings a
block of 128 documents at a time: on the corpus ×10 that was two thirds of a
query's time, and it grows with the archive. So every segment newssearch writes
gets one more file, ``<segment>.nsa``, holding the same postings as arrays: a
term is found by a binary search over hashes and its postings are slices of the
file. It is derived data: written with the segment from the same postings,
deleted by Whoosh with it (its name matches Whoosh's segment-file pattern), and
a segment without one is read through Whoosh. No Whoosh import here.

Layout: ``MAGIC``, the header's length (8 bytes, little-endian), a JSON header
naming each array's dtype, offset and length, then the arrays, 64-byte aligned.
A posting's value is found from its group's start (one per ``VALUE_GROUP`` postings)
and the lengths of the values before it in the group, a byte each (255: the length is
in a short table of long values). A four-byte start per posting took as much room as
the positions themselves, and a two-byte offset in a block of 128 postings, at ×10,
as much as the positions once written seven bits a gap (gaps.py); summing the
lengths within a block of 128 cost a position read 40 to 200 µs against 5.
"""

from __future__ import annotations

import hashlib
import json
import mmap
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import BinaryIO

import numpy as np

MAGIC = b"NSARR04\n"
EXTENSION = "nsa"
_ALIGN = 64
VALUE_GROUP = 16  # postings per recorded value start
_LONG = 255  # a value length of this or more is in the table of long values
_PLACES = np.arange(VALUE_GROUP)
# Term rows a segment remembers (about 2.5 MB): each query looks its terms up again.
REMEMBERED_ROWS = 10_000
# A term in more than 1/DENSE of a segment's documents keeps them as a bitmap (an eighth
# of a byte per document against two bytes per posting): at ×10, 68 MB less. Bitmaps
# decoded are remembered, this many per segment (at most 88 KB each at ×10).
DENSE = 16
REMEMBERED_BITMAPS = 64
# Columns kept as each document's label number and the segment's sorted labels; the
# headline key, whose labels are as many as the articles and never shown, as a hash.
LABELLED = ("section", "source", "year", "day")
HASHED = ("title_key",)
COLUMNS = (*LABELLED, *HASHED)

@dataclass(frozen=True)
class SortedPostings:
    """A segment's postings grouped by term, terms sorted by field then text, each term's
    postings in document order: term ``i``'s are ``starts[i]:starts[i + 1]`` of the arrays."""

    terms: list[tuple[str, bytes]]
    starts: np.ndarray  # int64, one more than the terms
    docs: np.ndarray  # int32
    weights: np.ndarray  # float64
    value_lengths: np.ndarray  # uint32
    values: np.ndarray  # uint8: the values end to end

    @classmethod
    def of(cls, terms: Sequence[tuple[tuple[str, bytes], Sequence[tuple[int, float, bytes | None]]]]
           ) -> SortedPostings:
        """From sorted terms and each one's (document, weight, value) postings."""
        postings = [p for _, found in terms for p in found]
        values = [v or b"" for _, _, v in postings]
        return cls([key for key, _ in terms],
                   np.concatenate(([0], np.cumsum([len(p) for _, p in terms]))).astype(np.int64),
                   np.array([d for d, _, _ in postings], dtype=np.int32),
                   np.array([w for _, w, _ in postings], dtype=np.float64),
                   np.array([len(v) for v in values], dtype=np.uint32),
                   np.frombuffer(b"".join(values), dtype=np.uint8))

    def value_starts(self) -> np.ndarray:
        """Where each posting's value starts in ``values`` (one more than the postings)."""
        return np.concatenate(([0], np.cumsum(self.value_lengths, dtype=np.int64)))

    @cached_property
    def fields(self) -> dict[str, list[int]]:
        """Each field's first term and the term after its last (both writers ask)."""
        found: dict[str, list[int]] = {}
        for row, (field, _) in enumerate(self.terms):
            found.setdefault(field, [row, row])[1] = row + 1
        return found


Key = tuple[bytes, np.uint64]
"""A term as the file names it: its field and text as bytes, and their hash."""


def key_bytes(field: str, text: bytes) -> bytes:
    """A term as the file names it: its field and text."""
    return field.encode("utf-8") + b"\x00" + text


def term_key(field: str, text: bytes) -> Key:
    """A term's key and stable 64-bit hash (Python's own hash changes per process)."""
    key = key_bytes(field, text)
    return key, np.uint64(value_hash(key))


def value_hash(value: bytes) -> int:
    """A stable 64-bit hash of a column value."""
    return int.from_bytes(hashlib.blake2b(value, digest_size=8).digest(), "little")


def write(out: BinaryIO, postings: SortedPostings, doc_count: int = 0,
          columns: dict[str, dict[int, bytes]] | None = None) -> None:
    """Write a segment's postings and its column values (document number → value; none
    is b""), as one arrays file."""
    keys = [key_bytes(field, text) for field, text in postings.terms]
    hashes = np.fromiter((value_hash(k) for k in keys), dtype=np.uint64, count=len(keys))
    order = np.argsort(hashes, kind="stable")
    arrays = {
        "hashes": hashes[order],
        "rows": order.astype(np.int32),
        "keys": np.frombuffer(b"".join(keys), dtype=np.uint8),
        "key_starts": _starts(np.fromiter(map(len, keys), dtype=np.int64, count=len(keys))),
        "starts": _narrow_starts(postings.starts),
        **_docs(postings, doc_count),
        "weights": _weights(postings.weights),
        **_value_layout(postings.value_lengths),
        "values": postings.values,
    }
    for name in COLUMNS:
        found = (columns or {}).get(name, {})
        per_doc = [found.get(d, b"") for d in range(doc_count)]
        if name in HASHED:
            arrays[f"hash:{name}"] = np.fromiter(map(value_hash, per_doc), dtype=np.uint64,
                                                 count=doc_count)
            continue
        labels = sorted(set(per_doc) | {b""})
        number = {v: i for i, v in enumerate(labels)}
        arrays[f"codes:{name}"] = _narrow(np.fromiter((number[v] for v in per_doc),
                                                      dtype=np.int32, count=doc_count))
        arrays[f"labels:{name}"] = np.frombuffer(b"".join(labels), dtype=np.uint8)
        arrays[f"label_starts:{name}"] = _starts(np.array([len(v) for v in labels],
                                                          dtype=np.int64))
    _dump(out, arrays, {"fields": postings.fields})


def _docs(postings: SortedPostings, doc_count: int) -> dict[str, np.ndarray]:
    """Each term's documents: a bitmap of the segment's documents for a term in more
    than 1/DENSE of them, the numbers end to end for the others."""
    docs, starts = postings.docs, postings.starts
    size = max(doc_count, int(docs.max()) + 1 if docs.size else 0)
    counts = np.diff(starts)
    dense = np.flatnonzero(counts * DENSE > size)
    bitmaps = np.zeros((dense.size, -(-size // 8)), dtype=np.uint8)
    bits = np.zeros(bitmaps.shape[1] * 8, dtype=bool)
    for i, row in enumerate(dense.tolist()):
        bits[:] = False
        bits[docs[starts[row]:starts[row + 1]]] = True
        bitmaps[i] = np.packbits(bits)
    sparse = np.ones(counts.size, dtype=bool)
    sparse[dense] = False
    return {"docs": _narrow(docs[np.repeat(sparse, counts)]),
            "dense_rows": dense.astype(np.int32),
            # Postings of the dense terms before each one (and all of them, last).
            "dense_before": np.concatenate(([0], np.cumsum(counts[dense]))).astype(np.int64),
            "bitmaps": bitmaps.ravel(),
            "bitmap_size": np.array([size], dtype=np.int64)}


def _starts(lengths: np.ndarray) -> np.ndarray:
    return _narrow_starts(np.concatenate(([0], np.cumsum(lengths, dtype=np.int64))))


def _narrow_starts(starts: np.ndarray) -> np.ndarray:
    return starts.astype(np.uint32 if starts[-1] < 2**32 else np.int64)


def _value_layout(lengths: np.ndarray) -> dict[str, np.ndarray]:
    """Where each value starts: its group's start, and each value's length in a byte
    (``_LONG`` and over: in the sorted table of long values, with their lengths)."""
    starts = _starts(lengths)
    long = np.flatnonzero(lengths >= _LONG)
    return {"value_group_starts": starts[::VALUE_GROUP],
            # Padded to whole groups, so that a group's lengths are read without a check.
            "value_lengths": np.concatenate((np.minimum(lengths, _LONG).astype(np.uint8),
                                             np.zeros(-lengths.size % VALUE_GROUP, np.uint8))),
            "long_values": long.astype(np.int64), "long_lengths": lengths[long].astype(np.int64)}


def _narrow(ids: np.ndarray) -> np.ndarray:
    return ids.astype(np.uint16 if not ids.size or ids.max() < 2**16 else np.int32)


def _weights(weights: np.ndarray) -> np.ndarray:
    """Whole-number weights (term counts) in the fewest bytes; others as float32."""
    if weights.size and not np.array_equal(weights, np.round(weights)):
        return weights.astype(np.float32)
    top = weights.max() if weights.size else 0
    return weights.astype(np.uint8 if top < 2**8 else np.uint16 if top < 2**16 else np.float32)


def _dump(out: BinaryIO, arrays: dict[str, np.ndarray], extra: dict) -> None:
    layout, offset = {}, 0
    for name, a in arrays.items():
        layout[name] = [a.dtype.str, offset, int(a.size)]
        offset += -(-a.nbytes // _ALIGN) * _ALIGN
    header = json.dumps({"arrays": layout, **extra}).encode("utf-8")
    start = -(-(len(MAGIC) + 8 + len(header)) // _ALIGN) * _ALIGN
    out.write(MAGIC + len(header).to_bytes(8, "little") + header)
    out.write(b"\x00" * (start - len(MAGIC) - 8 - len(header)))
    for a in arrays.values():
        out.write(a.tobytes())
        out.write(b"\x00" * (-a.nbytes % _ALIGN))


class SegmentPostings:
    """The arrays file of one segment, memory-mapped; safe to share between threads."""

    def __init__(self, path: Path):
        with open(path, "rb") as f:
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        if self._map[:len(MAGIC)] != MAGIC:
            raise ValueError(f"{path} is not a newssearch arrays file")
        size = int.from_bytes(self._map[len(MAGIC):len(MAGIC) + 8], "little")
        header = json.loads(self._map[len(MAGIC) + 8:len(MAGIC) + 8 + size])
        base = -(-(len(MAGIC) + 8 + size) // _ALIGN) * _ALIGN
        a = {name: np.frombuffer(self._map, dtype=np.dtype(dtype), count=count,
                                 offset=base + offset)
             for name, (dtype, offset, count) in header["arrays"].items()}
        self.fields: dict[str, tuple[int, int]] = {
            f: (r[0], r[1]) for f, r in header["fields"].items()}
        self._hashes, self._rows = a["hashes"], a["rows"]
        self._keys, self._key_starts = a["keys"], a["key_starts"]
        self._starts, self._docs, self._weights = a["starts"], a["docs"], a["weights"]
        self._values = a["values"]
        self._dense_rows, self._dense_before = a["dense_rows"], a["dense_before"]
        self._bitmaps, self._bitmap_size = a["bitmaps"], int(a["bitmap_size"][0])
        self._decoded: dict[int, np.ndarray] = {}
        self._group_starts, self._lengths = a["value_group_starts"], a["value_lengths"]
        self._long, self._long_lengths = a["long_values"], a["long_lengths"]
        self._arrays = a
        self._found: dict[Key, int] = {}

    def column(self, name: str) -> tuple[list[bytes], np.ndarray] | None:
        """A labelled column: the segment's sorted labels (UTF-8, "" first) and each
        document's label number; None if not kept."""
        if f"codes:{name}" not in self._arrays:
            return None
        blob = self._arrays[f"labels:{name}"].tobytes()
        bounds = self._arrays[f"label_starts:{name}"].tolist()
        labels = [blob[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
        return labels, self._arrays[f"codes:{name}"]

    def hashes(self, name: str) -> np.ndarray | None:
        """A hashed column: each document's value_hash; None if not kept."""
        return self._arrays.get(f"hash:{name}")

    def row(self, term: Key) -> int:
        """The term's row, or -1 if the segment does not hold it."""
        # Remembered: a query looks each of its terms up in every segment several times
        # (postings, positions, spelling), and each lookup is a dozen small numpy calls.
        found = self._found.get(term)
        if found is None:
            if len(self._found) >= REMEMBERED_ROWS:
                self._found.clear()
            found = self._found[term] = self._row(term)
        return found

    def _row(self, term: Key) -> int:
        key, h = term
        i = int(np.searchsorted(self._hashes, h))
        while i < self._hashes.size and self._hashes[i] == h:
            row = int(self._rows[i])
            if self._key(row) == key:
                return row
            i += 1
        return -1

    def _key(self, row: int) -> bytes:
        return self._keys[self._key_starts[row]:self._key_starts[row + 1]].tobytes()

    def count(self, row: int) -> int:
        """How many documents hold the term (deleted ones included)."""
        return int(self._starts[row + 1]) - int(self._starts[row])

    def postings(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """A term's segment-local document numbers and weights (views of the file)."""
        start, end = int(self._starts[row]), int(self._starts[row + 1])
        dense = int(np.searchsorted(self._dense_rows, row)) if self._dense_rows.size else 0
        if dense < self._dense_rows.size and self._dense_rows[dense] == row:
            return self._dense_docs(dense), self._weights[start:end]
        skip = int(self._dense_before[dense])
        return self._docs[start - skip:end - skip], self._weights[start:end]

    def _dense_docs(self, dense: int) -> np.ndarray:
        found = self._decoded.get(dense)
        if found is None:
            if len(self._decoded) >= REMEMBERED_BITMAPS:
                self._decoded.clear()
            width = -(-self._bitmap_size // 8)
            bits = np.unpackbits(self._bitmaps[dense * width:(dense + 1) * width],
                                 count=self._bitmap_size)
            found = np.flatnonzero(bits).astype(
                np.uint16 if self._bitmap_size <= 2**16 else np.int32)
            found.flags.writeable = False  # shared by every query, as the file's views are
            self._decoded[dense] = found
        return found

    def values(self, row: int, which: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The raw values of some of a term's postings (indices into its postings), end
        to end, and each one's length."""
        index = int(self._starts[row]) + np.asarray(which, dtype=np.int64)
        starts, lengths = self._value_bounds(index)
        total = int(lengths.sum())
        # Every value's bytes at once: its start, plus the running count within it.
        within = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths,
                                                               lengths)
        return self._values[np.repeat(starts, lengths) + within], lengths

    def _value_bounds(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where the values of some postings (sorted) start, and their lengths."""
        if not index.size:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        first = int(index.min()) // VALUE_GROUP * VALUE_GROUP
        span = int(index.max()) + 1 - first
        if span <= index.size * VALUE_GROUP:
            # Many of a stretch of postings: the running sum of its lengths.
            lengths = self._true_lengths(np.arange(first, first + span), contiguous=True)
            ends = np.cumsum(lengths)
            own = lengths[index - first]
            return int(self._group_starts[first // VALUE_GROUP]) + ends[index - first] - own, own
        # A few postings far apart: the running sum of each one's group's lengths.
        base = index - index % VALUE_GROUP
        rows = self._lengths[base[:, None] + _PLACES]
        if rows.max() == _LONG:
            rows = self._true_lengths(base[:, None] + _PLACES)
        ends = np.cumsum(rows, axis=1, dtype=np.int64).ravel()
        at = np.arange(0, index.size * VALUE_GROUP, VALUE_GROUP) + index - base
        own = rows.ravel()[at].astype(np.int64)
        return self._group_starts[base // VALUE_GROUP] + ends[at] - own, own

    def _true_lengths(self, index: np.ndarray, contiguous: bool = False) -> np.ndarray:
        """The lengths of some values, long ones looked up (``index`` consecutive: sliced)."""
        lengths = (self._lengths[index[0]:index[-1] + 1] if contiguous
                   else self._lengths[index]).astype(np.int64)
        long = lengths == _LONG
        if long.any():
            lengths[long] = self._long_lengths[np.searchsorted(self._long, index[long])]
        return lengths

    def field_terms(self, field: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A field's terms in the order of their keys' hashes: the hashes (sorted), each
        term's document count (deleted documents included) and its number in the field."""
        first, end = self.fields.get(field, (0, 0))
        mine = (self._rows >= first) & (self._rows < end)
        terms = self._rows[mine].astype(np.int64) - first
        counts = np.diff(self._starts[first:end + 1].astype(np.int64))
        return self._hashes[mine], counts[terms], terms

    def words(self, field: str, terms: np.ndarray) -> list[str]:
        """The texts of a field's terms, by their numbers in the field."""
        first, end = self.fields.get(field, (0, 0))
        if not terms.size:
            return []
        skip = len(field.encode("utf-8")) + 1
        starts = self._key_starts[first:end + 1].astype(np.int64)
        blob = self._keys[starts[0]:starts[-1]].tobytes()
        bounds = starts - starts[0]
        return [blob[a + skip:b].decode("utf-8")
                for a, b in zip(bounds[terms].tolist(), bounds[terms + 1].tolist(),
                                strict=True)]
