"""The app when the index goes away under it, on internal errors, and on methods it refuses."""

from __future__ import annotations

import gc
import json
import os
import shutil
from pathlib import Path

import pytest

from newssearch.web import create_app


@pytest.fixture
def live_app(index_dir: Path):
    """The app as served (not in testing mode, so errors are handled, not raised)."""
    app = create_app({"INDEX_DIR": str(index_dir)})
    # A logged 500 keeps its traceback, and the files Whoosh had open, in pytest's log capture.
    app.logger.disabled = True
    yield app
    gc.collect()


def break_index(index_dir: Path, how: str) -> None:
    generation = (index_dir / "current").resolve()
    if how == "generation-deleted":
        shutil.rmtree(generation)
    elif how == "meta-damaged":
        (generation / "newssearch.json").write_text("{")
    elif how == "current-dangling":
        os.replace(index_dir / "current", index_dir / "old-current")
        (index_dir / "current").symlink_to("gen-20200101T000000000000-1")


@pytest.mark.parametrize("how", ["generation-deleted",
                                 "meta-damaged",
                                 "current-dangling"])
def test_index_breaking_while_served_gives_503_not_500(live_app, index_dir: Path, how: str):
    client = live_app.test_client()
    assert client.get("/api/search?q=noel").status_code == 200
    assert client.get("/health").status_code == 200
    break_index(index_dir, how)
    answers = {path: client.get(path) for path in
               ("/api/search?q=noel", "/api/articles/ecole-noel", "/health", "/?q=noel")}
    print(f"\nindex broken while served ({how}): "
          f"{ {path: r.status_code for path, r in answers.items()} }")
    # Still answering from what is left is fine; failing without saying why is not.
    for path, r in answers.items():
        assert r.status_code in (200, 503), (path, r.status_code)
        if r.status_code == 503 and path != "/?q=noel":
            assert r.get_json()["error"]["code"] == "index_unavailable"
    if how != "meta-damaged":
        assert answers["/api/search?q=noel"].status_code == 503


def test_an_internal_error_is_generic_and_french(live_app):
    def boom():
        raise RuntimeError("secret détail interne /etc/passwd")

    live_app.add_url_rule("/api/boom", "api_boom", boom)
    live_app.add_url_rule("/boom", "page_boom", boom)
    client = live_app.test_client()
    api, page = client.get("/api/boom"), client.get("/boom")
    html = page.get_data(as_text=True)
    assert api.status_code == 500
    assert api.get_json() == {"error": {"code": "internal_server_error",
                                        "message": "Erreur interne du serveur."}}
    assert page.status_code == 500 and page.mimetype == "text/html"
    assert '<html lang="fr">' in html and "<p>Erreur interne du serveur.</p>" in html
    for r in (api, page):
        text = r.get_data(as_text=True)
        assert "secret" not in text and "Traceback" not in text and "RuntimeError" not in text
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert "script-src 'self'" in r.headers["Content-Security-Policy"]


ENDPOINTS = ["/", "/articles/ecole-noel", "/api/search", "/api/suggest",
             "/api/articles/ecole-noel", "/health", "/api/openapi.json", "/static/style.css"]


def test_writes_are_refused_with_405_and_change_nothing(live_app, index_dir: Path):
    before = sorted((str(p), p.stat().st_mtime_ns) for p in index_dir.rglob("*") if p.is_file())
    client = live_app.test_client()
    count = 0
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        for path in ENDPOINTS:
            r = client.open(path, method=method, data=json.dumps({"title": "x"}),
                            content_type="application/json")
            count += 1
            assert r.status_code == 405, (method, path)
            if path.startswith("/api/") or path == "/health":
                assert r.get_json() == {"error": {"code": "method_not_allowed",
                                                  "message": "Méthode non permise."}}
    after = sorted((str(p), p.stat().st_mtime_ns) for p in index_dir.rglob("*") if p.is_file())
    print(f"\nwrites refused: {count} requests, all 405")
    assert after == before


@pytest.mark.parametrize("path", ["/api/search", "/"])
def test_405_says_which_methods_are_allowed(live_app, path: str):
    r = live_app.test_client().post(path)
    assert r.status_code == 405
    assert set(r.headers.get("Allow", "").replace(" ", "").split(",")) >= {"GET", "HEAD"}
