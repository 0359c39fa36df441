"""Marks on the original text: escaped HTML with ``<mark>`` around matched words, and snippets.

Words are matched the way the index matches them (folded, then stemmed), but the
marks go on the original characters, so ``eleve`` marks ``élèves`` and ``assemblee``
marks ``Assemblée`` in ``l’Assemblée`` without the ``l’``.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from html import escape

from newssearch.analysis import APOSTROPHES, HYPHENS, WORD, analyse_word

SNIPPET_CHARS = 200
MAX_FRAGMENTS = 2
SCAN_CHARS = 50_000
_WORD_CHAR = re.compile(r"\w")
_JOINERS = frozenset(APOSTROPHES + HYPHENS.replace("\\", ""))
LEXICON_LIMIT = 500_000  # raw words remembered by what they match


class _Lexicon:
    """Raw words already analysed, found by the folded words and stems they hold.

    Most words of an article match nothing; with each raw word filed under its
    pieces once, the words of an article that match are set operations in C
    rather than an analysis per word and per article.
    """

    def __init__(self, limit: int = LEXICON_LIMIT):
        self.limit = limit
        self.known: set[str] = set()
        self._by_piece: dict[tuple[bool, str], set[str]] = {}
        self._lock = threading.Lock()

    def candidates(self, words: set[str], match: MatchTerms) -> set[str]:
        """The words (of ``words``) that may hold something to mark: all that match, and
        any the lexicon could not take in."""
        new = words - self.known
        if new and len(self.known) < self.limit:
            filed = [(raw, analyse_word(raw)) for raw in new]
            with self._lock:
                for raw, pieces in filed:
                    for _, _, folded, stemmed, _ in pieces:
                        self._by_piece.setdefault((True, folded), set()).add(raw)
                        if stemmed is not None:
                            self._by_piece.setdefault((False, stemmed), set()).add(raw)
                    self.known.add(raw)
            new = words - self.known
        with self._lock:
            found = [self._by_piece.get((True, w), ()) for w in match.exact]
            found += [self._by_piece.get((False, s), ()) for s in match.stems]
            matching = set().union(*found)
        return (words & matching) | new


_LEXICON = _Lexicon()


@dataclass(frozen=True)
class MatchTerms:
    """What to mark: stems of the query's words, folded words and sequences matched exactly."""

    stems: frozenset[str] = frozenset()
    exact: frozenset[str] = frozenset()
    phrases: frozenset[tuple[str, ...]] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.stems or self.exact or self.phrases)


def spans(text: str, match: MatchTerms) -> list[tuple[int, int, str]]:
    """Return (start, end, folded word) spans of the words to mark, in order."""
    if match.phrases:
        return _spans_in_order(text, match)
    # Most words of a text match nothing: find the few distinct words that do (in C,
    # the listing and the lexicon's sets), then their occurrences.
    marked = {}
    for raw in _LEXICON.candidates(set(WORD.findall(text)), match):
        pieces = _marked_pieces(raw, match)
        if pieces:
            marked[raw] = pieces
    found = []
    for raw, pieces in marked.items():
        at = text.find(raw)
        while at >= 0:
            if _word_at(text, at, raw):
                found.extend((at + s, at + e, folded) for s, e, folded in pieces)
            at = text.find(raw, at + 1)
    found.sort()
    return found


def _marked_pieces(raw: str, match: MatchTerms) -> list[tuple[int, int, str]]:
    """The pieces of one raw word to mark: the whole compound, or the parts that match."""
    pieces = []
    for s, e, folded, stemmed, compound in analyse_word(raw):
        if folded in match.exact or (stemmed is not None and stemmed in match.stems):
            pieces.append((s, e, folded))
            if compound:
                break  # the whole compound is marked: not its parts again
    return pieces


def _word_at(text: str, at: int, raw: str) -> bool:
    """True if the tokenizer reads ``raw`` as a whole word at ``at`` (not inside another)."""
    if at > 0:
        before = text[at - 1]
        if _WORD_CHAR.match(before) or (before in _JOINERS and at > 1
                                        and _WORD_CHAR.match(text[at - 2])):
            return False
    word = WORD.match(text, at)
    return word is not None and word.end() == at + len(raw)


