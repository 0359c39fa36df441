"""The French analyzer chain (see ../shared/FRENCH.md), shared by indexing and querying.

>>> [t.text for t in stemmed_analyzer()("L’Assemblée a voté à Saint-Denis cet été")]
['assemble', 'vot', 'saintden', 'saint', 'den', 'ete']
>>> [t.text for t in exact_analyzer()("L’Assemblée a voté")]
['assemblee', 'a', 'vote']

Order matters: typography and tokens on the original text (so that ``startchar`` and
``endchar`` always point into it), then elision, hyphenated compounds, case and
accent folding with Unidecode, stop words, and Snowball stemming of the folded form.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import snowballstemmer
from unidecode import unidecode
from whoosh.analysis import Filter, Token, Tokenizer

# Bump whenever a change here would index the same text differently.
ANALYSIS_VERSION = 1

APOSTROPHES = "'’ʼ‘′"
HYPHENS = "\\-‐‑"
WORD = re.compile(rf"\w+(?:[{APOSTROPHES}{HYPHENS}]\w+)*")
_APOSTROPHE = re.compile(f"[{APOSTROPHES}]")
_HYPHEN = re.compile(f"[{HYPHENS}]")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")

ELISIONS = frozenset("l d j m n s t c qu jusqu lorsqu puisqu quoiqu".split())

# Function words only. Deliberately absent, because they are also content words:
# ete (summer), est (east), son (sound), avions (planes), fait (a fact), or (gold),
# car (coach), ton (tone), fut (barrel), as (ace), avoir (credit), mais (maize),
# and single letters, which are elided articles only before an apostrophe
# (vitamine C, plan B, jour J).
STOP_WORDS = frozenset("""
a ai au aux avec ce ces cet cette dans de des du elle elles en et eu eux il ils
je la le les leur leurs lui ma me mes moi mon ne ni nos notre nous on ou par pas
pour qu que quel quelle quelles quels qui sa se ses si sur ta te tes toi tu un une
vos votre vous y
""".split())

# "a-t-il", "dit-elle": the compound of a verb and its subject pronoun is not a word.
_PRONOUNS = frozenset("il ils elle elles on je tu nous vous ce".split())


def fold(word: str) -> str:
    """Lowercase and strip accents and ligatures: ``Œuvre`` -> ``oeuvre``."""
    folded = _FOLDED.get(word)
    if folded is None:
        folded = _NOT_ALNUM.sub("", unidecode(word).lower())
        if len(_FOLDED) < _CACHE_LIMIT:
            _FOLDED[word] = folded
    return folded


class FrenchStemmer:
    """Snowball French with a stem cache; one stemmer per thread, pickles by name."""

    def __reduce__(self) -> tuple[type, tuple[()]]:
        return (FrenchStemmer, ())

    def __call__(self, word: str) -> str:
        stem = _STEMS.get(word)
        if stem is None:
            stemmer = getattr(_local, "stemmer", None)
            if stemmer is None:
                stemmer = _local.stemmer = snowballstemmer.stemmer("french")
            # Numbers and codes (A380, 14h30, G7) are not French words.
            stem = word if any(c.isdigit() for c in word) else stemmer.stemWord(word)
            if len(_STEMS) < _CACHE_LIMIT:
                _STEMS[word] = stem
        return stem


_CACHE_LIMIT = 2_000_000
_FOLDED: dict[str, str] = {}
_STEMS: dict[str, str] = {}
_local = threading.local()
stem = FrenchStemmer()


@dataclass(frozen=True)
class Piece:
    """A folded word with its span in the original text."""

    text: str
    start: int
    end: int


def split_word(raw: str, start: int) -> tuple[list[Piece], Piece | None]:
    """Split one raw word into its parts (elision dropped) and its hyphenated compound."""
    parts: list[Piece] = []
    offset = 0
    for chunk in _HYPHEN.split(raw):
        chunk_start = start + offset
        offset += len(chunk) + 1
        pieces = _APOSTROPHE.split(chunk)
        # Drop elided articles: l', qu', jusqu'... but keep aujourd'hui whole.
        while len(pieces) > 1 and fold(pieces[0]) in ELISIONS:
            chunk_start += len(pieces[0]) + 1
            pieces = pieces[1:]
        text = fold("".join(pieces))
        if text:
            end = chunk_start + sum(map(len, pieces)) + len(pieces) - 1
            parts.append(Piece(text, chunk_start, end))
    compound = None
    if len(parts) > 1 and parts[-1].text not in _PRONOUNS:
        compound = Piece("".join(p.text for p in parts), parts[0].start, parts[-1].end)
    return parts, compound


class FrenchTokenizer(Tokenizer):
    """Words of French text, folded, with elision and hyphen handling.

    Hyphenated words yield their compound (``saintdenis``) at the position of their
    first part, then each part at its own position, so phrases over parts still work.
    """

    def __init__(self, compounds: bool = True):
        self.compounds = compounds

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FrenchTokenizer) and other.compounds == self.compounds

    def __hash__(self) -> int:
        return hash((FrenchTokenizer, self.compounds))

    def __call__(self, value: str, positions: bool = False, chars: bool = False,
                 keeporiginal: bool = False, removestops: bool = True, start_pos: int = 0,
                 start_char: int = 0, tokenize: bool = True, mode: str = "",
                 **kwargs: object) -> Iterator[Token]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            t.original = t.text = fold(value)
            t.boost = 1.0
            t.pos = start_pos
            t.startchar, t.endchar = start_char, start_char + len(value)
            yield t
            return
        pos = start_pos
        for match in WORD.finditer(value):
            raw = match.group()
            start = match.start()
            # U+02BC is a letter to the regex but an apostrophe to French typists.
            if raw.isalnum() and "ʼ" not in raw:
                text = fold(raw)
                if text:
                    t.text, t.boost, t.stopped, t.pos = text, 1.0, False, pos
                    t.startchar, t.endchar = start_char + start, start_char + match.end()
                    if keeporiginal:
                        t.original = raw
                    yield t
                    pos += 1
                continue
            parts, compound = split_word(raw, start)
            if compound is not None and self.compounds:
                t.text, t.boost, t.stopped, t.pos = compound.text, 1.0, False, pos
                t.startchar, t.endchar = start_char + compound.start, start_char + compound.end
                if keeporiginal:
                    t.original = raw
                yield t
            for part in parts:
                t.text, t.boost, t.stopped, t.pos = part.text, 1.0, False, pos
                t.startchar, t.endchar = start_char + part.start, start_char + part.end
                if keeporiginal:
                    t.original = value[part.start:part.end]
                yield t
                pos += 1


class FrenchStopFilter(Filter):
    """Drop (or mark, when ``removestops`` is false) French function words."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FrenchStopFilter)

    def __hash__(self) -> int:
        return hash(FrenchStopFilter)

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for t in tokens:
            if t.text in STOP_WORDS:
                if t.removestops:
                    continue
                t.stopped = True
            yield t


