"""BM25's parts, written once: length normalisation, idf and saturation."""

from __future__ import annotations

import math

import numpy as np

B, K1 = 0.75, 1.2


def normalised(tf: np.ndarray, lengths: np.ndarray, average: float) -> np.ndarray:
    """Divide term frequencies by the documents' lengths relative to the average (b)."""
    return tf / ((1 - B) + B * lengths / average)


def idf(documents: int, df: int) -> float:
    """The Robertson-Sparck Jones idf (as Lucene and bm25s), not Whoosh's.

    Whoosh's idf, log(N / (df + 1)) + 1, never falls below 1, so words in nearly
    every article still weigh a lot: long queries then rank by their commonest words.
    """
    return math.log(1 + (documents - df + 0.5) / (df + 0.5))


def saturated(tf: np.ndarray) -> np.ndarray:
    """Saturate normalised frequencies (k1): the tenth occurrence adds less than the first."""
    return tf * (K1 + 1) / (tf + K1)