def _spans_in_order(text: str, match: MatchTerms) -> list[tuple[int, int, str]]:
    """Spans of words and of phrases, reading every word in order."""
    found: list[tuple[int, int, str]] = []
    sequence: list[tuple[int, int, str]] | None = [] if match.phrases else None
    for m in WORD.finditer(text):
        raw = m.group()
        words = analyse_word(raw)
        base = m.start()
        marked_compound = False
        for s, e, folded, stemmed, compound in words:
            if sequence is not None and not compound:
                sequence.append((base + s, base + e, folded))
            if marked_compound:
                continue  # the whole compound is marked: not its parts again
            if folded in match.exact or (stemmed is not None and stemmed in match.stems):
                found.append((base + s, base + e, folded))
                marked_compound = compound
    if sequence:
        found = _merge(found + _phrase_spans(sequence, match.phrases))
    return found


def _phrase_spans(tokens: list[tuple[int, int, str]],
                  phrases: frozenset[tuple[str, ...]]) -> list[tuple[int, int, str]]:
    """Spans of the tokens that form one of the phrases, word after word."""
    firsts = {p[0] for p in phrases}
    found = []
    for i, (_, _, word) in enumerate(tokens):
        if word not in firsts:
            continue
        for phrase in phrases:
            if tuple(t[2] for t in tokens[i:i + len(phrase)]) == phrase:
                found.extend(tokens[i:i + len(phrase)])
    return found


def _merge(found: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Sort spans and drop those inside an earlier one."""
    merged: list[tuple[int, int, str]] = []
    for span in sorted(set(found), key=lambda x: (x[0], -x[1])):
        if not merged or span[0] >= merged[-1][1]:
            merged.append(span)
    return merged


def mark(text: str, found: list[tuple[int, int, str]], start: int = 0,
         end: int | None = None) -> str:
    """Escape ``text[start:end]`` and wrap the spans inside it in ``<mark>``."""
    end = len(text) if end is None else end
    out, pos = [], start
    for s, e, _ in found:
        if s < start or e > end:
            continue
        out.append(escape(text[pos:s], quote=False))
        out.append(f"<mark>{escape(text[s:e], quote=False)}</mark>")
        pos = e
    out.append(escape(text[pos:end], quote=False))
    return "".join(out)


def highlight(text: str, match: MatchTerms) -> str:
    """Return the whole text as escaped HTML with the matched words marked."""
    return mark(text, spans(text, match) if match else [])


def _cut(text: str, start: int, end: int, first: int, last: int) -> tuple[int, int]:
    """Move a window's ends to word boundaries, keeping the marks between first and last."""
    start, end = max(0, start), min(len(text), end)
    if start > 0 and not text[start - 1].isspace():
        space = text.find(" ", start, first)
        start = space + 1 if space >= 0 else min(first, start + 30)
    if end < len(text) and not text[end].isspace():
        space = text.rfind(" ", last, end)
        if space >= 0:
            end = space
        else:
            # Finish the word, unless it goes on and on (a list without spaces, a URL).
            space = text.find(" ", end, end + 30)
            end = space if space >= 0 else end
    return start, end


def _fragment(text: str, found: list[tuple[int, int, str]], start: int, end: int) -> str:
    inside = [(s, e) for s, e, _ in found if start <= s and e <= end]
    first, last = (inside[0][0], inside[-1][1]) if inside else (end, start)
    start, end = _cut(text, start, end, first, last)
    body = mark(text, found, start, end).strip()
    return ("…" if start > 0 else "") + body + ("…" if end < len(text) else "")


def snippet(text: str, match: MatchTerms, size: int = SNIPPET_CHARS) -> str:
    """Return one or two fragments of about ``size`` characters around the best matches.

    With nothing to mark, the snippet is the start of the text.
    """
    # Very long articles: look for the best passage in their first part only.
    text = " ".join(text[:SCAN_CHARS].split())
    found = spans(text, match) if match else []
    if not found or len(text) <= size:
        return _fragment(text, found, 0, size)
    # Windows starting shortly before each match; the best holds the most distinct words.
    windows = []
    for i, (s, _, _) in enumerate(found):
        start = max(0, min(s - size // 5, len(text) - size))
        inside = [w for (ws, we, w) in found[i:] if we <= start + size]
        windows.append((len(set(inside)), len(inside), -start, start))
    windows.sort(reverse=True)
    chosen = [windows[0][3]]
    best_words = {w for (s, e, w) in found if chosen[0] <= s and e <= chosen[0] + size}
    for _, _, _, start in windows[1:]:
        if len(chosen) == MAX_FRAGMENTS:
            break
        other = {w for (s, e, w) in found if start <= s and e <= start + size}
        if abs(start - chosen[0]) >= size and other - best_words:
            chosen.append(start)
    return " ".join(_fragment(text, found, s, s + size) for s in sorted(chosen))
