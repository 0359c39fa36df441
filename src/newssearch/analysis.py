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
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

import snowballstemmer
from unidecode import unidecode
from whoosh import analysis as whoosh_analysis
from whoosh.analysis import Analyzer
from whoosh.formats import Positions

from newssearch import gaps

# Bump whenever a change here would index the same text differently.
ANALYSIS_VERSION = 2

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

# Words that are also function words (est, été, son...): kept in the index, but a
# query does not require them, since « Quel est... » means no compass point.
HOMONYMS = frozenset("est ete son sont avions fait or car ton fut as avoir mais".split())

# "a-t-il", "dit-elle": the compound of a verb and its subject pronoun is not a word.
PRONOUNS = frozenset("il ils elle elles on je tu nous vous ce".split())


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
    if len(parts) > 1 and parts[-1].text not in PRONOUNS:
        compound = Piece("".join(p.text for p in parts), parts[0].start, parts[-1].end)
    return parts, compound


# One analysed piece of a raw word: start and end in the word, folded text, stem
# (None for a stop word), and whether it is the hyphenated compound.
WordPiece = tuple[int, int, str, str | None, bool]
_WORDS: dict[str, tuple[WordPiece, ...]] = {}


def analyse_word(raw: str) -> tuple[WordPiece, ...]:
    """Analyse one raw word, once: its compound first (if any), then its parts.

    News text repeats its words, so indexing and highlighting look words up here
    instead of folding and stemming every occurrence.
    """
    pieces = _WORDS.get(raw)
    if pieces is None:
        parts, compound = split_word(raw, 0)
        found = ([compound] if compound is not None else []) + parts
        pieces = tuple((p.start, p.end, p.text, None if p.text in STOP_WORDS else stem(p.text),
                        p is compound) for p in found)
        if len(_WORDS) < _CACHE_LIMIT:
            _WORDS[raw] = pieces
    return pieces


class FrenchAnalyzer(Analyzer):
    """Words of French text, folded, with elision and hyphens; stemmed, stop words out.

    Hyphenated words yield their compound (``saintdenis``) at the position of their
    first part, then each part at its own position, so phrases over parts still work.
    A stop word keeps its position, so ``maison de la culture`` is no phrase match
    for ``maison culture``. Unstemmed (``stemmed=False``), every word is kept.
    """

    def __init__(self, stemmed: bool = True):
        self.stemmed = stemmed

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FrenchAnalyzer) and other.stemmed == self.stemmed

    def __hash__(self) -> int:
        return hash((FrenchAnalyzer, self.stemmed))

    def __call__(self, value: str, positions: bool = False, chars: bool = False,
                 keeporiginal: bool = False, removestops: bool = True, start_pos: int = 0,
                 start_char: int = 0, tokenize: bool = True, mode: str = "",
                 **kwargs: object) -> Iterator[whoosh_analysis.Token]:
        t = whoosh_analysis.Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        stemmed = self.stemmed
        if not tokenize:
            text = fold(value)
            if stemmed and text in STOP_WORDS and removestops:
                return
            t.original = value
            t.text, t.boost, t.pos = stem(text) if stemmed else text, 1.0, start_pos
            t.stopped = stemmed and text in STOP_WORDS
            t.startchar, t.endchar = start_char, start_char + len(value)
            yield t
            return
        pos = start_pos
        for match in WORD.finditer(value):
            base = match.start()
            for s, e, folded, stemmed_text, compound in analyse_word(match.group()):
                text, stopped = (stemmed_text, False) if stemmed else (folded, False)
                if stemmed and stemmed_text is None:
                    if removestops:
                        pos += not compound
                        continue
                    text, stopped = stem(folded), True
                t.text, t.stopped, t.boost, t.pos = text, stopped, 1.0, pos
                t.startchar, t.endchar = start_char + base + s, start_char + base + e
                if keeporiginal:
                    t.original = value[base + s:base + e]
                yield t
                pos += not compound


_LAST_TEXT: tuple = (None, {}, {})