class FrenchStemFilter(Filter):
    """Snowball French stems of the folded words."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FrenchStemFilter)

    def __hash__(self) -> int:
        return hash(FrenchStemFilter)

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for t in tokens:
            t.text = stem(t.text)
            yield t


def stemmed_analyzer():  # -> whoosh CompositeAnalyzer
    """Analyzer of the ranked fields: folded, stop words out, stemmed."""
    return FrenchTokenizer() | FrenchStopFilter() | FrenchStemFilter()


def exact_analyzer():
    """Analyzer of the exact-form fields: folded, unstemmed, every word kept."""
    return FrenchTokenizer()


@dataclass(frozen=True)
class Term:
    """One analysed word: its indexed text and its span in the original text."""

    text: str
    pos: int
    start: int
    end: int
    stopped: bool = False


def analyze(text: str, stemmed: bool = True, removestops: bool = True) -> list[Term]:
    """Analyse text as the index does, returning plain records."""
    analyzer = stemmed_analyzer() if stemmed else exact_analyzer()
    return [Term(t.text, t.pos, t.startchar, t.endchar, t.stopped)
            for t in analyzer(text, positions=True, chars=True, removestops=removestops)]


def terms(text: str, stemmed: bool = True) -> list[str]:
    """Return just the indexed words of a text."""
    return [t.text for t in analyze(text, stemmed)]
