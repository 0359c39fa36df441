"""The newssearch command on a cluster location, through CliRunner, against osmem-server.

Shapes and counts only (osmem is bleve underneath, with the built-in analyzer).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from click.testing import CliRunner

from newssearch.cli import cli
from newssearch.opensearch import aliases, connection


@pytest.fixture
def where(osmem_clone) -> str:
    """The --index value of the alias ``news`` on a fresh osmem clone."""
    return f"opensearch+{osmem_clone.url}/news?analysis=builtin"


def run(*args: str, code: int = 0, env: dict | None = None):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False, env=env)
    assert result.exit_code == code, result.output + result.stderr
    return result


def live_ids(where: str) -> set[str]:
    location = connection.parse(where)
    return {d["id"] for d in aliases.scan(connection.client(location), location.alias, ["id"])}


def test_index_search_stats_on_a_cluster(where, corpus_dir):
    result = run("index", str(corpus_dir), "--index", where)
    assert "Indexed 4 articles" in result.stdout
    found = json.loads(run("search", "Poutine", "--index", where, "--json").stdout)
    assert set(found) >= {"total", "hits", "facets"} and found["total"] >= 1
    assert {h["id"] for h in found["hits"]} <= live_ids(where)
    stats = run("stats", "--index", where).stdout
    assert "Documents:      4" in stats and "AFP (2)" in stats and "(live, 4 articles" in stats


def test_update_delete_and_rollback_on_a_cluster(where, corpus_dir, articles):
    run("index", str(corpus_dir), "--index", where)
    run("index", str(corpus_dir), "--index", where)  # a second rebuild: one to roll back to
    with open(corpus_dir / "news.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps({**articles[0], "id": "ajout", "title": "Un ajout"}) + "\n")
    updated = run("index", str(corpus_dir), "--index", where, "--update").stdout
    assert "1 added, 0 changed, 0 removed" in updated and "(5 articles in the index)" in updated
    deleted = run("delete", "ajout", "inconnu", "--index", where)
    assert "Deleted 1 article" in deleted.stdout and "inconnu" in deleted.stderr
    assert "ajout" not in live_ids(where)
    rolled = run("rollback", "--index", where).stdout
    assert "is live again" in rolled and "(4 articles" in rolled


def test_the_environment_variable_names_a_cluster_too(where, corpus_dir):
    run("index", str(corpus_dir), env={"NEWSSEARCH_INDEX": where})
    assert len(live_ids(where)) == 4


def test_if_outdated_builds_a_missing_cluster_index_once(where, corpus_dir):
    first = run("index", str(corpus_dir), "--index", where, "--if-outdated")
    assert "yet: building it" in first.stderr
    again = run("index", str(corpus_dir), "--index", where, "--if-outdated")
    assert again.stdout == "" and again.stderr == ""


@pytest.mark.parametrize(("value", "said"), [
    ("opensearch+ftp://host/news", "expected opensearch+http://host:port/NAME"),
    ("opensearch+http://host:9200/News", "NAME must be one lowercase index name"),
])
def test_a_bad_location_is_a_usage_error(value, said):
    result = run("stats", "--index", value, code=2)
    assert "Invalid value for '--index'" in result.stderr and said in result.stderr


def test_a_cluster_that_does_not_answer_is_a_clean_error(corpus_dir):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    where = f"opensearch+http://user:secret@127.0.0.1:{port}/news"
    for args in (("index", str(corpus_dir)), ("stats",), ("search", "retraites"),
                 ("rollback",), ("delete", "x")):
        result = run(*args, "--index", where, code=1)
        assert "Error:" in result.stderr and "does not answer" in result.stderr
        assert "secret" not in result.stderr


def test_a_missing_alias_says_how_to_build_it(where):
    result = run("stats", "--index", where, code=1)
    assert "holds no index news" in result.stderr and "newssearch index" in result.stderr


def test_serve_answers_from_a_cluster_and_takes_writes(where, corpus_dir, tmp_path):
    """A real `newssearch serve` process on a location: search, then a pushed article."""
    run("index", str(corpus_dir), "--index", where)
    keys = tmp_path / "keys"
    keys.write_text("k" * 32 + "\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "newssearch", "serve", "--index", where, "--port", "0",
         "--workers", "1", "--api-key-file", str(keys)],
        stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONWARNINGS": "error"})
    try:
        line = proc.stderr.readline()
        assert "Serving opensearch+http" in line, line
        base = line.split(" on ", 1)[1].split("/ ", 1)[0]
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/search?q=Poutine") as r:
                    body = json.load(r)
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert body["total"] >= 1
        request = urllib.request.Request(
            f"{base}/api/articles", method="POST",
            data=json.dumps({"id": "depeche", "title": "Une dépêche",
                             "body": "Le texte de la dépêche."}).encode(),
            headers={"Authorization": "Bearer " + "k" * 32,
                     "Content-Type": "application/json"})
        with urllib.request.urlopen(request) as r:
            assert r.status == 201 and json.load(r)["accepted"] == 1
        assert "depeche" in live_ids(where)  # acknowledged: already searchable
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
        proc.stderr.close()
