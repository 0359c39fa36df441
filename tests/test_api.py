"""The JSON API: the whole response shape, errors by equality, every endpoint."""

from __future__ import annotations

import pytest

from newssearch import indexer, schema

HIT_KEYS = {"id", "title", "title_html", "snippet_html", "url", "date", "source", "section",
            "score", "duplicates"}


def test_search_response_has_the_whole_contract(client):
    r = client.get("/api/search?q=eleves+noel")
    assert r.status_code == 200 and r.mimetype == "application/json"
    body = r.get_json()
    assert list(body) == ["query", "total", "page", "per_page", "pages", "sort", "took_ms",
                          "hits", "suggestion", "notices", "facets", "histogram",
                          "corrected_from"]
    assert (body["query"], body["total"], body["page"], body["per_page"], body["pages"],
            body["sort"]) == ("eleves noel", 1, 1, 10, 1, "relevance")
    assert body["took_ms"] > 0 and body["suggestion"] is None and body["notices"] == []
    hit = body["hits"][0]
    assert set(hit) == HIT_KEYS
    assert hit["id"] == "ecole-noel" and hit["date"] == "2019-12-20"
    assert hit["title_html"] == "Les <mark>élèves</mark> de l’école fêtent <mark>Noël</mark>"
    assert (hit["source"], hit["section"], hit["duplicates"]) == ("AFP", "societe", 0)
    assert body["facets"] == {"section": [{"value": "societe", "count": 1, "label": "Société"}],
                              "source": [{"value": "AFP", "count": 1, "label": "AFP"}],
                              "year": [{"value": "2019", "count": 1, "label": "2019"}]}
    assert body["histogram"] == [{"period": "2019-12", "count": 1}]
    assert body["corrected_from"] is None


@pytest.mark.parametrize(("query", "code", "message"), [
    ("page=0", "bad_page", "« page » doit être entre 1 et 1000."),
    ("page=abc", "bad_page", "« page » doit être un entier entre 1 et 1000."),
    ("page=99999999", "bad_page", "« page » doit être un entier entre 1 et 1000."),
    ("per_page=101", "bad_per_page", "« per_page » doit être entre 1 et 100."),
    ("per_page=-1", "bad_per_page", "« per_page » doit être un entier entre 1 et 100."),
    ("sort=pertinence", "bad_sort", "« sort » vaut « relevance », « date » ou « date_asc »."),
    ("from=2020-13-01", "bad_from",
     "Date « Du » illisible : « 2020-13-01 ». Écrivez par exemple 15/06/2020, 06/2020, "
     "2020-06-15, 2020-06 ou 2020."),
    ("to=hier", "bad_to",
     "Date « Au » illisible : « hier ». Écrivez par exemple 15/06/2020, 06/2020, "
     "2020-06-15, 2020-06 ou 2020."),
    ("period=decennie", "bad_period",
     "Période « decennie » inconnue : 24h, semaine, mois, annee (24 heures, semaine, mois, "
     "année)."),
])
def test_bad_parameters_get_400_with_one_error_shape(client, query, code, message):
    r = client.get(f"/api/search?q=noel&{query}")
    assert r.status_code == 400
    assert r.get_json() == {"error": {"code": code, "message": message}}


def test_unknown_and_repeated_parameters_are_tolerated(client):
    r = client.get("/api/search?q=noel&q=retraites&foo=bar")
    assert r.status_code == 200 and r.get_json()["query"] == "noel"


def test_undecodable_query_bytes_degrade(client):
    r = client.get("/api/search?q=%ED%A0%80%FF%00noel")
    assert r.status_code == 200 and r.get_json()["total"] == 1


@pytest.mark.parametrize("q", ["\x00\x01", "(((", '"', "*", "a" * 10_000,
                               " ".join(["mot"] * 500), "titre:", "-", "OR OR"])
def test_hostile_queries_never_500(client, q):
    r = client.get("/api/search", query_string={"q": q})
    assert r.status_code == 200
    assert isinstance(r.get_json()["notices"], list)


def test_filters_sort_and_paging(client):
    body = client.get("/api/search?q=saint-denis&sort=date&per_page=1&page=2").get_json()
    assert (body["total"], body["pages"], body["sort"]) == (2, 2, "date")
    assert [h["id"] for h in body["hits"]] == ["ecole-noel"]
    body = client.get("/api/search?q=saint-denis&from=2020-01-01").get_json()
    assert [h["id"] for h in body["hits"]] == ["elysee-reforme"]
    body = client.get("/api/search?q=le&source=afp&section=Politique").get_json()
    assert [h["id"] for h in body["hits"]] == ["elysee-reforme"]


@pytest.mark.parametrize(("dates", "expected"), [
    ("from=2020", ["elysee-reforme", "kim-poutine", "porte-avions"]),
    ("to=2019", ["ecole-noel"]),
    ("from=2020-03&to=2020-03", ["porte-avions"]),
    ("from=02/03/2020&to=02/03/2020", ["porte-avions"]),
    ("from=03/2020&to=2023-01", ["elysee-reforme", "porte-avions"]),
    ("from=2023&to=2019", ["ecole-noel", "elysee-reforme", "kim-poutine", "porte-avions"]),
])
def test_partial_and_french_dates(client, dates, expected):
    body = client.get(f"/api/search?section=politique&section=monde&section=societe"
                      f"&section=france&per_page=100&{dates}").get_json()
    assert sorted(h["id"] for h in body["hits"]) == expected


