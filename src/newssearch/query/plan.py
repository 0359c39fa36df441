"""Planning: a parsed query becomes a query tree (BM25F clauses, bonuses, filters, typo fixes)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from newssearch import notices, schema
from newssearch.analysis import HOMONYMS
from newssearch.articles import source_name
from newssearch.highlight import MatchTerms
from newssearch.query.analyse import AnalysedQuery, split_compounds
from newssearch.query.parse import AllOf, AnyOf, Filter, Node, Not, Phrase, Word
from newssearch.query.tree import (
    BM25F,
    AllDocuments,
    Clause,
    ConstantScore,
    InOrder,
    MatchAll,
    MatchAny,
    NoDocuments,
    Term,
    WithBonus,
    Without,
)

# BM25F field weights: a word in the headline says more than one in the body.
WEIGHTS = {schema.TITLE: 2.0, schema.TEXT: 1.0}
EXACT_BONUS = {schema.TITLE_EXACT: 1.5, schema.TEXT_EXACT: 0.5}
# A long query (a question, a pasted paragraph) describes the body more than the headline.
LONG_WEIGHTS = {schema.TITLE: 1.0, schema.TEXT: 1.0}
LONG_EXACT_BONUS = {schema.TITLE_EXACT: 0.5, schema.TEXT_EXACT: 0.5}
PROXIMITY_BONUS = {schema.TITLE: 2.0, schema.TEXT: 1.0}
STOP_PHRASE_BONUS = 4.0
MAX_PREFIX_TERMS = 50
LONG_QUERY_WORDS = 4
ALL_WORDS_BONUS = 1000.0


def lift_exclusions(node: Node, lifted: list[Node]) -> Node | None:
    """Move the exclusions of a group ANDed with the query into ``lifted``: (a -b) c ≡ a c -b.

    Return what is left of the group. Lifted, an exclusion is one of the query's own,
    so the partial matches leave it out too.
    """
    if isinstance(node, Not):
        lifted.append(node)
        return None
    if not isinstance(node, AllOf):
        return node
    kept = [k for k in (lift_exclusions(n, lifted) for n in node.nodes) if k is not None]
    if len(kept) > 1:
        return AllOf(tuple(kept))
    return kept[0] if kept else None


@dataclass
class Plan:
    """The query tree of one user query, and what to mark in the results."""

    required: list[Clause] = field(default_factory=list)
    excluded: list[Clause] = field(default_factory=list)
    filters: list[Clause] = field(default_factory=list)
    bonus: list[Clause] = field(default_factory=list)
    proximity: list[InOrder] = field(default_factory=list)
    stems: set[str] = field(default_factory=set)
    exact: set[str] = field(default_factory=set)
    phrases: set[tuple[str, ...]] = field(default_factory=set)
    notices: list[str] = field(default_factory=list)
    sequence: Clause | None = None
    # A long query (a question, a pasted sentence) ranks by any of its words.
    long: bool = False
    # The clauses of the words, phrases and filters not excluded, and whether a required
    # clause has an alternative « without … » (a OR -b), which nearly every article holds.
    positive: list[Clause] = field(default_factory=list)
    open_alternative: bool = False

    def match_terms(self) -> MatchTerms:
        return MatchTerms(frozenset(self.stems), frozenset(self.exact),
                          frozenset(self.phrases))

    def query(self, loose: bool = False, strict: bool = False) -> Clause | None:
        """The main query: all clauses required, or any of them when ``loose``.

        ``strict`` also requires the exact sequence of a query made mostly of stop words.
        """
        if strict and self.sequence is not None:
            return MatchAll((self.query(), self.sequence))
        if self.required:
            if len(self.required) == 1:
                main: Clause = self.required[0]
            elif loose or self.long:
                # Articles with every word first, then those with some of them.
                every = MatchAll(tuple(self.required))
                some: Clause = MatchAny(tuple(self.required))
                if self.open_alternative:
                    # Lacking b is not having some of the words of (a OR -b) c.
                    some = MatchAll((some, ConstantScore(MatchAny((*self.positive, every)), 0.0)))
                main = WithBonus(some, ConstantScore(every, ALL_WORDS_BONUS))
            else:
                main = MatchAll(tuple(self.required))
        elif self.excluded or self.filters:
            main = AllDocuments()
        else:
            return None
        if self.excluded:
            main = Without(main, MatchAny(tuple(self.excluded)))
        if self.bonus and self.required:
            main = WithBonus(main, MatchAny(tuple(self.bonus)))
        return main


class Lexicon(Protocol):
    """What planning needs to know of an index's words and names."""

    def expand_prefix(self, field: str, prefix: str) -> Iterable[str]:
        """The words of ``field`` that start with ``prefix``, in order."""

    def facet_values(self, field: str, key: str) -> list[str]:
        """The names of ``field`` (section, source) as written, for a folded name."""


