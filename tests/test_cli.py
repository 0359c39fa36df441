"""The newssearch command, through CliRunner, checking what it built."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from newssearch import indexer, schema, store
from newssearch.cli import cli


@pytest.fixture
def runner() -> CliRunner:
    """A click runner with stdout and stderr kept apart."""
    return CliRunner()


def run(runner: CliRunner, *args: str, code: int = 0):
    result = runner.invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output + result.stderr
    return result


def test_index_builds_and_reports(runner, corpus_dir, tmp_path):
    ix = tmp_path / "ix"
    result = run(runner, "index", str(corpus_dir), "--index", str(ix))
    assert "Indexed 4 articles" in result.stdout and "articles/s" in result.stdout
    assert "Indexing: 4/4" in result.stderr  # plain progress lines off a terminal
    index, _, meta = indexer.open_index(ix)
    assert index.doc_count() == 4 and meta.documents == 4
    index.close()


def test_index_reads_the_environment_variable(runner, corpus_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSSEARCH_INDEX", str(tmp_path / "env-ix"))
    run(runner, "index", str(corpus_dir))
    assert store.current_generation(tmp_path / "env-ix") is not None


def test_index_reports_skipped_input_and_keeps_the_rest(runner, corpus_dir, tmp_path):
    (corpus_dir / "broken.jsonl").write_text('{"id": "ok", "title": "Bon", "body": "Texte"}\n'
                                             '{not json\n', "utf-8")
    (corpus_dir / "empty.txt").write_text("", "utf-8")
    result = run(runner, "index", str(corpus_dir), "--index", str(tmp_path / "ix"))
    assert "broken.jsonl:2" in result.stderr and "empty.txt" in result.stderr
    assert "Indexed 5 articles" in result.stdout
    assert "1 bad-json" in result.stdout and "1 empty" in result.stdout


def test_index_of_nothing_fails_clearly_and_keeps_the_old_index(runner, index_dir, tmp_path):
    before = store.current_generation(index_dir)
    (tmp_path / "void").mkdir()
    result = run(runner, "index", str(tmp_path / "void"), "--index", str(index_dir), code=1)
    assert "Error: no article could be read" in result.stderr
    assert store.current_generation(index_dir) == before


def test_index_refuses_a_foreign_directory(runner, corpus_dir, tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "thesis.odt").write_bytes(b"PK")
    result = run(runner, "index", str(corpus_dir), "--index", str(tmp_path / "docs"), code=1)
    assert "is not a newssearch index" in result.stderr


def test_second_indexer_gives_up_with_a_message(runner, corpus_dir, index_dir):
    with store.writer_lock(index_dir):
        result = run(runner, "index", str(corpus_dir), "--index", str(index_dir),
                     "--wait", "0.2", code=1)
    assert "another indexer" in result.stderr


def test_update_adds_and_removes(runner, corpus_dir, index_dir):
    lines = (corpus_dir / "news.jsonl").read_text("utf-8").splitlines()
    lines[0] = json.dumps({"id": "neuf", "title": "Neuf", "body": "Un article neuf."})
    (corpus_dir / "news.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    result = run(runner, "index", str(corpus_dir), "--index", str(index_dir), "--update")
    assert "1 added, 0 changed, 1 removed" in result.stdout
    ix, _, _ = indexer.open_index(index_dir)
    with ix.searcher() as s:
        ids = {f["id"] for f in s.all_stored_fields()}
    ix.close()
    assert "neuf" in ids and "elysee-reforme" not in ids


def test_update_without_an_index_builds_one(runner, corpus_dir, tmp_path):
    result = run(runner, "index", str(corpus_dir), "--index", str(tmp_path / "new"), "--update")
    assert "building it in full" in result.stderr and "Indexed 4" in result.stdout


def test_stats(runner, index_dir):
    out = run(runner, "stats", "--index", str(index_dir)).stdout
    assert "Documents:      4" in out
    assert "2019-12-20 to 2023-09-13" in out
    assert "AFP (2)" in out and f"Schema version: {schema.SCHEMA_VERSION}" in out


def test_stats_without_an_index_says_how_to_build_one(runner, tmp_path):
    result = run(runner, "stats", "--index", str(tmp_path / "none"), code=1)
    assert "Error: no index in" in result.stderr and "newssearch index" in result.stderr


def test_search_prints_readable_results(runner, index_dir):
    out = run(runner, "search", "eleves", "--index", str(index_dir)).stdout
    assert out.startswith("1 résultat (")
    assert "1. Les élèves de l’école fêtent Noël" in out and "<mark>" not in out
    assert "2019-12-20 · AFP · societe  [ecole-noel]" in out


def test_search_json_is_the_api_body(runner, index_dir, client):
    out = run(runner, "search", "saint-denis", "--index", str(index_dir), "--json",
              "--limit", "1", "--sort", "date").stdout
    body = json.loads(out)
    api = client.get("/api/search?q=saint-denis&per_page=1&sort=date").get_json()
    body.pop("took_ms"), api.pop("took_ms")
    assert body == api


def test_search_takes_several_sections_and_the_oldest_first(runner, index_dir, client):
    args = ["search", "saint-denis OR kim", "--index", str(index_dir), "--json",
            "--section", "monde", "--section", "societe", "--sort", "date_asc"]
    body = json.loads(run(runner, *args).stdout)
    assert [h["id"] for h in body["hits"]] == ["ecole-noel", "kim-poutine"]
    api = client.get("/api/search?q=saint-denis+OR+kim&section=monde&section=societe"
                     "&sort=date_asc").get_json()
    body.pop("took_ms"), api.pop("took_ms")
    assert body == api


def test_search_shows_the_suggestion(runner, index_dir):
    out = run(runner, "search", "manifestatoins", "--index", str(index_dir)).stdout
    assert "Résultats pour « manifestations ». Rechercher plutôt « manifestatoins »." in out


def test_python_dash_m_runs_the_cli():
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-m", "newssearch", "--help"], capture_output=True,
                         text=True, check=True, cwd=Path(__file__).parent.parent).stdout
    assert "index" in out and "search" in out and "serve" in out


def test_update_from_a_new_file_names_what_it_removed_and_keeps_the_rest(runner, corpus_dir,
                                                                         index_dir, tmp_path):
    new = tmp_path / "new.jsonl"
    new.write_text(json.dumps({"id": "neuf", "title": "Neuf", "body": "Un texte."}) + "\n")
    out = run(runner, "index", str(new), "--index", str(index_dir), "--update").stdout
    assert "1 added, 0 changed, 0 removed" in out and "(5 articles in the index)" in out
    lines = (corpus_dir / "news.jsonl").read_text("utf-8").splitlines()
    (corpus_dir / "news.jsonl").write_text("\n".join(lines[1:]) + "\n", "utf-8")
    out = run(runner, "index", str(corpus_dir), "--index", str(index_dir), "--update").stdout
    assert f"Removed 1 article from {corpus_dir / 'news.jsonl'} (no longer in the file): " \
           "elysee-reforme" in out


def test_delete_takes_ids_from_arguments_and_standard_input(runner, index_dir):
    result = runner.invoke(cli, ["delete", "kim-poutine", "-", "--index", str(index_dir)],
                           input="ecole-noel\ninconnu\n", catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Deleted 2 articles from" in result.stdout and "(2 articles left)" in result.stdout
    assert "Not in the index, so not deleted: inconnu" in result.stderr
    out = run(runner, "stats", "--index", str(index_dir)).stdout
    assert "Documents:      2" in out


def test_rollback_puts_the_previous_index_back_and_stats_lists_both(runner, corpus_dir,
                                                                   index_dir):
    run(runner, "delete", "kim-poutine", "--index", str(index_dir))
    out = run(runner, "stats", "--index", str(index_dir)).stdout
    assert "Documents:      3" in out
    assert "(live, 3 articles, built" in out and "(previous, 4 articles, built" in out
    out = run(runner, "rollback", "--index", str(index_dir)).stdout
    assert "Rolled back" in out and "(4 articles, built" in out
    assert "Documents:      4" in run(runner, "stats", "--index", str(index_dir)).stdout


def test_rollback_with_nothing_before_fails_clearly(runner, corpus_dir, tmp_path):
    run(runner, "index", str(corpus_dir), "--index", str(tmp_path / "ix"))
    result = run(runner, "rollback", "--index", str(tmp_path / "ix"), code=1)
    assert "nothing to roll back to" in result.stderr


def test_a_rebuild_that_would_halve_the_index_needs_force(runner, index_dir, tmp_path):
    one = tmp_path / "one.jsonl"
    one.write_text(json.dumps({"id": "seul", "title": "Seul", "body": "Un texte."}) + "\n")
    result = run(runner, "index", str(one), "--index", str(index_dir), code=1)
    assert "the sources hold 1 articles and the live index 4" in result.stderr
    assert "--force" in result.stderr and "--update" in result.stderr
    assert "Documents:      4" in run(runner, "stats", "--index", str(index_dir)).stdout
    run(runner, "index", str(one), "--index", str(index_dir), "--force")
    assert "Documents:      1" in run(runner, "stats", "--index", str(index_dir)).stdout


def make_outdated(index_dir: Path) -> None:
    gen = store.current_generation(index_dir)
    meta = json.loads((gen / store.META).read_text())
    meta["schema_version"] = schema.SCHEMA_VERSION - 1
    (gen / store.META).write_text(json.dumps(meta))


def test_if_outdated_rebuilds_an_index_of_the_same_sources_only(runner, corpus_dir, index_dir,
                                                               tmp_path):
    before = store.current_generation(index_dir)
    run(runner, "index", str(corpus_dir), "--index", str(index_dir), "--if-outdated")
    assert store.current_generation(index_dir) == before  # up to date: left alone
    make_outdated(index_dir)
    other = tmp_path / "other"
    other.mkdir()
    (other / "a.txt").write_text("Un titre\n\nUn texte.\n", "utf-8")
    run(runner, "index", str(other), "--index", str(index_dir), "--if-outdated")
    assert store.current_generation(index_dir) == before  # someone else's: never rebuilt
    result = run(runner, "index", str(corpus_dir), "--index", str(index_dir), "--if-outdated")
    assert "was built from" in result.stderr and "rebuilding it" in result.stderr
    assert "Indexed 4 articles" in result.stdout
    indexer.open_index(index_dir)[0].close()  # readable by this version


def test_the_progress_bar_counts_articles_on_a_terminal(tmp_path):
    import os
    import pty
    import re
    import subprocess
    import sys
    records = [{"id": f"a{n}", "title": f"Titre {n}", "body": f"Le texte numéro {n}."}
               for n in range(1234)]
    (tmp_path / "many.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "newssearch", "index", str(tmp_path / "many.jsonl"),
         "--index", str(tmp_path / "ix"), "--procs", "1"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    assert process.wait(timeout=60) == 0
    process.stdout.close()
    positions = [(int(a), int(b)) for a, b in re.findall(rb"(\d+)/(\d+)", shown)]
    assert positions and positions[-1] == (1234, 1234)
    assert all(total == 1234 and done <= total for done, total in positions)
    assert any(0 < done < 1234 for done, _ in positions)  # it moved through the articles
