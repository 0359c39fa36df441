"""Our query tree, filters, dates, sort, pages and collapse as OpenSearch request bodies.

Pure functions: a clause in, a JSON-able dict out. The terms of our clauses are
already analysed (stems in ``title``/``text``, folded words in the ``.exact``
fields), so with our own chain they are sent as terms that OpenSearch never
re-analyses: ``term`` and ``span_term`` queries, and ``combined_fields`` (true
BM25F, our field weights as its field boosts) over fields whose search analyzer
is the pass-through ``mapping.TERMS`` (combined_fields has no ``analyzer``
parameter of its own). With ``analysis=builtin`` the index holds the built-in
``french`` analyzer's terms, not our stems: words are then sent as ``match``
queries on the analysed text, which is lower quality (another stemmer, no exact
sub-field folding of ours).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from newssearch import schema
from newssearch.opensearch.fields import path
from newssearch.query.rank import FACETS
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

# What a hit needs to become an Article (the searched ``text`` copy is left on the server).
SOURCE_FIELDS = [schema.ID, schema.TITLE, schema.LEDE, schema.BODY, schema.URL, schema.DATE,
                 schema.SECTION, schema.SOURCE, schema.TAGS]
# OpenSearch's default index.max_result_window: deeper pages are not served.
MAX_WINDOW = 10_000
# Exact up to this many distinct headlines (the most OpenSearch allows), approximate beyond.
CARDINALITY_PRECISION = 40_000
FACET_SIZE = 1_000
COPIES = "copies"    # the inner hits that count a collapsed headline's copies
STORIES = "stories"  # the aggregation counting distinct headlines
_TEXT_FIELDS = set(schema.TEXT_FIELDS)


@dataclass(frozen=True)
class Scope:
    """What a request's filters allow: query filters and dates, and each chosen facet apart."""

    filters: tuple[dict, ...] = ()
    facets: tuple[tuple[str, dict], ...] = ()

    def all_filters(self, but: str | None = None) -> list[dict]:
        """The filters, with every chosen facet's but ``but``'s."""
        return [*self.filters, *(f for name, f in self.facets if name != but)]


class Translator:
    """Turns clauses into query DSL, for our chain or the built-in ``french`` analyzer."""

    def __init__(self, builtin: bool = False):
        self.builtin = builtin

    def clause(self, node: Clause) -> dict:
        """The query DSL of one clause of our tree."""
        if isinstance(node, Term):
            return self.term(node.field, node.text, node.weight)
        if isinstance(node, BM25F):
            return self.bm25f(node)
        if isinstance(node, InOrder):
            return self.in_order(node)
        if isinstance(node, MatchAll):
            return {"bool": {"must": [self.clause(c) for c in node.children]}}
        if isinstance(node, MatchAny):
            return {"bool": {"should": [self.clause(c) for c in node.children],
                             "minimum_should_match": 1}}
        if isinstance(node, Without):
            return {"bool": {"must": [self.clause(node.node)],
                             "must_not": [self.clause(node.excluded)]}}
        if isinstance(node, WithBonus):
            return {"bool": {"must": [self.clause(node.node)],
                             "should": [self.clause(node.bonus)]}}
        if isinstance(node, ConstantScore):
            return {"constant_score": {"filter": self.clause(node.node), "boost": node.score}}
        if isinstance(node, AllDocuments):
            # Every article, scored 0 as the embedded backend scores it.
            return {"constant_score": {"filter": {"match_all": {}}, "boost": 0.0}}
        if isinstance(node, NoDocuments):
            return {"match_none": {}}
        raise TypeError(f"no translation for {node!r}")

    def term(self, field: str, text: str, weight: float = 1.0) -> dict:
        if self.builtin and field in _TEXT_FIELDS:
            return {"match": {path(field): _boosted({"query": text}, weight)}}
        return {"term": {path(field): _boosted({"value": text}, weight)}}

    def bm25f(self, node: BM25F) -> dict:
        texts = {t.text for t in node.terms}
        if len(node.terms) == 1 or len(texts) > 1:
            if len(node.terms) == 1:
                return self.term(node.terms[0].field, node.terms[0].text, node.terms[0].weight)
            return {"bool": {"should": [self.term(t.field, t.text, t.weight) for t in node.terms],
                             "minimum_should_match": 1}}
        # combined_fields wants field boosts of at least 1: the smallest weight is the query's.
        low = min(t.weight for t in node.terms)
        scale = low if low < 1.0 else 1.0
        body = {"query": node.terms[0].text,
                "fields": [f"{path(t.field)}^{_number(t.weight / scale)}" for t in node.terms]}
        return {"combined_fields": _boosted(body, scale)}

    def in_order(self, node: InOrder) -> dict:
        if len(node.words) == 1:
            return self.term(node.field, node.words[0], node.weight)
        # Our slop bounds each gap (1: adjacent); span_near bounds the positions skipped in all.
        slop = max(node.slop - 1, 0) * (len(node.words) - 1)
        if self.builtin:
            return {"match_phrase": {path(node.field): _boosted(
                {"query": " ".join(node.words), "slop": slop}, node.weight)}}
        return {"span_near": _boosted({
            "clauses": [{"span_term": {path(node.field): w}} for w in node.words],
            "slop": slop, "in_order": True}, node.weight)}

    def filters(self, clauses: Sequence[Clause], date_from: date | None, date_to: date | None,
                facets: Mapping[str, Clause] | None = None) -> Scope | None:
        """The scope of a request (None: every article)."""
        found = [self.clause(c) for c in clauses]
        if date_from or date_to:
            bounds = {}
            if date_from:
                bounds["gte"] = date_from.isoformat()
            if date_to:
                bounds["lte"] = date_to.isoformat()
            found.append({"range": {schema.DATE: {**bounds, "format": "yyyy-MM-dd"}}})
        chosen = tuple((name, self.clause(c)) for name, c in (facets or {}).items())
        return Scope(tuple(found), chosen) if found or chosen else None


