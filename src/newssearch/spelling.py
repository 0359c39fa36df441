"""Spelling: corrections and completions from the index's own vocabulary.

A typo is one or two edits away from a word the index knows, a swap of two
neighbouring letters counting as one edit (optimal string alignment distance).
"""

from __future__ import annotations

import bisect
import heapq
import html
import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable

from rapidfuzz import process
from rapidfuzz.distance import OSA

from newssearch.analysis import analyze
from newssearch.query.analyse import AnalysedQuery, split_compounds
from newssearch.query.parse import Word
from newssearch.query.plan import LONG_QUERY_WORDS, WEIGHTS
from newssearch.records import Suggestion

COMPLETION_MIN_DF = 2  # words seen in a single document are often typos themselves
# Completions are chosen among this many of the most frequent words with the prefix.
COMPLETION_CANDIDATES = 150


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



def in_context(candidates: list[str], together: list[int], df: dict[str, int]) -> list[str]:
    """Order completions by how much they go with the word before them.

    A candidate found with it in n of its df articles scores n * (n / df)²: how often
    they meet, weighed by how much of the candidate's use that is, squared, so that a
    word met everywhere (« sur », « sont ») does not win by its frequency alone:
    « urgence s » → « sanitaire », « gilets j » → « jaunes », not the frequent « jour ».
    """
    def key(pair: tuple[str, int]) -> tuple[float, int, str]:
        word, n = pair
        return (-n * (n / max(df.get(word, 1), 1)) ** 2, -df.get(word, 0), word)
    return [w for w, _ in sorted(zip(candidates, together, strict=True), key=key)]


FEW_MATCHES = 2  # a word in this few documents may be a typo of a common one


def find_typos(query: AnalysedQuery, doc_frequency: Callable[[str, str], int],
               vocabulary: Callable[[], Vocabulary]) -> tuple[dict[str, str], dict[str, str]]:
    """Find the typed words with no (or very few) matches and their likely corrections.

    Returns the corrections to search instead (the word matches nothing) and those
    only to suggest (a much more frequent word is one or two edits away).
    """
    forced: dict[str, str] = {}
    suggested: dict[str, str] = {}
    positive = query.parsed.positive()
    content = [w for w in positive if isinstance(w, Word) and query.text(w.text).stemmed]
    if len(content) > LONG_QUERY_WORDS:
        # A question or a pasted sentence: an unknown word is more likely a rare
        # name than a typo, and the other words carry the query anyway.
        return forced, suggested
    for word in positive:
        if not isinstance(word, Word) or word.prefix:
            continue
        analysed = query.text(word.text)
        parts, compounds = split_compounds(analysed.stemmed)
        if len(parts) != 1 or compounds or len(analysed.folded) != 1:
            continue
        df = max(doc_frequency(f, parts[0].text) for f in WEIGHTS)
        if df > FEW_MATCHES:
            continue
        fix = vocabulary().correct(analysed.folded[0].text)
        if fix is None:
            continue
        if df == 0:
            forced[word.text] = fix[0]
        elif fix[1] >= 10 * df:
            suggested[word.text] = fix[0]
    return forced, suggested


def rewrite(text: str, replacements: dict[str, str], escape: bool = False) -> str:
    """Replace typed words in the query text (also after ``titre:`` or in a group)."""
    if not replacements:
        return _esc(text) if escape else text
    pattern = re.compile("|".join(rf"(?<!\w){re.escape(w)}(?!\w)"
                                  for w in sorted(replacements, key=len, reverse=True)))
    out, pos = [], 0
    for m in pattern.finditer(text):
        between = text[pos:m.start()]
        out.append(_esc(between) if escape else between)
        out.append(replacements[m.group()])
        pos = m.end()
    rest = text[pos:]
    out.append(_esc(rest) if escape else rest)
    return "".join(out)


def suggestion(text: str, shown: dict[str, str], total: int) -> Suggestion:
    """The query with its words corrected as the articles write them, plain and marked."""
    marked = {k: f"<em>{_esc(v)}</em>" for k, v in shown.items()}
    return Suggestion(rewrite(text, shown), rewrite(text, marked, escape=True), total)


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def written_form(folded: str, places: Iterable[Iterable[str]]) -> str:
    """How texts write a folded word: ``presidentielle`` -> ``présidentielle``.

    ``places`` yields the texts of one place at a time (headlines, then bodies), read
    lazily: the next place is read only while every form seen is capitalised.
    """
    forms: Counter[str] = Counter()
    for texts in places:
        for text in texts:
            for t in analyze(text, stemmed=False):
                if t.text == folded:
                    forms[text[t.start:t.end]] += 1
        if any(f[:1].islower() for f in forms):
            break  # a headline's capital may only open the sentence: texts tell
    if not forms:
        return folded
    lower = Counter({f.lower(): n for f, n in forms.items() if f[:1].islower()})
    # A word always capitalised is a name (Macron); otherwise the common noun's form.
    return (lower or forms).most_common(1)[0][0]

