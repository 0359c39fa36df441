"""SearchService over a cluster index, on the wire: opensearch-py against osmem-server.

osmem is bleve underneath, so these tests use the built-in ``french`` analyzer
(``?analysis=builtin``) and assert shapes and counts only, never tokens, scores or
order by relevance (OPENSEARCH.md).
"""

from __future__ import annotations

from datetime import date

import pytest
from opensearchpy import OpenSearch, helpers

from newssearch import store
from newssearch.corpus import load_corpus
from newssearch.opensearch import fields, mapping
from newssearch.opensearch.search import OpenSearchIndex
from newssearch.records import SearchRequest
from newssearch.search import SearchService
from tests.conftest import ARTICLES

CONCRETE = "news-20240101t000000"
# A wire copy of the first article: same headline, another source.
COPY = {**ARTICLES[0], "id": "elysee-reforme-reuters", "source": "Reuters",
        "date": "2023-01-13"}


@pytest.fixture
def articles() -> list[dict]:
    """The conftest articles and a republished copy of the first."""
    return [dict(a) for a in ARTICLES] + [dict(COPY)]


@pytest.fixture
def cluster(osmem_clone, corpus_dir) -> str:
    """A cluster index of the corpus behind the alias ``news``: its location."""
    client = OpenSearch(hosts=[osmem_clone.url])
    body = mapping.index_body(replicas=0, analysis="builtin")
    body["mappings"]["_meta"] = {"schema_version": 205, "built_at": "2024-01-01T00:00:00"}
    client.indices.create(index=CONCRETE, body=body)
    corpus = load_corpus([corpus_dir])
    helpers.bulk(client, ({"_index": CONCRETE, "_id": a.id, "_source": fields.source(a, "f")}
                          for a in corpus.articles), refresh=True)
    client.indices.update_aliases(body={"actions": [{"add": {"index": CONCRETE,
                                                             "alias": "news"}}]})
    return f"opensearch+{osmem_clone.url}/news?analysis=builtin"


@pytest.fixture
def service(cluster) -> SearchService:
    """SearchService opened on the cluster location, as the CLI and the app open it."""
    return SearchService(cluster)


def test_a_location_opens_the_cluster_backend_and_reports_the_build(service):
    assert isinstance(service.index, OpenSearchIndex)
    info = service.info()
    assert (info.documents, info.schema_version, info.built_at) == (
        len(ARTICLES) + 1, 205, "2024-01-01T00:00:00")


def test_a_search_returns_marked_hits_facets_and_a_timeline(service):
    page = service.search(SearchRequest("Poutine", collapse=False))
    assert page.total == 1 and [h.id for h in page.hits] == ["kim-poutine"]
    assert "<mark>Poutine</mark>" in page.hits[0].title_html
    assert page.facets["section"][0].value == "monde"
    assert [(p.period, p.count) for p in page.histogram] == [("2023-09", 1)]


def test_wire_copies_collapse_onto_one_headline_with_its_copies_counted(service):
    collapsed = service.search(SearchRequest("Élysée"))
    assert collapsed.total == 1 and collapsed.hits[0].duplicates == 1
    every = service.search(SearchRequest("Élysée", collapse=False))
    assert every.total == 2 and {h.duplicates for h in every.hits} == {0}
    assert sum(v.count for v in every.facets["source"]) == 2
    assert sum(v.count for v in collapsed.facets["year"]) == 1


@pytest.mark.parametrize(("sort", "expected"), [
    ("date", [date(2023, 1, 13), date(2023, 1, 12), date(2019, 12, 20)]),
    ("date_asc", [date(2019, 12, 20), date(2023, 1, 12), date(2023, 1, 13)]),
])
def test_browsing_a_source_sorts_by_date(service, sort, expected):
    page = service.search(SearchRequest("", sort=sort, sources=("AFP", "Reuters"),
                                        collapse=False, date_to=date(2023, 6, 1)))
    assert [h.date for h in page.hits] == expected


def test_page_two_follows_page_one(service):
    request = {"q": "", "sources": ("AFP",), "per_page": 1, "sort": "date", "collapse": False}
    first = service.search(SearchRequest(**request))
    second = service.search(SearchRequest(page=2, **request))
    assert first.total == second.total == 2 and second.pages == 2
    assert [h.id for h in first.hits] == ["elysee-reforme"]
    assert [h.id for h in second.hits] == ["ecole-noel"]


def test_a_chosen_section_keeps_the_other_sections_countable(service):
    page = service.search(SearchRequest("", sections=("politique",), collapse=False))
    assert {h.section for h in page.hits} == {"politique"} and page.total == 2
    sections = {v.value: v.count for v in page.facets["section"]}
    assert sections == {"politique": 2, "monde": 1, "societe": 1, "france": 1}
    assert {v.value: v.count for v in page.facets["source"]} == {"AFP": 1, "Reuters": 1}


def test_query_filters_and_exclusions_reach_the_cluster(service):
    assert service.search(SearchRequest("source:afp", collapse=False)).total == 2
    assert service.search(SearchRequest("rubrique:monde")).total == 1
    excluded = service.search(SearchRequest("source:afp -élèves", collapse=False))
    assert [h.id for h in excluded.hits] == ["elysee-reforme"]
    either = service.search(SearchRequest("Poutine OR Toulon", collapse=False))
    assert either.total == 2


def test_a_typo_is_corrected_from_the_cluster_terms(service):
    page = service.search(SearchRequest("Poutyne"))
    assert page.corrected_from == "Poutyne" and page.total == 1
    assert page.suggestion is not None and "<em>" in page.suggestion.html


def test_an_article_its_related_ones_and_completions(service):
    view = service.article("kim-poutine", "Poutine")
    assert view is not None and "<mark>Poutine</mark>" in view.title_html
    assert service.article("nothing-here") is None and service.has("ecole-noel")
    related = service.related("elysee-reforme")
    assert "elysee-reforme-reuters" not in {h.id for h in related}
    assert all(isinstance(s, str) for s in service.suggest("élys"))
    assert service.source_spellings({"afp", "nope"}) == {"afp": "AFP"}


def test_an_unknown_alias_is_an_unavailable_index(osmem_clone):
    service = SearchService(f"opensearch+{osmem_clone.url}/nothing?analysis=builtin")
    with pytest.raises(store.IndexUnavailable, match="holds no index nothing"):
        service.search(SearchRequest("retraites"))


def test_a_stopped_server_is_an_unavailable_index(osmem_server, cluster):
    clone = osmem_server.clone()
    service = SearchService(f"opensearch+{clone.url}/news?analysis=builtin")
    clone.close()
    with pytest.raises(store.IndexUnavailable, match="does not answer"):
        service.search(SearchRequest("retraites"))


def test_a_stopped_cluster_answers_the_web_503_error_shape(osmem_server):
    from newssearch.web import create_app

    clone = osmem_server.clone()
    location = f"opensearch+{clone.url}/news?analysis=builtin"
    clone.close()
    client = create_app({"TESTING": True, "INDEX_DIR": location}).test_client()
    r = client.get("/api/search?q=retraites")
    assert r.status_code == 503
    assert r.get_json() == {"error": {"code": "index_unavailable", "message": (
        f"L’index n’est pas disponible : {location}: the cluster does not answer; "
        "check that it runs and the address is right")}}
