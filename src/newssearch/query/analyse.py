"""The analysed query: each word and phrase of a parsed query run through the analyzer once.

The planner, the typo pass and every re-plan of a request (corrected words, a
phrase loosened into its words, a suggestion's count) read the words from here,
so that no text is analysed twice in one request.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from newssearch.analysis import Token, analyze
from newssearch.query.parse import AllOf, AnyOf, Node, Not, ParsedQuery, Phrase, Word


def split_compounds(tokens: tuple[Token, ...]) -> tuple[list[Token], list[Token]]:
    """Separate the parts of words from hyphenated compounds (which share a position)."""
    parts, compounds = [], []
    for i, t in enumerate(tokens):
        is_compound = i + 1 < len(tokens) and tokens[i + 1].pos == t.pos
        (compounds if is_compound else parts).append(t)
    return parts, compounds


@dataclass(frozen=True)
class Analysed:
    """One typed text as the index sees it: stemmed (stop words out) and folded (all kept)."""

    stemmed: tuple[Token, ...]
    folded: tuple[Token, ...]

    @property
    def stems(self) -> list[str]:
        """The stems of its words, compounds left out."""
        return [t.text for t in split_compounds(self.stemmed)[0]]

    @property
    def words(self) -> list[str]:
        """Its folded words, compounds left out."""
        return [t.text for t in split_compounds(self.folded)[0]]


@dataclass
class AnalysedQuery:
    """A parsed query and the analysis of each text in it (and of corrections, once each)."""

    parsed: ParsedQuery
    _texts: dict[str, Analysed] = field(default_factory=dict)

    @classmethod
    def of(cls, parsed: ParsedQuery) -> AnalysedQuery:
        query = cls(parsed)
        for node in _leaves(parsed.root):
            query.text(node.text)
        return query

    def rewritten(self, parsed: ParsedQuery) -> AnalysedQuery:
        """The same analyses for another reading of the query (its phrases as words)."""
        return AnalysedQuery(parsed, self._texts)

    def text(self, text: str) -> Analysed:
        """Return the analysis of a text of the query, or of a correction of one of its words."""
        found = self._texts.get(text)
        if found is None:
            found = self._texts[text] = Analysed(tuple(analyze(text)),
                                                 tuple(analyze(text, stemmed=False)))
        return found


def _leaves(node: Node) -> Iterator[Word | Phrase]:
    if isinstance(node, Word | Phrase):
        yield node
    elif isinstance(node, Not):
        yield from _leaves(node.node)
    elif isinstance(node, AnyOf | AllOf):
        for child in node.nodes:
            yield from _leaves(child)
