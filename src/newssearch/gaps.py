"""A word's positions in a field as one value: the gaps between them, seven bits a byte.

Each gap (the first is the position itself) is written low bits first, seven to a
byte, the high bit set on every byte but a gap's last: a gap under 128 is one byte,
under 16,384 two. Most words of an article are then a byte per position, and a word
first found past the 256th word costs two bytes, not the four of a 32-bit number
(which the previous format, a header byte then a byte or four per gap, took for the
whole value: at ×1 those values were 28 % of the postings and half the bytes).

``decode_keys`` decodes many values at once with numpy, as queries read them.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Sequence

import numpy as np

# A single position under 16,384 (nearly every word found once), ready made.
_ONE = tuple(bytes((p,)) if p < 128 else bytes((p & 127 | 128, p >> 7))
             for p in range(1 << 14))
_CONTINUED = bytes(range(128, 256))


def encode(positions: Sequence[int]) -> bytes:
    """The value of increasing positions (at least one)."""
    if len(positions) == 1 and positions[0] < 1 << 14:
        return _ONE[positions[0]]
    try:
        value = bytes(map(operator.sub, positions, [0, *positions]))
        if value.isascii():  # every gap under 128 (nearly always)
            return value
    except ValueError:  # a gap of 256 or more
        pass
    out = bytearray()
    for gap in map(operator.sub, positions, [0, *positions]):
        while gap >= 128:
            out.append(gap & 127 | 128)
            gap >>= 7
        out.append(gap)
    return bytes(out)


def one(position: int) -> bytes:
    """The value of a word found once."""
    return _ONE[position] if position < 1 << 14 else encode((position,))


def count(value: bytes) -> int:
    """How many positions a value holds: its bytes that end a gap."""
    return len(value.translate(None, _CONTINUED))


def decode(value: bytes) -> list[int]:
    """The positions of a value."""
    if value.isascii():
        return list(itertools.accumulate(value))
    found, gap, shift = [], 0, 0
    for byte in value:
        gap |= (byte & 127) << shift
        if byte < 128:
            found.append(gap)
            gap, shift = 0, 0
        else:
            shift += 7
    return list(itertools.accumulate(found))


def decode_keys(docs: np.ndarray, blob: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Every position of many values (end to end in ``blob``, ``lengths`` bytes each,
    value ``i`` in document ``docs[i]``), as sorted ``doc << 32 | position`` keys."""
    if not lengths.size:
        return np.zeros(0, dtype=np.int64)
    last = blob < 128  # a byte that ends a gap
    if last.all():
        steps, counts = blob.astype(np.int64), lengths.astype(np.int64)
    else:
        gap_ends = np.flatnonzero(last)
        gap_starts = np.concatenate(([0], gap_ends[:-1] + 1))
        # Each byte's place in its gap, then each gap as the sum of its shifted bytes.
        place = np.arange(blob.size, dtype=np.int64) - np.repeat(gap_starts,
                                                                 gap_ends - gap_starts + 1)
        steps = np.add.reduceat((blob & 127).astype(np.int64) << (7 * place), gap_starts)
        value_starts = np.cumsum(lengths, dtype=np.int64) - lengths
        counts = np.add.reduceat(last.astype(np.int64), value_starts)
    running = np.cumsum(steps)
    value_ends = np.cumsum(counts)
    before = np.repeat(np.concatenate(([0], running[value_ends[:-1] - 1])), counts)
    return (np.repeat(docs.astype(np.int64), counts) << 32) | (running - before)
