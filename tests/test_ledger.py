"""An update that reads only what changed (the ledger) does exactly what reading every
line does: same articles written and removed, same problems, same index."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from newssearch import corpus, formats, indexer, ingest, ledger, store
from newssearch.articles import Article


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return path


def updated(sources: list[Path], index_dir: Path) -> tuple | str:
    """What an update reports, or the error it stops with."""
    try:
        r = indexer.update(sources, index_dir)
    except indexer.BuildError as e:
        return str(e).replace(str(index_dir), "INDEX")
    return (r.added, r.changed, r.removed, r.moved, r.removals, r.spared, r.documents,
            sorted(str(p) for p in r.problems))


def index_of(index_dir: Path) -> dict:
    _, _, held, spellings = indexer._held(index_dir)
    return {"held": held, "sources": spellings}


def _edit(corpus_dir, index_dir, articles):
    articles[2]["body"] += " Une phrase ajoutée."
    write_jsonl(corpus_dir / "news.jsonl", articles)


def _remove(corpus_dir, index_dir, articles):
    write_jsonl(corpus_dir / "news.jsonl", articles[1:])


def _add(corpus_dir, index_dir, articles):
    write_jsonl(corpus_dir / "news.jsonl", [*articles, {"id": "neuf", "title": "Un neuf",
                                                        "body": "Du nouveau."}])


def _spaces(corpus_dir, index_dir, articles):
    text = (corpus_dir / "news.jsonl").read_text("utf-8").replace('", "', '",   "', 1)
    (corpus_dir / "news.jsonl").write_text(text, "utf-8")


def _twice_in_file(corpus_dir, index_dir, articles):
    write_jsonl(corpus_dir / "news.jsonl", [*articles, dict(articles[0], title="Autre titre")])


def _earlier_twin(corpus_dir, index_dir, articles):
    write_jsonl(corpus_dir / "news.jsonl", [dict(articles[3], title="Plus tôt"), *articles])


def _moved(corpus_dir, index_dir, articles):
    write_jsonl(corpus_dir / "news.jsonl", articles[1:])
    write_jsonl(corpus_dir / "other.jsonl", articles[:1])


def _bad_json(corpus_dir, index_dir, articles):
    lines = (corpus_dir / "news.jsonl").read_text("utf-8").splitlines()
    lines[1] = lines[1][:-3]
    (corpus_dir / "news.jsonl").write_text("\n".join(lines) + "\n", "utf-8")


def _bad_date(corpus_dir, index_dir, articles):
    articles[1]["date"] = "pas une date"
    write_jsonl(corpus_dir / "news.jsonl", articles)
    indexer.update([corpus_dir], index_dir)  # the line is filed with its problem


def _not_utf8(corpus_dir, index_dir, articles):
    articles[1]["body"] += " X"
    data = json.dumps(articles[1], ensure_ascii=False).encode().replace(b" X", b" \xff")
    lines = (corpus_dir / "news.jsonl").read_bytes().splitlines()
    lines[1] = data
    (corpus_dir / "news.jsonl").write_bytes(b"\n".join(lines) + b"\n")


def _pushed(corpus_dir, index_dir, articles):
    ingest.submit(index_dir, ingest.Change((Article(id=articles[0]["id"], title="Poussé",
                                                    body="Par l'API."),)))


def _deleted(corpus_dir, index_dir, articles):
    indexer.delete([articles[1]["id"]], index_dir)


def _file_gone(corpus_dir, index_dir, articles):
    write_jsonl(corpus_dir / "other.jsonl", [{"id": "autre", "title": "Autre", "body": "Texte."}])
    indexer.update([corpus_dir], index_dir)
    (corpus_dir / "other.jsonl").unlink()


def _lowercase_source(corpus_dir, index_dir, articles):
    write_jsonl(corpus_dir / "news.jsonl", [*articles, {"id": "d", "title": "Une dépêche",
                                                        "body": "Texte.", "source": "afp"}])


def _touched_only(corpus_dir, index_dir, articles):
    os.utime(corpus_dir / "news.jsonl")


SCENARIOS = {"an article edited": _edit, "a line removed": _remove, "a line added": _add,
             "spaces changed, not the article": _spaces, "an id twice in a file": _twice_in_file,
             "an earlier line with an id": _earlier_twin, "an article moved": _moved,
             "a line no longer JSON": _bad_json, "a flagged line, unchanged": _bad_date,
             "a byte not UTF-8": _not_utf8, "an article pushed over": _pushed,
             "an article deleted": _deleted, "a file gone": _file_gone,
             "a source spelt otherwise": _lowercase_source, "times changed only": _touched_only}


@pytest.mark.parametrize("skips", [False, True], ids=["lines", "files"])
@pytest.mark.parametrize("change", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_an_update_with_the_ledger_does_what_reading_everything_does(change, skips, index_dir,
                                                                     corpus_dir, articles,
                                                                     tmp_path, monkeypatch):
    if skips:  # files whose times have not changed are not read at all
        monkeypatch.setattr(corpus, "_RACY_NS", -10**12)
    change(corpus_dir, index_dir, articles)
    plain = tmp_path / "plain"
    shutil.copytree(index_dir, plain, symlinks=True)
    (store.current_generation(plain) / ledger.LEDGER).unlink()
    assert ledger.Ledger.read(store.current_generation(index_dir)) is not None
    assert updated([corpus_dir], index_dir) == updated([corpus_dir], plain)
    assert index_of(index_dir) == index_of(plain)
    # And the next update, from the ledger each wrote, still agrees.
    assert updated([corpus_dir], index_dir) == updated([corpus_dir], plain)


def test_an_update_parses_only_the_lines_that_changed(index_dir, corpus_dir, articles,
                                                      monkeypatch):
    parsed: list[int] = []
    real = formats._line_articles
    monkeypatch.setattr(formats, "_line_articles",
                        lambda path, number, text, on_problem: parsed.append(number)
                        or real(path, number, text, on_problem))
    articles[1]["title"] += " (mis à jour)"
    write_jsonl(corpus_dir / "news.jsonl", articles)
    report = indexer.update([corpus_dir], index_dir)
    assert (report.changed, parsed) == (1, [2])


def test_a_file_unchanged_since_it_was_read_is_not_read(index_dir, corpus_dir, monkeypatch):
    # As if the file had been written long before the rebuild read it (not racy).
    monkeypatch.setattr(corpus, "_RACY_NS", -10**12)
    indexer.update([corpus_dir], index_dir)  # files the file with its times
    opened: list[Path] = []
    monkeypatch.setattr(corpus, "scan_json_lines", lambda path, *a: opened.append(path))
    monkeypatch.setattr(corpus, "read_units", lambda path, *a: opened.append(path) or iter(()))
    report = indexer.update([corpus_dir], index_dir)
    assert (report.changed, report.removed, opened) == (0, 0, [])


def test_a_file_rewritten_with_its_old_size_and_time_is_read_again(index_dir, corpus_dir,
                                                                   articles, monkeypatch):
    monkeypatch.setattr(corpus, "_RACY_NS", -10**12)
    indexer.update([corpus_dir], index_dir)
    news = corpus_dir / "news.jsonl"
    before = news.stat()
    articles[0]["title"] = articles[0]["title"][:-1] + "X"  # same length
    write_jsonl(news, articles)
    os.utime(news, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert news.stat().st_size == before.st_size
    assert indexer.update([corpus_dir], index_dir).changed == 1


def test_a_racy_file_is_read_again(tmp_path):
    news = write_jsonl(tmp_path / "news.jsonl", [{"id": "a", "title": "Un", "body": "Deux."}])
    now = corpus.file_stat(news)
    assert not corpus.unchanged((*now, now[1] + corpus._RACY_NS // 2), now)
    assert corpus.unchanged((*now, max(now[1], now[2]) + 2 * corpus._RACY_NS), now)
    assert not corpus.unchanged((*now, max(now[1], now[2]) + 2 * corpus._RACY_NS),
                                (now[0] + 1, *now[1:]))


@pytest.mark.parametrize("damage", [b"", b"{", b'{"version": 99, "files": {}}',
                                    b'{"version": 1, "files": {}}',
                                    b'{"version": 1, "toc": 1, "files": {"/x": {"units": ["a"], '
                                    b'"ids": [], "lines": [], "stat": null, "clean": true}}}'],
                         ids=["empty", "cut", "another version", "no TOC", "unequal entries"])
def test_a_damaged_ledger_means_reading_everything(damage, index_dir, corpus_dir, articles):
    (store.current_generation(index_dir) / ledger.LEDGER).write_bytes(damage)
    assert ledger.Ledger.read(store.current_generation(index_dir)) is None
    write_jsonl(corpus_dir / "news.jsonl", articles[1:])
    report = indexer.update([corpus_dir], index_dir)
    assert report.removed == 1
    assert ledger.Ledger.read(store.current_generation(index_dir)) is not None


def test_an_index_without_a_ledger_gets_one_from_its_first_update(index_dir, corpus_dir):
    live = store.current_generation(index_dir)
    (live / ledger.LEDGER).unlink()
    indexer.update([corpus_dir], index_dir)
    assert store.current_generation(index_dir) == live  # nothing written but the ledger
    filed = ledger.Ledger.read(live)
    assert filed is not None and sum(len(f.ids) for f in filed.files.values()) == \
        len(index_of(index_dir)["held"])


def test_pushed_writes_and_deletes_touch_the_ledger_they_inherit(index_dir, articles):
    ingest.submit(index_dir, ingest.Change((Article(id="pousse", title="Poussé", body="API."),)))
    indexer.delete([articles[1]["id"]], index_dir)
    filed = ledger.Ledger.read(store.current_generation(index_dir))
    assert filed is not None and filed.touched == {"pousse", articles[1]["id"]}
    assert articles[1]["id"] not in filed.origins()


def test_an_index_changed_by_a_writer_that_ignores_the_ledger_is_read_in_full(index_dir,
                                                                              corpus_dir,
                                                                              articles):
    from whoosh import index as whoosh_index
    # As an older newssearch would: a commit into the live generation, ledger untouched.
    ix = whoosh_index.open_dir(str(store.current_generation(index_dir)))
    writer = ix.writer()
    writer.delete_by_term("id", articles[0]["id"])
    writer.commit()
    ix.close()
    report = indexer.update([corpus_dir], index_dir)
    assert (report.added, report.changed) == (1, 0)  # the file still holds it
    assert articles[0]["id"] in index_of(index_dir)["held"]