def search_body(query: dict, scope: Scope | None, *, size: int, by_date: bool = False,
                ascending: bool = False, collapse: bool = False,
                proximity: Sequence[dict] = (), min_score: float | None = None) -> dict:
    """One page of ranked hits, from the first: sort, collapse and the strong-match floor."""
    scope = scope or Scope()
    scored: dict = {"must": [query]}
    if proximity and not by_date:
        # Rescoring cannot go with collapse: the proximity bonuses are optional clauses.
        scored["should"] = list(proximity)
    if scope.all_filters():
        scored["filter"] = scope.all_filters()
    body: dict = {"size": min(size, MAX_WINDOW), "track_total_hits": True,
                  "_source": SOURCE_FIELDS, "query": {"bool": scored}}
    if by_date:
        # Undated articles last either way, as the embedded backend lists them.
        body["sort"] = [{schema.DATE: {"order": "asc" if ascending else "desc",
                                       "missing": "_last"}}, "_score"]
        body["track_scores"] = True
    if min_score is not None:
        body["min_score"] = min_score
    if collapse:
        body["collapse"] = {"field": schema.TITLE_KEY, "inner_hits": {"name": COPIES, "size": 0}}
        body["aggs"] = {STORIES: stories()}
    return body


def stories() -> dict:
    """The aggregation counting distinct headlines (wire copies share one)."""
    return {"cardinality": {"field": schema.TITLE_KEY,
                            "precision_threshold": CARDINALITY_PRECISION}}


def facets_body(query: dict, scope: Scope | None, *, collapse: bool,
                min_score: float | None = None) -> dict:
    """The facets and timeline of a ranking, each chosen facet counted without its own filter.

    Hits and facets are separate requests (only the final ranking is counted), so no
    post_filter is needed: each facet's aggregation filters by every other chosen facet.
    """
    scope = scope or Scope()
    counted = {"aggs": {STORIES: stories()}} if collapse else {}
    aggs: dict = {}
    for name in FACETS:
        values = {"terms": {"field": name, "size": FACET_SIZE}, **counted}
        aggs[name] = {"filter": {"bool": {"filter": [f for n, f in scope.facets if n != name]}},
                      "aggs": {"values": values}}
    months = {"date_histogram": {"field": schema.DATE, "calendar_interval": "month",
                                 "format": "yyyy-MM", "min_doc_count": 1}, **counted}
    aggs["timeline"] = {"filter": {"bool": {"filter": [f for _, f in scope.facets]}},
                        "aggs": {"months": months}}
    scored: dict = {"must": [query]}
    if scope.filters:
        scored["filter"] = list(scope.filters)
    body: dict = {"size": 0, "track_total_hits": True, "query": {"bool": scored}, "aggs": aggs}
    if min_score is not None:
        body["min_score"] = min_score
    return body


def _boosted(body: dict, weight: float) -> dict:
    if weight != 1.0:
        body["boost"] = _number(weight)
    return body


def _number(value: float) -> float | int:
    """A weight as JSON writes it plainly: 2 rather than 2.0, 0.5 as is."""
    value = round(float(value), 6)
    return int(value) if value.is_integer() else value
