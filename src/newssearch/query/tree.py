"""The logical query tree: what the planner builds and the executor evaluates.

Kept apart from the user's syntax tree (parse.py), as tantivy keeps its user AST
apart from its logical AST: a node says which documents match and how they score.
Every node is hashable, so the executor computes each one once per request.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    """Documents with ``text`` in ``field``, scored by BM25 times ``weight``."""

    field: str
    text: str
    weight: float = 1.0


@dataclass(frozen=True)
class BM25F:
    """A word in any of several fields, scored by BM25F.

    The fields' length-normalised frequencies, times their weights, add up before
    saturating: a word in the headline and the body counts once, more strongly,
    not as two separate words.
    """

    terms: tuple[Term, ...]


@dataclass(frozen=True)
class MatchAll:
    """Documents matching every child; their scores add up."""

    children: tuple[Clause, ...]


@dataclass(frozen=True)
class MatchAny:
    """Documents matching at least one child; the scores of those they match add up."""

    children: tuple[Clause, ...]


@dataclass(frozen=True)
class Without:
    """Documents of ``node`` that do not match ``excluded``, scored as ``node``."""

    node: Clause
    excluded: Clause


@dataclass(frozen=True)
class WithBonus:
    """Documents of ``node``, with the score of ``bonus`` added where it matches too."""

    node: Clause
    bonus: Clause


@dataclass(frozen=True)
class ConstantScore:
    """Documents of ``node``, all scored ``score``."""

    node: Clause
    score: float


@dataclass(frozen=True)
class InOrder:
    """The words in this order in ``field``, each at most ``slop`` positions after the last.

    Scored as the words' BM25 in that field, times ``weight``.
    """

    field: str
    words: tuple[str, ...]
    slop: int = 1
    weight: float = 1.0


@dataclass(frozen=True)
class AllDocuments:
    """Every live document, scored 0."""


@dataclass(frozen=True)
class NoDocuments:
    """No document."""


Clause = (Term | BM25F | MatchAll | MatchAny | Without | WithBonus | ConstantScore | InOrder
          | AllDocuments | NoDocuments)