def text_positions(value: str) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """Positions of each stem (stop words out) and of each folded word of a text.

    One pass gives both: the indexer hands the stemmed field and its exact copy the
    same string object, and the second field reuses the first one's pass.
    """
    global _LAST_TEXT
    last = _LAST_TEXT
    if last[0] is value:
        return last[1], last[2]
    stems: dict[str, list[int]] = defaultdict(list)
    exact: dict[str, list[int]] = defaultdict(list)
    pos = 0
    known = _WORDS.get
    for raw in WORD.findall(value):
        pieces = known(raw) or analyse_word(raw)
        if len(pieces) == 1:  # most words: no elision, no hyphen
            _, _, folded, stemmed_text, _ = pieces[0]
            exact[folded].append(pos)
            if stemmed_text is not None:
                stems[stemmed_text].append(pos)
            pos += 1
            continue
        for _, _, folded, stemmed_text, compound in pieces:
            exact[folded].append(pos)
            if stemmed_text is not None:
                stems[stemmed_text].append(pos)
            pos += not compound
    _LAST_TEXT = (value, stems, exact)
    return stems, exact


class FrenchPositions(Positions):
    """Whoosh's positions format, fed by text_positions without Whoosh Token objects.

    A value is its positions' gaps, seven bits a byte (gaps.py): cheaper to write and
    read than the pickled lists of Whoosh's format, and a byte per position for most
    words of an article.
    """

    def word_values(self, value, analyzer, **kwargs):
        if not isinstance(value, str) or not isinstance(analyzer, FrenchAnalyzer):
            yield from super().word_values(value, analyzer, **kwargs)
            return
        poses = text_positions(value)[0 if analyzer.stemmed else 1]
        boost = self.field_boost
        for word, found in poses.items():
            yield word, len(found), len(found) * boost, gaps.encode(found)

    def postings(self, value, analyzer, boost: float = 1.0
                 ) -> tuple[list[tuple[bytes, float, bytes]], int]:
        """(term, weight, positions) of each word of a field's value, and the field's length.

        What SegmentWriter.add_document gathers from word_values, built in one pass.
        """
        if not isinstance(value, str) or not isinstance(analyzer, FrenchAnalyzer):
            found = list(self.word_values(value, analyzer, mode="index"))
            return ([(w.encode(), weight * boost, v) for w, _, weight, v in found],
                    sum(n for _, n, _, _ in found))
        poses = text_positions(value)[0 if analyzer.stemmed else 1]
        field_boost = self.field_boost
        encode, one = gaps.encode, gaps.one
        items = []
        length = 0
        for word, found in poses.items():
            n = len(found)
            length += n
            items.append((word.encode(), n * field_boost * boost,
                          one(found[0]) if n == 1 else encode(found)))
        return items, length

    def encode(self, poslist: list[int]) -> bytes:
        return gaps.encode(poslist)

    def decode_positions(self, valuestring: bytes) -> list[int]:
        return gaps.decode(valuestring)

    def decode_frequency(self, valuestring: bytes) -> int:
        return gaps.count(valuestring)

    def decode_weight(self, valuestring: bytes) -> float:
        return self.decode_frequency(valuestring) * self.field_boost


def stemmed_analyzer() -> FrenchAnalyzer:
    """Analyzer of the ranked fields: folded, stop words out, stemmed."""
    return FrenchAnalyzer(stemmed=True)


def exact_analyzer() -> FrenchAnalyzer:
    """Analyzer of the exact-form fields: folded, unstemmed, every word kept."""
    return FrenchAnalyzer(stemmed=False)


@dataclass(frozen=True)
class Token:
    """One analysed word: its indexed text and its span in the original text."""

    text: str
    pos: int
    start: int
    end: int
    stopped: bool = False


def analyze(text: str, stemmed: bool = True, removestops: bool = True) -> list[Token]:
    """Analyse text as the index does, returning plain records."""
    analyzer = stemmed_analyzer() if stemmed else exact_analyzer()
    return [Token(t.text, t.pos, t.startchar, t.endchar, t.stopped)
            for t in analyzer(text, positions=True, chars=True, removestops=removestops)]


def terms(text: str, stemmed: bool = True) -> list[str]:
    """Return just the indexed words of a text (what analyze gives, without its tokens:
    a build takes each headline's key from here)."""
    found = []
    for raw in WORD.findall(text):
        for _, _, folded, stemmed_text, _ in _WORDS.get(raw) or analyse_word(raw):
            if not stemmed:
                found.append(folded)
            elif stemmed_text is not None:
                found.append(stemmed_text)
    return found
