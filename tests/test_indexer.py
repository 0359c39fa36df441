"""Building, swapping and updating the index, checked by opening what was built."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from newssearch import indexer, schema, status, store
from newssearch.analysis import terms


def lexicon(index_dir: Path, field: str) -> set[str]:
    ix, _, _ = indexer.open_index(index_dir)
    with ix.searcher() as s:
        words = {w.decode() for w in s.reader().lexicon(field)}
    ix.close()
    return words


def stored(index_dir: Path) -> dict[str, dict]:
    ix, _, _ = indexer.open_index(index_dir)
    with ix.searcher() as s:
        docs = {f["id"]: f for f in s.all_stored_fields()}
    ix.close()
    return docs


def write_jsonl(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")


def test_rebuild_indexes_every_article_with_its_fields(index_dir, articles):
    docs = stored(index_dir)
    assert set(docs) == {a["id"] for a in articles}
    kim = docs["kim-poutine"]
    assert kim["title"] == "Kim Jong-un et Vladimir Poutine se rencontrent"
    assert kim["date"].date().isoformat() == "2023-09-13"
    assert kim["section"] == "monde" and kim["source"] == "Reuters"
    assert kim["url"] == "https://example.org/kim"


@pytest.mark.parametrize(("field", "word"), [
    ("title", "elyse"), ("text", "manifest"), ("text", "saintden"), ("text", "syndicat"),
    ("title_exact", "elysee"), ("text_exact", "manifestations"), ("text_exact", "a"),
])
def test_fields_hold_analysed_words(index_dir, field, word):
    assert word in lexicon(index_dir, field)


def test_related_links_are_not_indexed(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text(
        "Le titre\n\nMONDE - Un texte sur Pyongyang.\n\n"
        "À voir également sur Le HuffPost :\n\nBakhmout sous les bombes\n", "utf-8")
    indexer.rebuild([src], tmp_path / "ix")
    body = lexicon(tmp_path / "ix", "text") | lexicon(tmp_path / "ix", "text_exact")
    assert "pyongyang" in body
    assert not {"bakhmout", "huffpost"} & body


def test_seed_article_indexes(tmp_path):
    report = indexer.rebuild([Path(__file__).parent.parent / "seeds"], tmp_path / "ix")
    assert report.indexed >= 1
    doc = stored(tmp_path / "ix")["000_ea821b09932b2197"]
    assert doc["section"] == "international"
    assert terms("Kim Jong-un")[0] in lexicon(tmp_path / "ix", "title")


def test_rebuild_swaps_atomically_and_old_readers_keep_working(index_dir, corpus_dir, articles):
    ix, old_gen, _ = indexer.open_index(index_dir)
    searcher = ix.searcher()
    write_jsonl(corpus_dir / "news.jsonl", articles[:2])
    indexer.rebuild([corpus_dir], index_dir)
    # The reader opened before the swap still sees the whole old index.
    assert searcher.doc_count() == len(articles)
    assert sorted(f["id"] for f in searcher.all_stored_fields())[0] == "ecole-noel"
    searcher.close()
    ix.close()
    assert store.current_generation(index_dir) != old_gen
    assert set(stored(index_dir)) == {"elysee-reforme", "kim-poutine"}


def test_old_generations_are_pruned_but_the_previous_one_stays(index_dir, corpus_dir):
    for _ in range(3):
        indexer.rebuild([corpus_dir], index_dir)
    gens = sorted(p.name for p in index_dir.glob("gen-*"))
    assert len(gens) == 2
    assert store.current_generation(index_dir).name == gens[-1]


def test_interrupted_rebuild_leaves_the_old_index_serving(index_dir, corpus_dir, articles):
    before = store.current_generation(index_dir)
    seen = []

    def interrupt(done: int, total: int) -> None:
        seen.append(done)
        if done < total:  # in the middle of writing
            raise KeyboardInterrupt

    many = [{**articles[n % 4], "id": f"copy-{n}"} for n in range(250)]
    write_jsonl(corpus_dir / "news.jsonl", many)
    with pytest.raises(KeyboardInterrupt):
        indexer.rebuild([corpus_dir], index_dir, progress=interrupt, procs=1)
    assert seen == [100]
    assert store.current_generation(index_dir) == before
    assert len(stored(index_dir)) == len(articles)
    assert not list(index_dir.glob(".build-*"))


def test_leftover_build_from_a_killed_indexer_is_removed(index_dir, corpus_dir):
    leftover = index_dir / ".build-20200101T000000000000-1"
    leftover.mkdir()
    (leftover / "junk.seg").write_bytes(b"x" * 100)
    report = indexer.rebuild([corpus_dir], index_dir)
    assert report.leftovers == (leftover.name,)
    assert not leftover.exists()


def test_nothing_readable_fails_and_leaves_the_index(index_dir, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "a.txt").write_bytes(b"")
    before = store.current_generation(index_dir)
    with pytest.raises(indexer.BuildError, match="no article could be read"):
        indexer.rebuild([empty], index_dir)
    assert store.current_generation(index_dir) == before


def test_second_writer_waits_then_gives_up(index_dir, corpus_dir):
    with store.writer_lock(index_dir):
        with pytest.raises(store.IndexBusy, match=f"pid {os.getpid()}"):
            indexer.rebuild([corpus_dir], index_dir, wait=0.3)


def test_foreign_directory_is_refused(tmp_path, corpus_dir):
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "holiday.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(store.IndexUnavailable, match="not a newssearch index"):
        indexer.rebuild([corpus_dir], foreign)
    assert (foreign / "holiday.jpg").exists()


def test_index_from_another_schema_version_asks_for_a_rebuild(index_dir):
    gen = store.current_generation(index_dir)
    meta = json.loads((gen / store.META).read_text())
    meta["schema_version"] = 1
    (gen / store.META).write_text(json.dumps(meta))
    with pytest.raises(store.IndexUnavailable, match="schema version 1.*rebuild"):
        indexer.open_index(index_dir)


def test_damaged_index_says_how_to_rebuild(index_dir):
    gen = store.current_generation(index_dir)
    for toc in gen.glob("*.toc"):
        toc.write_bytes(b"garbage")
    with pytest.raises(store.IndexUnavailable, match="rebuild it"):
        indexer.open_index(index_dir)


def test_missing_index_says_how_to_build_one(tmp_path):
    with pytest.raises(store.IndexUnavailable, match="newssearch index"):
        indexer.open_index(tmp_path / "nothing")


def test_update_adds_changes_and_removes(index_dir, corpus_dir, articles):
    articles[0]["title"] = "L’Élysée retire la réforme des retraites"
    new = {"id": "nouveau", "title": "Tempête en Bretagne", "body": "Des rafales à Brest."}
    write_jsonl(corpus_dir / "news.jsonl", [*articles[:3], new])
    report = indexer.update([corpus_dir], index_dir)
    assert (report.added, report.changed, report.removed) == (1, 1, 1)
    docs = stored(index_dir)
    assert set(docs) == {"elysee-reforme", "kim-poutine", "ecole-noel", "nouveau"}
    assert docs["elysee-reforme"]["title"].startswith("L’Élysée retire")
    assert "retir" in lexicon(index_dir, "title")
    ix, gen, meta = indexer.open_index(index_dir)
    ix.close()
    assert meta.documents == 4


def test_update_of_unchanged_articles_writes_nothing(index_dir, corpus_dir):
    report = indexer.update([corpus_dir], index_dir)
    assert (report.added, report.changed, report.removed) == (0, 0, 0)


def test_multiprocess_build_gives_the_same_index(tmp_path):
    words = ["grève", "réforme", "élèves", "Saint-Denis", "été", "marins", "Élysée", "l’État"]
    records = [{"id": f"a{n}", "title": f"Titre {n} {words[n % 8]}",
                "body": " ".join(words[(n + k) % 8] for k in range(n % 7 + 1)),
                "date": f"20{10 + n % 10}-01-0{1 + n % 9}", "section": f"s{n % 3}"}
               for n in range(1200)]
    write_jsonl(tmp_path / "many.jsonl", records)
    indexer.rebuild([tmp_path / "many.jsonl"], tmp_path / "one", procs=1)
    seen = []
    indexer.rebuild([tmp_path / "many.jsonl"], tmp_path / "two", procs=2,
                    progress=lambda done, total: seen.append((done, total)))
    ix, gen, _ = indexer.open_index(tmp_path / "two")
    assert len(ix._segments()) == 2
    ix.close()
    assert seen[-1] == (1200, 1200)
    assert stored(tmp_path / "two") == stored(tmp_path / "one")
    for field in ("text", "title_exact", "section"):
        assert lexicon(tmp_path / "two", field) == lexicon(tmp_path / "one", field)


def test_stats_describe_the_index(index_dir):
    s = status.stats(index_dir)
    assert s.documents == 4
    assert dict(s.sources) == {"AFP": 2, "Reuters": 1, "6Medias": 1}
    assert (s.first_date.isoformat(), s.last_date.isoformat()) == ("2019-12-20", "2023-09-13")
    assert s.schema_version == schema.SCHEMA_VERSION and s.size_bytes > 0
