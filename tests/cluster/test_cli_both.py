"""The commands on each backend: the same invocations and the same answers."""

from __future__ import annotations

import json

from click.testing import CliRunner

from newssearch.cli import cli


def run(*args: str, code: int = 0):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output + result.stderr
    return result


def test_index_then_search(empty_index, corpus_dir):
    assert "Indexed 4 articles" in run("index", str(corpus_dir), "--index",
                                       str(empty_index)).stdout
    found = json.loads(run("search", "Poutine", "--index", str(empty_index), "--json").stdout)
    assert [h["id"] for h in found["hits"]] == ["kim-poutine"]


def test_stats(index_dir):
    out = run("stats", "--index", str(index_dir)).stdout
    assert "Documents:      4" in out and "AFP (2)" in out
    assert "Dates:          2019-12-20 to 2023-09-13" in out


def test_update_delete_rollback(index_dir, corpus_dir, articles):
    run("index", str(corpus_dir), "--index", str(index_dir))  # a rebuild to roll back to
    with open(corpus_dir / "news.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps({**articles[1], "id": "ajout", "title": "Un ajout"}) + "\n")
    out = run("index", str(corpus_dir), "--index", str(index_dir), "--update").stdout
    assert "1 added, 0 changed, 0 removed" in out
    out = run("delete", "ajout", "porte-avions", "--index", str(index_dir)).stdout
    assert "Deleted 2 articles" in out and "(3 articles left)" in out
    assert "is live again" in run("rollback", "--index", str(index_dir)).stdout


def test_half_size_guard(index_dir, tmp_path, articles):
    one = tmp_path / "one.jsonl"
    one.write_text(json.dumps(articles[0]) + "\n", "utf-8")
    result = run("index", str(one), "--index", str(index_dir), code=1)
    assert "more than half" in result.stderr
    assert "Documents:      4" in run("stats", "--index", str(index_dir)).stdout
