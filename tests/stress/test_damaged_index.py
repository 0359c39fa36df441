"""Damaged or foreign index directories: the CLI, the app and the server say what is wrong."""

from __future__ import annotations

import gc
import json
import os
from pathlib import Path
from urllib.parse import quote

import pytest

from newssearch import indexer
from newssearch.web import create_app

KINDS = ["garbage-toc", "missing-segment",
         "truncated-segment", "damaged-meta", "old-schema",
         "dangling-current", "foreign-dir", "empty-dir"]


def damage(tmp_path: Path, kind: str, make_articles, write_jsonl) -> Path:
    """Return an index directory damaged in one way."""
    index_dir = tmp_path / "index"
    if kind == "foreign-dir":
        (index_dir / "photos").mkdir(parents=True)
        (index_dir / "notes.txt").write_text("mes notes\n")
        return index_dir
    if kind == "empty-dir":
        index_dir.mkdir()
        return index_dir
    src = write_jsonl(tmp_path / "src" / "news.jsonl", make_articles(30, seed=13))
    indexer.rebuild([src.parent], index_dir)
    gen = (index_dir / "current").resolve()
    meta = gen / "newssearch.json"
    if kind == "garbage-toc":
        for toc in gen.glob("*.toc"):
            toc.write_bytes(b"\x00garbage" * 10)
    elif kind == "missing-segment":
        for seg in [*gen.glob("*.seg"), *gen.glob("*.trm")]:  # compound or separate files
            seg.unlink()
    elif kind == "truncated-segment":
        for seg in [*gen.glob("*.seg"), *gen.glob("*.trm")]:
            os.truncate(seg, seg.stat().st_size // 2)
    elif kind == "damaged-meta":
        meta.write_text('{"schema_version": ')
    elif kind == "old-schema":
        meta.write_text(json.dumps({**json.loads(meta.read_text()), "schema_version": 1}))
    elif kind == "dangling-current":
        (index_dir / "current").unlink()
        (index_dir / "current").symlink_to("gen-20200101T000000000000-1")
    return index_dir


@pytest.mark.parametrize("kind", KINDS)
def test_cli_says_what_is_wrong_and_how_to_rebuild(tmp_path: Path, kind, newssearch,
                                                   make_articles, write_jsonl):
    index_dir = damage(tmp_path, kind, make_articles, write_jsonl)
    results = {cmd: newssearch(*args, "--index", index_dir) for cmd, args in
               (("search", ("search", "gouvernement")), ("stats", ("stats",)))}
    print(f"\ndamaged index ({kind}): " + "; ".join(
        f"{cmd} exit {r.returncode}: "
        f"{(r.stderr.strip().splitlines() or [''])[-1].replace(str(tmp_path), '…')[:150]}"
        for cmd, r in results.items()))
    for result in results.values():
        assert result.returncode == 1
        assert "Traceback" not in result.stderr
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith("Error: ") and "newssearch index" in last, last


def test_indexing_into_a_foreign_directory_is_refused(tmp_path: Path, newssearch, make_articles,
                                                      write_jsonl):
    index_dir = damage(tmp_path, "foreign-dir", make_articles, write_jsonl)
    src = write_jsonl(tmp_path / "src" / "news.jsonl", make_articles(5))
    result = newssearch("index", src.parent, "--index", index_dir)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: {index_dir} is not a newssearch index (it holds notes.txt, photos); "
        "choose an empty or new directory with --index.")
    assert sorted(p.name for p in index_dir.iterdir()) == ["notes.txt", "photos"]


@pytest.mark.parametrize("kind", KINDS)
def test_app_answers_503_with_the_error_shape_and_a_french_page(tmp_path: Path, kind,
                                                                make_articles, write_jsonl):
    index_dir = damage(tmp_path, kind, make_articles, write_jsonl)
    app = create_app({"INDEX_DIR": str(index_dir)})
    # A logged 500 keeps its traceback (and Whoosh's open segment file) in pytest's log
    # capture; unlogged, the file's ResourceWarning lands in this test, not a later one.
    app.logger.disabled = True
    try:
        check_app(app.test_client())
    finally:
        gc.collect()


def check_app(client) -> None:
    for path in ("/api/search?q=gouvernement", "/api/suggest?q=gouv", "/api/articles/art-00001",
                 "/health"):
        r = client.get(path)
        assert r.status_code == 503, (path, r.status_code)
        body = r.get_json()
        assert list(body) == ["error"] and list(body["error"]) == ["code", "message"]
        assert body["error"]["code"] == "index_unavailable"
        assert body["error"]["message"].startswith("L’index n’est pas disponible : ")
        assert "newssearch index" in body["error"]["message"]
    page = client.get("/?q=gouvernement")
    html = page.get_data(as_text=True)
    assert page.status_code == 503 and page.mimetype == "text/html"
    assert '<html lang="fr">' in html and "<h1>Index indisponible</h1>" in html
    assert "newssearch index" in html and "Traceback" not in html


@pytest.mark.parametrize("kind", ["garbage-toc", "missing-segment", "foreign-dir"])
def test_server_answers_503_and_logs_no_traceback(tmp_path: Path, kind, serve, make_articles,
                                                  write_jsonl):
    index_dir = damage(tmp_path, kind, make_articles, write_jsonl)
    server = serve(index_dir)
    api = server.request("GET", f"/api/search?q={quote('gouvernement')}")
    page = server.request("GET", "/?q=gouvernement")
    health = server.request("GET", "/health")
    server.stop()
    log = server.output()
    print(f"\nserver on a damaged index ({kind}): /api/search {api[0]}, / {page[0]}, "
          f"/health {health[0]}; {len(log.splitlines())} log lines")
    assert (api[0], page[0], health[0]) == (503, 503, 503)
    assert json.loads(api[2])["error"]["code"] == "index_unavailable"
    assert "Index indisponible" in page[2].decode()
    assert "Traceback" not in log