def test_backwards_dates_are_swapped_and_said(client):
    body = client.get("/api/search?q=saint-denis&from=2023-12-31&to=2019-01-01").get_json()
    assert body["total"] == 2
    assert body["notices"] == ["Dates inversées : période du 1er janvier 2019 au "
                               "31 décembre 2023."]


def test_several_values_of_a_facet_are_any_of_them_and_facets_combine(client):
    one = client.get("/api/search?q=saint-denis&section=politique").get_json()
    assert [h["id"] for h in one["hits"]] == ["elysee-reforme"]
    # The chosen facet still counts its other values, so that one can be added.
    assert {v["value"]: v["count"] for v in one["facets"]["section"]} == {
        "politique": 1, "societe": 1}
    both = client.get("/api/search?q=saint-denis&section=politique&section=societe").get_json()
    assert sorted(h["id"] for h in both["hits"]) == ["ecole-noel", "elysee-reforme"]
    # AND across facets: both sections, but only the AFP articles of 2019.
    narrowed = client.get("/api/search?q=saint-denis&section=politique&section=societe"
                          "&source=AFP&to=2019").get_json()
    assert [h["id"] for h in narrowed["hits"]] == ["ecole-noel"]


def test_sort_oldest_first_and_newest_first(client):
    newest = client.get("/api/search?q=saint-denis&sort=date").get_json()
    oldest = client.get("/api/search?q=saint-denis&sort=date_asc").get_json()
    assert [h["id"] for h in newest["hits"]] == ["elysee-reforme", "ecole-noel"]
    assert [h["id"] for h in oldest["hits"]] == ["ecole-noel", "elysee-reforme"]
    assert oldest["sort"] == "date_asc"


def test_histogram_counts_months_of_every_match(client):
    body = client.get("/api/search?section=politique&section=monde&per_page=1").get_json()
    assert body["histogram"] == [{"period": f"2023-{m:02d}", "count": int(m in (1, 9))}
                                 for m in range(1, 10)]
    # Beyond three years the timeline counts years.
    body = client.get("/api/search?section=politique&section=monde&section=societe"
                      "&section=france").get_json()
    assert body["histogram"] == [{"period": "2019", "count": 1}, {"period": "2020", "count": 1},
                                 {"period": "2021", "count": 0}, {"period": "2022", "count": 0},
                                 {"period": "2023", "count": 2}]


def test_typo_gets_a_suggestion_with_its_count(client):
    body = client.get("/api/search?q=manifestatoins").get_json()
    assert body["suggestion"] == {"text": "manifestations",
                                  "html": "<em>manifestations</em>", "total": 1}
    assert [h["id"] for h in body["hits"]] == ["elysee-reforme"]


def test_article_endpoint_and_its_404(client):
    r = client.get("/api/articles/kim-poutine?q=poutine")
    assert r.status_code == 200
    body = r.get_json()
    assert body["title_html"] == ("Kim Jong-un et Vladimir <mark>Poutine</mark> "
                                  "se rencontrent")
    assert body["date"] == "2023-09-13" and body["tags"] == []
    r = client.get("/api/articles/inconnu")
    assert r.status_code == 404
    assert r.get_json() == {"error": {"code": "not_found", "message": "Aucun article « inconnu »."}}


def test_unknown_api_path_is_a_json_404(client):
    r = client.get("/api/nothing")
    assert r.status_code == 404
    assert r.get_json() == {"error": {"code": "not_found", "message": "Page introuvable."}}


def test_suggest_completes_the_last_word(client):
    body = client.get("/api/suggest?q=le+porte-avions+app").get_json()
    assert body["query"] == "le porte-avions app"
    assert body["suggestions"] == []  # words seen in a single article are not offered
    body = client.get("/api/suggest?q=les+ele").get_json()
    assert body["suggestions"] == ["les élèves"]


def test_health_reports_the_index(client):
    body = client.get("/health").get_json()
    assert body["documents"] == 4 and body["schema_version"] == schema.SCHEMA_VERSION
    assert body["status"] == "ok" and body["built_at"]


def test_openapi_describes_every_endpoint(client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) == {"/api/search", "/api/suggest", "/api/articles/{id}",
                                  "/health"}


def test_missing_index_is_a_503_with_the_error_shape(tmp_path):
    from newssearch.web import create_app

    client = create_app({"INDEX_DIR": str(tmp_path / "none")}).test_client()
    r = client.get("/api/search?q=noel")
    assert r.status_code == 503
    assert r.get_json()["error"]["code"] == "index_unavailable"
    assert "newssearch index" in r.get_json()["error"]["message"]


def test_api_sees_a_rebuilt_index_without_restart(client, corpus_dir, index_dir):
    assert client.get("/api/search?q=tempete").get_json()["total"] == 0
    (corpus_dir / "more.jsonl").write_text(
        '{"id": "tempete", "title": "Tempête en Bretagne", "body": "Rafales à Brest."}\n')
    indexer.rebuild([corpus_dir], index_dir)
    assert client.get("/api/search?q=tempete").get_json()["total"] == 1


def test_security_headers(client):
    r = client.get("/api/search?q=noel")
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_no_request_writes(client):
    for method in (client.post, client.put, client.delete):
        assert method("/api/search?q=noel").status_code == 405
