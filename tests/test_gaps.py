"""A word's positions survive their encoding, one value or many at once, in few bytes."""

from __future__ import annotations

import numpy as np
import pytest

from newssearch import gaps

CASES = [
    # positions, bytes the value takes
    ([0], 1),
    ([127], 1),
    ([128], 2),  # past the first 128 words: two bytes, not a header and four
    ([300], 2),
    ([16_383], 2),
    ([16_384], 3),
    ([3, 4, 9], 3),
    ([5, 400, 401], 4),  # only the long gap takes two
    ([0, 255, 256, 70_000], 7),
    ([2**31], 5),
    (list(range(600)), 600),
]


@pytest.mark.parametrize(("positions", "size"), CASES)
def test_a_value_round_trips_in_its_size(positions, size):
    value = gaps.encode(positions)
    assert len(value) == size
    assert gaps.decode(value) == positions
    assert gaps.count(value) == len(positions)
    if len(positions) == 1:
        assert gaps.one(positions[0]) == value


def test_many_values_decode_at_once_as_one_at_a_time():
    rng = np.random.default_rng(7)
    values, docs = [], []
    for doc in range(400):
        # Mostly small gaps, some past 128 and 16,384, as long articles have.
        steps = rng.choice([1, 3, 90, 200, 20_000], size=int(rng.integers(1, 12)),
                           p=[0.5, 0.3, 0.1, 0.07, 0.03])
        values.append(gaps.encode(np.cumsum(steps).tolist()))
        docs.append(doc * 3)
    blob = np.frombuffer(b"".join(values), dtype=np.uint8)
    lengths = np.array([len(v) for v in values], dtype=np.int64)
    keys = gaps.decode_keys(np.array(docs), blob, lengths)
    want = [(d << 32) | p for d, v in zip(docs, values, strict=True) for p in gaps.decode(v)]
    assert keys.tolist() == want
    short = [gaps.encode([1, 2]), gaps.encode([7])]
    keys = gaps.decode_keys(np.array([1, 2]), np.frombuffer(b"".join(short), dtype=np.uint8),
                            np.array([2, 1]))
    assert keys.tolist() == [(1 << 32) | 1, (1 << 32) | 2, (2 << 32) | 7]
