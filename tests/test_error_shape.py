"""Every JSON endpoint answers errors with one body shape, checked by equality."""

from __future__ import annotations

from pathlib import Path

import pytest

from newssearch.web import create_app
from newssearch.web.errors import is_json_path

NOT_ALLOWED = "Méthode non permise."
UNAVAILABLE = ("L’index n’est pas disponible : no index in {index}. "
               "Build one with: newssearch index SOURCE --index {index}")

# (url rule, method, path, status, code, message); rule None: a path no route matches.
CASES = [
    ("/api/search", "get", "/api/search?q=noel&page=0", 400, "bad_page",
     "« page » doit être entre 1 et 1000."),
    ("/api/search", "get", "/api/search?q=noel&from=hier", 400, "bad_from",
     "Date « Du » illisible : « hier ». Écrivez par exemple 15/06/2020, 06/2020, "
     "2020-06-15, 2020-06 ou 2020."),
    ("/api/search", "post", "/api/search?q=noel", 405, "method_not_allowed", NOT_ALLOWED),
    ("/api/search", "get", "/api/search?q=noel", 503, "index_unavailable", UNAVAILABLE),
    ("/api/suggest", "post", "/api/suggest?q=noel", 405, "method_not_allowed", NOT_ALLOWED),
    ("/api/suggest", "get", "/api/suggest?q=noel", 503, "index_unavailable", UNAVAILABLE),
    ("/api/articles/<article_id>", "get", "/api/articles/inconnu", 404, "not_found",
     "Aucun article « inconnu »."),
    ("/api/articles/<article_id>", "put", "/api/articles/ecole-noel", 405,
     "method_not_allowed", NOT_ALLOWED),
    ("/api/articles/<article_id>", "get", "/api/articles/ecole-noel", 503,
     "index_unavailable", UNAVAILABLE),
    ("/health", "delete", "/health", 405, "method_not_allowed", NOT_ALLOWED),
    ("/health", "get", "/health", 503, "index_unavailable", UNAVAILABLE),
    ("/api/openapi.json", "post", "/api/openapi.json", 405, "method_not_allowed", NOT_ALLOWED),
    (None, "get", "/api/nothing", 404, "not_found", "Page introuvable."),
    (None, "post", "/api/articles", 404, "not_found", "Page introuvable."),
]


@pytest.fixture
def unavailable(tmp_path: Path):
    """A test client of an app over an empty directory (no index yet), and that directory."""
    directory = tmp_path / "empty"
    directory.mkdir()
    return create_app({"TESTING": True, "INDEX_DIR": str(directory)}).test_client(), directory


@pytest.mark.parametrize(("rule", "method", "path", "status", "code", "message"), CASES,
                         ids=[f"{c[1]} {c[2]} {c[3]}" for c in CASES])
def test_error_body_and_status(request, rule, method, path, status, code, message):
    if status == 503:
        client, index = request.getfixturevalue("unavailable")
        message = message.format(index=index)
    else:
        client = request.getfixturevalue("client")
    r = getattr(client, method)(path)
    assert r.status_code == status and r.mimetype == "application/json"
    assert r.get_json() == {"error": {"code": code, "message": message}}
    if status == 405:
        assert "GET" in r.headers["Allow"]


def test_every_json_endpoint_is_in_the_table(app):
    routes = {r.rule for r in app.url_map.iter_rules() if is_json_path(r.rule)}
    assert routes == {c[0] for c in CASES if c[0]}
    # Each endpoint refuses a wrong method; each one that reads the index reports it missing.
    assert {c[0] for c in CASES if c[3] == 405} == routes
    assert {c[0] for c in CASES if c[3] == 503} == routes - {"/api/openapi.json"}


def test_openapi_lists_the_same_paths(client):
    spec = client.get("/api/openapi.json").get_json()
    # The description leaves itself out; Flask's <article_id> is OpenAPI's {id}.
    documented = {p.replace("{id}", "<article_id>") for p in spec["paths"]}
    assert documented == {c[0] for c in CASES if c[0]} - {"/api/openapi.json"}
