"""Updates, deletes and rollbacks: nothing leaves the index unless its own file says so."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from newssearch import indexer, store, updates


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return path


def ids(index_dir: Path) -> set[str]:
    ix, _, _ = indexer.open_index(index_dir)
    with ix.searcher() as s:
        found = {f["id"] for f in s.all_stored_fields()}
    ix.close()
    return found


def stored(index_dir: Path, article_id: str) -> dict:
    ix, _, _ = indexer.open_index(index_dir)
    with ix.searcher() as s:
        fields = s.document(id=article_id)
    ix.close()
    return fields


def digests(generation: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in generation.iterdir() if p.is_file()}


NEW = [{"id": f"jour-{n}", "title": f"Tempête numéro {n} en Bretagne",
        "body": "Des rafales à Brest et à Quimper."} for n in range(5)]


def test_an_update_from_another_file_adds_and_keeps_the_archive(index_dir, articles, tmp_path):
    report = indexer.update([write_jsonl(tmp_path / "new5.jsonl", NEW)], index_dir)
    assert (report.added, report.changed, report.removed) == (5, 0, 0)
    assert ids(index_dir) == {a["id"] for a in articles} | {a["id"] for a in NEW}
    assert report.documents == len(articles) + 5


def test_an_update_removes_what_the_same_file_no_longer_holds(index_dir, corpus_dir, articles,
                                                              tmp_path):
    indexer.update([write_jsonl(tmp_path / "new5.jsonl", NEW)], index_dir)
    news = write_jsonl(corpus_dir / "news.jsonl", articles[1:])
    report = indexer.update([news], index_dir)
    assert report.removed == 1
    assert report.removals == (updates.Removal(str(news), updates.NOT_IN_FILE,
                                               (articles[0]["id"],)),)
    # The other file's articles were not touched.
    assert ids(index_dir) == {a["id"] for a in articles[1:]} | {a["id"] for a in NEW}


def test_a_file_gone_from_a_directory_read_again_takes_its_articles(tmp_path, articles):
    src = tmp_path / "src"
    src.mkdir()
    write_jsonl(src / "a.jsonl", articles[:2])
    gone = write_jsonl(src / "b.jsonl", articles[2:])
    index_dir = tmp_path / "ix"
    indexer.rebuild([src], index_dir)
    gone.unlink()
    # Reading the one file left gives no authority over its vanished neighbour.
    assert indexer.update([src / "a.jsonl"], index_dir).removed == 0
    report = indexer.update([src], index_dir)
    assert report.removals == (updates.Removal(
        str(gone), updates.FILE_GONE, tuple(sorted(a["id"] for a in articles[2:]))),)
    assert ids(index_dir) == {a["id"] for a in articles[:2]}


def test_a_file_that_could_not_be_read_in_full_removes_nothing(index_dir, corpus_dir, articles):
    news = corpus_dir / "news.jsonl"
    lines = news.read_text("utf-8").splitlines()
    lines[0] = lines[0][:40]  # cut in the middle: that line's article cannot be read
    news.write_text("\n".join(lines) + "\n", "utf-8")
    report = indexer.update([corpus_dir], index_dir)
    assert report.removed == 0
    assert report.spared == (updates.Spared(str(news), (articles[0]["id"],)),)
    assert articles[0]["id"] in ids(index_dir)


def test_an_article_that_moved_to_another_file_belongs_to_it(index_dir, corpus_dir, articles,
                                                             tmp_path):
    moved = articles[0]
    write_jsonl(corpus_dir / "news.jsonl", articles[1:])
    elsewhere = write_jsonl(tmp_path / "moved.jsonl", [moved])
    report = indexer.update([corpus_dir, elsewhere], index_dir)
    assert (report.added, report.changed, report.moved, report.removed) == (0, 0, 1, 0)
    # Its old file, read again, no longer has authority over it.
    assert indexer.update([corpus_dir], index_dir).removed == 0
    assert moved["id"] in ids(index_dir)
    elsewhere.write_text("", "utf-8")
    write_jsonl(elsewhere, [NEW[0]])
    assert indexer.update([elsewhere], index_dir).removals[0].ids == (moved["id"],)


def test_an_update_keeps_the_spelling_the_index_has_for_a_source(index_dir, tmp_path):
    late = {"id": "depeche", "title": "Une dépêche", "body": "Un texte.", "source": "afp"}
    indexer.update([write_jsonl(tmp_path / "late.jsonl", [late])], index_dir)
    assert stored(index_dir, "depeche")["source"] == "AFP"


def test_an_unchanged_update_writes_no_generation(index_dir, corpus_dir):
    before = store.current_generation(index_dir)
    report = indexer.update([corpus_dir], index_dir)
    assert (report.added, report.changed, report.removed) == (0, 0, 0)
    assert store.current_generation(index_dir) == before


def test_an_update_is_a_generation_that_rollback_undoes(index_dir, corpus_dir, articles, tmp_path):
    live = store.current_generation(index_dir)
    before = digests(live)
    write_jsonl(corpus_dir / "news.jsonl", articles[1:])
    indexer.update([corpus_dir, write_jsonl(tmp_path / "new5.jsonl", NEW)], index_dir)
    assert store.previous_generation(index_dir) == live
    # Hard-linked, yet the generation before is byte for byte what it was.
    assert digests(live) == before
    restored, replaced = indexer.rollback(index_dir)
    assert restored == live and store.previous_generation(index_dir) == replaced
    assert ids(index_dir) == {a["id"] for a in articles}
    # A second rollback undoes the first.
    indexer.rollback(index_dir)
    assert ids(index_dir) == {a["id"] for a in articles[1:]} | {a["id"] for a in NEW}


def test_an_update_writes_segments_as_a_rebuild_does(index_dir, tmp_path):
    indexer.update([write_jsonl(tmp_path / "new5.jsonl", NEW)], index_dir)
    ix, _, _ = indexer.open_index(index_dir)
    # Separate files, and Whoosh's own compression off: segments._write_blocks compresses
    # the large blocks itself.
    assert [(s.compound, s.codec()._compression) for s in ix._segments()] \
        == [(False, 0)] * len(ix._segments())
    ix.close()


def test_delete_removes_by_id_and_reports_the_unknown(index_dir, articles):
    report = indexer.delete(["kim-poutine", "inconnu", "kim-poutine"], index_dir)
    assert report.removed == 1 and report.unknown == ("inconnu",)
    assert report.documents == len(articles) - 1
    assert ids(index_dir) == {a["id"] for a in articles} - {"kim-poutine"}
    indexer.rollback(index_dir)
    assert "kim-poutine" in ids(index_dir)


def test_delete_of_only_unknown_ids_changes_nothing(index_dir):
    before = store.current_generation(index_dir)
    assert indexer.delete(["inconnu"], index_dir).unknown == ("inconnu",)
    assert store.current_generation(index_dir) == before


def test_a_rebuild_that_would_halve_the_index_stops_unless_forced(index_dir, articles, tmp_path):
    before = store.current_generation(index_dir)
    one = write_jsonl(tmp_path / "one.jsonl", articles[:1])
    with pytest.raises(indexer.BuildError, match="more than half.*--force"):
        indexer.rebuild([one], index_dir)
    assert store.current_generation(index_dir) == before
    assert not list(index_dir.glob(".build-*"))
    indexer.rebuild([one], index_dir, force=True)
    assert ids(index_dir) == {articles[0]["id"]}
    # Half is not less than half.
    indexer.rollback(index_dir)
    indexer.rebuild([write_jsonl(tmp_path / "two.jsonl", articles[:2])], index_dir)


def test_rollback_without_a_previous_generation_says_so(tmp_path, corpus_dir):
    indexer.rebuild([corpus_dir], tmp_path / "ix")
    with pytest.raises(store.IndexUnavailable, match="nothing to roll back to"):
        indexer.rollback(tmp_path / "ix")


def test_generations_beyond_the_previous_one_are_pruned(index_dir, corpus_dir):
    for _ in range(3):
        indexer.rebuild([corpus_dir], index_dir)
    kept = sorted(p.name for p in index_dir.glob("gen-*"))
    roles = [(role, path.name) for role, path in store.generations(index_dir)]
    assert sorted(name for _, name in roles) == kept and [r for r, _ in roles] == [
        "live", "previous"]


def test_a_rebuild_after_a_rollback_keeps_what_served_before_it(index_dir, corpus_dir):
    first = store.current_generation(index_dir)
    indexer.rebuild([corpus_dir], index_dir)
    indexer.rollback(index_dir)
    indexer.rebuild([corpus_dir], index_dir)
    assert store.previous_generation(index_dir) == first


def test_updates_plan_keeps_articles_of_files_not_read(tmp_path):
    """The plan alone: an origin outside everything read is never touched."""
    from newssearch.articles import Corpus
    indexed = {"a": updates.Indexed("x", "/archive/2019.jsonl"),
               "b": updates.Indexed("y", str(tmp_path / "gone.jsonl"))}
    plan = updates.plan_update(indexed, Corpus((), (), 0), [tmp_path])
    assert [r.ids for r in plan.removals] == [("b",)]
    assert os.path.lexists("/archive/2019.jsonl") is False  # gone, but not from a source read


def test_segments_get_new_names_even_if_the_random_module_was_seeded(index_dir, tmp_path):
    """Whoosh names segments with the random module; a seeded one must not make a new
    segment overwrite one that the live and previous generations share by hard link."""
    import random
    for n in range(3):
        live = store.current_generation(index_dir)
        before = digests(live)
        random.seed(20261201)
        indexer.update([write_jsonl(tmp_path / f"jour{n}.jsonl", [NEW[n]])], index_dir)
        assert digests(live) == before
    assert {a["id"] for a in NEW[:3]} <= ids(index_dir)
