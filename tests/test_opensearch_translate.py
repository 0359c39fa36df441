"""Query translation: golden request bodies for a table of queries, and a lint against the mapping.

The plans come from the real parser and planner over a small fake lexicon; the
bodies are compared with tests/golden/opensearch/*.json (regenerate them with
NEWSSEARCH_UPDATE_GOLDEN=1, then read the diff: they must be right, not just stable).
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest

from newssearch import schema
from newssearch.opensearch import mapping
from newssearch.opensearch.translate import Translator, facets_body, search_body
from newssearch.query import run
from newssearch.query.analyse import AnalysedQuery
from newssearch.query.parse import parse
from newssearch.query.plan import Planner
from newssearch.query.tree import BM25F, InOrder, Term
from newssearch.records import SearchRequest

GOLDEN = Path(__file__).parent / "golden" / "opensearch"


class Lexicon:
    """A tiny index's words and names, as a snapshot's Lexicon gives them."""

    prefixes = {"macro": ["macron", "macronist", "macroeconom"]}
    names = {schema.SECTION: {"politique": ["politique"], "societe": ["Société"]},
             schema.SOURCE: {"afp": ["AFP"], "le monde": ["Le Monde"]}}

    def __init__(self, translator: Translator):
        self.translator = translator

    def expand_prefix(self, field, prefix):
        return iter(self.prefixes.get(prefix, []))

    def facet_values(self, field, key):
        return self.names.get(field, {}).get(key, [])

    def allowed(self, filters, date_from, date_to, facets=None):
        return self.translator.filters(filters, date_from, date_to, facets)


def bodies(request: SearchRequest, builtin: bool = False) -> dict:
    """The requests SearchService has the cluster run for one search request."""
    translator = Translator(builtin)
    lexicon = Lexicon(translator)
    planner = Planner(lexicon)
    plan = planner.plan(AnalysedQuery.of(parse(request.q)))
    scope = run.allowed(lexicon, request, plan, planner, [])
    clause = plan.query(strict=plan.sequence is not None)  # run.run's first attempt
    query = translator.clause(clause) if clause is not None else {"match_all": {}}
    by_date = request.sort != "relevance"
    found = {"search": search_body(
        query, scope, size=request.page * request.per_page, by_date=by_date,
        ascending=request.sort == "date_asc", collapse=request.collapse,
        proximity=[translator.clause(p) for p in plan.proximity])}
    if request.sections or request.sources:
        found["facets"] = facets_body(query, scope, collapse=request.collapse)
    return found


CASES = {
    "words": SearchRequest("réforme des retraites", collapse=False),
    "phrase": SearchRequest('"réforme des retraites"', collapse=False),
    "stop_words_only": SearchRequest("La Poste", collapse=False),
    "exclusion": SearchRequest("retraites -grève", collapse=False),
    "or": SearchRequest("nucléaire OR atome", collapse=False),
    "title": SearchRequest("titre:Macron", collapse=False),
    "source": SearchRequest("source:afp retraites", collapse=False),
    "section": SearchRequest("rubrique:société retraites", collapse=False),
    "prefix": SearchRequest("macro*", collapse=False),
    "dates": SearchRequest("retraites", date_from=date(2023, 1, 1), date_to=date(2023, 12, 31),
                           collapse=False),
    "sort_by_date": SearchRequest("retraites", sort="date", collapse=False),
    "page_2": SearchRequest("retraites", page=2, collapse=False),
    "collapse": SearchRequest("retraites"),
    "chosen_facets": SearchRequest("retraites", sections=("politique",), sources=("AFP",)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_query_becomes_its_golden_request_body(name):
    found = bodies(CASES[name])
    golden = GOLDEN / f"{name}.json"
    text = json.dumps(found, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    if os.environ.get("NEWSSEARCH_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert json.loads(golden.read_text(encoding="utf-8")) == found


def names(body, key: str | None = None):
    """Every (kind, name) a request body names: fields queried, sorted, aggregated; analyzers."""
    if isinstance(body, list):
        for item in body:
            yield from names(item, key)
        return
    if not isinstance(body, dict):
        return
    for k, v in body.items():
        if k in ("term", "terms", "match", "match_phrase", "prefix", "range", "span_term") \
                and "field" not in v:  # a query on fields, not a terms aggregation
            yield from (("field", f) for f in v)
        elif k == "fields" and key == "combined_fields":
            yield from (("field", f.split("^")[0]) for f in v)
        elif k == "field" and isinstance(v, str):
            yield ("field", v)
        elif k == "sort":
            yield from (("field", f) for s in v if isinstance(s, dict) for f in s)
        elif k == "analyzer":
            yield ("analyzer", v)
        elif k == "_source":
            yield from (("field", f) for f in v)
        yield from names(v, k)


@pytest.mark.parametrize("builtin", [False, True], ids=["custom", "builtin"])
def test_every_field_and_analyzer_a_request_names_is_in_the_mapping(builtin):
    body = mapping.index_body(analysis="builtin" if builtin else "custom")
    fields, analyzers = mapping.field_paths(body), mapping.analyzers(body)
    named = set()
    for request in CASES.values():
        for sent in bodies(request, builtin).values():
            named.update(names(sent))
    assert {n for kind, n in named if kind == "field"} - fields == set()
    assert {n for kind, n in named if kind == "analyzer"} - analyzers == set()
    assert {n for kind, n in named if kind == "field"} >= {"title", "text.exact", "date"}


def test_combined_fields_sends_our_stems_through_a_pass_through_search_analyzer():
    properties = mapping.index_body()["mappings"]["properties"]
    used = {f.split("^")[0] for f in Translator().clause(BM25F((
        Term(schema.TITLE, "retrait", 2.0), Term(schema.TEXT, "retrait"))))[
        "combined_fields"]["fields"]}
    assert {properties[f].get("search_analyzer") for f in used} == {mapping.TERMS}


@pytest.mark.parametrize(("clause", "expected"), [
    (Term(schema.TITLE_EXACT, "poste", 1.5), {"term": {"title.exact": {"value": "poste",
                                                                        "boost": 1.5}}}),
    (InOrder(schema.TEXT, ("reform", "retrait"), 4, 1.0),
     {"span_near": {"clauses": [{"span_term": {"text": "reform"}},
                                {"span_term": {"text": "retrait"}}],
                    "slop": 3, "in_order": True}}),
    (BM25F((Term(schema.TITLE, "retrait", 0.5), Term(schema.TEXT, "retrait", 0.25))),
     {"combined_fields": {"query": "retrait", "fields": ["title^2", "text^1"], "boost": 0.25}}),
])
def test_terms_are_sent_as_analysed_and_weights_stay_valid(clause, expected):
    """No re-analysis of our terms; combined_fields field boosts of at least 1."""
    assert Translator().clause(clause) == expected


def test_builtin_analysis_matches_the_analysed_text_instead():
    builtin = Translator(builtin=True)
    assert builtin.clause(Term(schema.TITLE, "retrait", 2.0)) == {
        "match": {"title": {"query": "retrait", "boost": 2}}}
    assert builtin.clause(Term(schema.SECTION, "Société")) == {"term": {"section": {
        "value": "Société"}}}
    assert builtin.clause(InOrder(schema.TITLE_EXACT, ("la", "poste"))) == {
        "match_phrase": {"title.exact": {"query": "la poste", "slop": 0}}}
