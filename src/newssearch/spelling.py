"""Spelling corrections from the index's own vocabulary.

A typo is one or two edits away from a word the index knows, a swap of two
neighbouring letters counting as one edit (optimal string alignment distance).
"""

from __future__ import annotations

import bisect
import heapq
import itertools
from collections import defaultdict

from rapidfuzz import process
from rapidfuzz.distance import OSA

COMPLETION_MIN_DF = 2  # words seen in a single document are often typos themselves


def max_edits(word: str) -> int:
    """Edits allowed for a word: none under 5 letters, 1 from 5, 2 from 9."""
    return 0 if len(word) < 5 else (1 if len(word) < 9 else 2)


class Vocabulary:
    """Folded words with their document frequencies, bucketed by length and first letter."""

    def __init__(self, frequencies: dict[str, int]):
        self.df = frequencies
        # Corrections keep the first letter (people rarely mistype it): a bucket per
        # length and first letter is all a word is compared with.
        self._buckets: dict[tuple[int, str], list[str]] = defaultdict(list)
        for word in frequencies:
            if word.isalpha():
                self._buckets[len(word), word[0]].append(word)
        self._sorted = sorted(w for w, n in frequencies.items()
                              if n >= COMPLETION_MIN_DF and len(w) > 2 and w.isalpha())

    def complete(self, prefix: str, limit: int = 8) -> list[str]:
        """Return up to ``limit`` known words starting with ``prefix``, most frequent first."""
        start = bisect.bisect_left(self._sorted, prefix)
        matches = []
        for word in itertools.islice(self._sorted, start, None):
            if not word.startswith(prefix):
                break
            matches.append(word)
        return heapq.nlargest(limit, matches, key=lambda w: (self.df[w], w))

    def correct(self, word: str) -> tuple[str, int] | None:
        """Return the most frequent known word closest to ``word``, with its frequency."""
        edits = max_edits(word)
        if not edits:
            return None
        best: tuple[int, int, str] | None = None
        for length in range(len(word) - edits, len(word) + edits + 1):
            choices = self._buckets.get((length, word[0]))
            if not choices:
                continue
            for candidate, dist, _ in process.extract(
                    word, choices, scorer=OSA.distance, score_cutoff=edits, limit=20):
                if dist == 0:
                    continue
                key = (int(dist), -self.df[candidate], candidate)
                if best is None or key < best:
                    best = key
        return (best[2], -best[1]) if best else None