class Planner:
    """Builds the Plan of an analysed query against one index's lexicon."""

    def __init__(self, lexicon: Lexicon, corrections: dict[str, str] | None = None):
        self.lexicon = lexicon
        self.corrections = corrections or {}

    def plan(self, query: AnalysedQuery) -> Plan:
        self.query = query
        parsed = query.parsed
        plan = Plan()
        folded, stems = self.forms()
        plan.long = len(stems) > LONG_QUERY_WORDS
        self.weights = LONG_WEIGHTS if plan.long else WEIGHTS
        self.bonuses = LONG_EXACT_BONUS if plan.long else EXACT_BONUS
        soft: list[Clause] = []
        nodes: list[Node] = []
        for top in parsed.root.nodes:
            kept = lift_exclusions(top, nodes)
            if kept is not None:
                nodes.append(kept)
        for node in nodes:
            if isinstance(node, Not):
                q = self.node(node.node, plan, negated=True)
                if q is not None:
                    plan.excluded.append(q)
            elif isinstance(node, Filter):
                plan.filters.append(self.filter_query(node, plan))
            else:
                q = self.node(node, plan)
                if q is None:
                    continue
                if isinstance(node, Word) and self.homonym(node):
                    soft.append(q)
                else:
                    plan.required.append(q)
        if plan.required:
            plan.bonus.extend(soft)
        else:
            plan.required.extend(soft)
        self.add_bonuses(folded, stems, plan)
        return plan

    def homonym(self, word: Word) -> bool:
        """True for a word that is most often a function word (est, été, son)."""
        folded = self.analysed(word.text).folded
        return bool(folded) and all(t.text in HOMONYMS for t in folded)

    def analysed(self, typed: str):
        """The analysis of a typed word, or of its correction."""
        return self.query.text(self.corrections.get(typed, typed))

    def node(self, node: Node, plan: Plan, negated: bool = False) -> Clause | None:
        if isinstance(node, Word | Phrase | Filter):
            q = self.leaf(node, plan, negated)
            if q is not None and not negated:
                plan.positive.append(q)
            return q
        if isinstance(node, Not):
            # Not lifted, so an OR alternative or under another exclusion: the articles
            # without it, as Elasticsearch reads a lone negative clause.
            excluded = self.node(node.node, plan, negated=True)
            if excluded is None:
                return None
            plan.open_alternative |= not negated
            return Without(AllDocuments(), excluded)
        children = [q for q in (self.node(n, plan, negated) for n in node.nodes) if q is not None]
        if not children:
            return None
        if len(children) == 1:
            return children[0]
        return MatchAny(tuple(children)) if isinstance(node, AnyOf) else MatchAll(tuple(children))

    def leaf(self, node: Word | Phrase | Filter, plan: Plan, negated: bool) -> Clause | None:
        if isinstance(node, Word):
            return self.word(node, plan, negated)
        if isinstance(node, Phrase):
            return self.phrase(node, plan, negated)
        return self.filter_query(node, plan)

    def fields(self, fieldname: str | None) -> list[str]:
        return [schema.TITLE] if fieldname == schema.TITLE else list(WEIGHTS)

    def word(self, word: Word, plan: Plan, negated: bool) -> Clause | None:
        tokens = self.analysed(word.text).stemmed
        parts, compounds = split_compounds(tokens)
        if not parts:
            return None
        fields = self.fields(word.field)

        def anyfield(term: str, boost: float = 1.0) -> Clause:
            return BM25F(tuple(Term(f, term, self.weights[f] * boost) for f in fields))

        if word.prefix and len(parts) == 1:
            expanded = self.expand_prefix(parts[0].text, fields)
            if not negated:
                plan.stems.update(expanded)
            terms = tuple(Term(f, t, self.weights[f]) for f in fields for t in expanded)
            return MatchAny(terms) if terms else NoDocuments()
        if not negated:
            plan.stems.update(t.text for t in tokens)
        q = MatchAll(tuple(anyfield(p.text) for p in parts)) if len(parts) > 1 else anyfield(
            parts[0].text)
        if compounds:
            # The compound itself (Saint-Denis) outranks both parts far apart.
            q = MatchAny((anyfield(compounds[0].text, boost=2.0), q))
        return q

    def expand_prefix(self, prefix: str, fields: list[str]) -> list[str]:
        found: set[str] = set()
        for f in fields:
            for term in self.lexicon.expand_prefix(f, prefix):
                found.add(term)
                if len(found) >= MAX_PREFIX_TERMS:
                    return sorted(found)
        return sorted(found)

    def phrase(self, phrase: Phrase, plan: Plan, negated: bool) -> Clause | None:
        words = self.query.text(phrase.text).words
        if not words:
            return None
        if not negated:
            plan.phrases.add(tuple(words))
        fields = [schema.TITLE_EXACT] if phrase.field == schema.TITLE else list(EXACT_BONUS)
        if len(words) == 1:
            return MatchAny(tuple(Term(f, words[0]) for f in fields))
        return MatchAny(tuple(InOrder(f, tuple(words)) for f in fields))

    def filter_query(self, node: Filter, plan: Plan) -> Clause:
        # The index holds source names as source_name wrote them: `source:"Source : L'Opinion"`.
        value = source_name(node.value) if node.field == schema.SOURCE else node.value
        values = self.lexicon.facet_values(node.field, schema.facet_key(value))
        if not values:
            plan.notices.append(notices.unknown_facet(node.field, node.value))
            return Term(node.field, node.value)
        return MatchAny(tuple(Term(node.field, v) for v in values))

    def forms(self) -> tuple[list[str], list[str]]:
        """The query's words folded (stop words kept), and its stems (stop words out)."""
        words = [w for w in self.query.parsed.positive() if isinstance(w, Word) and not w.prefix]
        folded: list[str] = []
        stems: list[str] = []
        for w in words:
            analysed = self.analysed(w.text)
            folded.extend(analysed.words)
            stems.extend(analysed.stems)
        return folded, stems

    def add_bonuses(self, folded: list[str], stems: list[str], plan: Plan) -> None:
        """Reward exact forms, words close together, and the exact sequence of stop words."""
        for word in dict.fromkeys(folded):  # in the query's order: the same tree every time
            plan.bonus.extend(Term(f, word, b) for f, b in self.bonuses.items())
        if plan.long:
            return
        if len(stems) > 1:
            # Scored on the best-ranked documents only: positions cost a read per document.
            plan.proximity.append(InOrder(schema.TITLE, tuple(stems), 2,
                                           PROXIMITY_BONUS[schema.TITLE]))
            plan.proximity.append(InOrder(schema.TEXT, tuple(stems), 4,
                                           PROXIMITY_BONUS[schema.TEXT]))
        stopped = len(folded) - len(stems)
        if len(folded) > 1 and stopped * 2 >= len(folded):
            # La Poste, Les Républicains: the exact sequence is what was meant.
            sequence = MatchAny(tuple(InOrder(f, tuple(folded), 1, STOP_PHRASE_BONUS)
                                 for f in EXACT_BONUS))
            plan.bonus.append(sequence)
            plan.sequence = sequence
            plan.phrases.add(tuple(folded))
            if not plan.required:
                plan.required.append(sequence)
        elif folded and not stems and not plan.required:
            # A single stop word (On): find it as written.
            plan.required.append(MatchAny(tuple(Term(f, folded[0]) for f in EXACT_BONUS)))
            plan.exact.update(folded)
