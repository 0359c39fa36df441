"""Planning without an index: query text in, the query tree out, table-driven."""

from __future__ import annotations

import pytest

from newssearch.query.analyse import AnalysedQuery
from newssearch.query.parse import parse
from newssearch.query.plan import Planner
from newssearch.query.tree import (
    BM25F,
    AllDocuments,
    InOrder,
    MatchAll,
    MatchAny,
    Term,
    WithBonus,
    Without,
)
from newssearch.schema import SOURCE, TEXT, TEXT_EXACT, TITLE, TITLE_EXACT


class Lexicon:
    """The few words and names the planner asks an index about."""

    words = ["macron", "macronie", "macroniste"]
    names = {SOURCE: {"afp": ["AFP"]}}

    def expand_prefix(self, field: str, prefix: str) -> list[str]:
        return [w for w in self.words if w.startswith(prefix)]

    def facet_values(self, field: str, key: str) -> list[str]:
        return self.names.get(field, {}).get(key, [])


def word(stem: str, boost: float = 1.0, title_only: bool = False) -> BM25F:
    """A word in the headline (weighing 2) and the text (1), by BM25F."""
    terms = ((TITLE, 2.0),) if title_only else ((TITLE, 2.0), (TEXT, 1.0))
    return BM25F(tuple(Term(f, stem, w * boost) for f, w in terms))


def exact(*folded: str) -> tuple[Term, ...]:
    """The exact-form bonus of each word: headline 1.5, text 0.5."""
    return tuple(Term(f, w, b) for w in folded for f, b in ((TITLE_EXACT, 1.5), (TEXT_EXACT, 0.5)))


def phrase(*words: str, weight: float = 1.0) -> MatchAny:
    return MatchAny(tuple(InOrder(f, words, 1, weight) for f in (TITLE_EXACT, TEXT_EXACT)))


@pytest.mark.parametrize(("query", "tree"), [
    ("retraites", WithBonus(word("retrait"), MatchAny(exact("retraites")))),
    # Elided article and accents folded; the stem is shared with « Élysée ».
    ("l'Élysée", WithBonus(word("elyse"), MatchAny(exact("elysee")))),
    ("retraites -grève",
     WithBonus(Without(word("retrait"), MatchAny((word("grev"),))), MatchAny(exact("retraites")))),
    # An exclusion in a group is the query's own.
    ("(retraites -grève)",
     WithBonus(Without(word("retrait"), MatchAny((word("grev"),))), MatchAny(exact("retraites")))),
    ("macron OR -philippe",
     WithBonus(MatchAny((word("macron"), Without(AllDocuments(), word("philipp")))),
               MatchAny(exact("macron")))),
    ("titre:retraites", WithBonus(word("retrait", title_only=True), MatchAny(exact("retraites")))),
    ('"gilets jaunes"', phrase("gilets", "jaunes")),
    # The compound outranks its parts far apart.
    ("Saint-Denis",
     WithBonus(MatchAny((word("saintden", boost=2.0), MatchAll((word("saint"), word("den"))))),
               MatchAny(exact("saint", "denis")))),
    # Mostly stop words: the exact sequence is a strong bonus.
    ("La Poste",
     WithBonus(word("post"), MatchAny((*exact("la", "poste"), phrase("la", "poste", weight=4.0))))),
    ("macro*", MatchAny(tuple(Term(f, w, b) for f, b in ((TITLE, 2.0), (TEXT, 1.0))
                              for w in ("macron", "macronie", "macroniste")))),
    ("source:AFP", AllDocuments()),
    ("", None),
])
def test_query_text_becomes_this_tree(query, tree):
    assert Planner(Lexicon()).plan(AnalysedQuery.of(parse(query))).query() == tree


@pytest.mark.parametrize(("query", "filters", "notices"), [
    ("source:AFP", [MatchAny((Term(SOURCE, "AFP"),))], []),
    ("source:afp grève", [MatchAny((Term(SOURCE, "AFP"),))], []),
    ("source:inconnue grève", [Term(SOURCE, "inconnue")],
     ["Aucune source « inconnue » dans l’index."]),
])
def test_filters_map_typed_names_onto_the_index_names(query, filters, notices):
    plan = Planner(Lexicon()).plan(AnalysedQuery.of(parse(query)))
    assert (plan.filters, plan.notices) == (filters, notices)


def test_a_correction_is_planned_in_place_of_the_typed_word():
    plan = Planner(Lexicon(), {"retraittes": "retraites"}).plan(
        AnalysedQuery.of(parse("retraittes")))
    assert plan.query() == WithBonus(word("retrait"), MatchAny(exact("retraites")))


def test_each_text_is_analysed_once_for_every_plan_of_a_request(monkeypatch):
    from newssearch.query import analyse
    seen: list[str] = []
    real = analyse.analyze

    def counted(text: str, **options):
        seen.append(text)
        return real(text, **options)

    monkeypatch.setattr(analyse, "analyze", counted)
    query = AnalysedQuery.of(parse("réforme retraites -grève"))
    for _ in range(3):  # the typo pass, the loose plan, a suggestion's count
        Planner(Lexicon()).plan(query)
    assert sorted(seen) == sorted(["réforme", "réforme", "retraites", "retraites",
                                   "grève", "grève"])  # stemmed and folded, once each
