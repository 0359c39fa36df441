"""A full disk and an unwritable index directory: a clear error, and the old index serves."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from newssearch import indexer
from newssearch.records import SearchRequest
from newssearch.search import SearchService


def served(index_dir: Path) -> tuple[int, int]:
    service = SearchService(index_dir)
    return (service.info().documents,
            service.search(SearchRequest(q="gouvernement", facets=False)).total)


def assert_clean_error(result, start: str) -> None:
    """Exit 1, the last line of stderr is the error, and no traceback (progress may precede)."""
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(start), result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def unwritable(tmp_path: Path, small_fs, read_only):
    """make(source dir) -> index dir: an index the indexer cannot write to (root or not)."""
    def make(src: Path) -> Path:
        if os.geteuid() != 0:
            index_dir = tmp_path / "index"
            indexer.rebuild([src], index_dir)
            index_dir.chmod(0o555)
            return index_dir
        # Root ignores permission bits: only a read-only filesystem stops it.
        point = small_fs("16m")
        index_dir = point / "index"
        indexer.rebuild([src], index_dir)
        read_only(point)
        return index_dir
    yield make
    for path in tmp_path.glob("index"):
        path.chmod(0o755)


def test_full_disk_gives_a_clear_error_and_keeps_the_old_index(
        tmp_path: Path, small_fs, fill_fs, newssearch, make_articles, write_jsonl):
    point = small_fs("8m")
    index_dir = point / "index"
    old = write_jsonl(tmp_path / "old" / "news.jsonl", make_articles(200, seed=9))
    new = write_jsonl(tmp_path / "new" / "news.jsonl", make_articles(400, seed=10))
    indexer.rebuild([old.parent], index_dir)
    before = served(index_dir)
    filled = fill_fs(point)

    rebuild = newssearch("index", new.parent, "--index", index_dir)
    after_rebuild = served(index_dir)
    write_jsonl(old, make_articles(200, seed=9)[:190]
                + make_articles(15, seed=11, prefix="new"))
    update = newssearch("index", old.parent, "--index", index_dir, "--update")
    after_update = served(index_dir)
    (point / "filler").unlink()
    recovered = newssearch("index", new.parent, "--index", index_dir)
    print(f"\nfull disk: filled {filled} bytes; rebuild exit {rebuild.returncode}, update exit "
          f"{update.returncode} ({update.stderr.strip().splitlines()[-1][-40:]}); served "
          f"(documents, hits) {before} -> {after_rebuild} -> {after_update}; after freeing "
          f"space: exit {recovered.returncode}")
    assert_clean_error(rebuild, f"Error: could not write the index in {index_dir}: ")
    assert "No space left on device" in rebuild.stderr
    assert "the previous index is still in place" in rebuild.stderr
    assert after_rebuild == before
    assert not [p for p in index_dir.iterdir() if p.name.startswith(".build-")]
    assert_clean_error(update, f"Error: could not update the index in {index_dir}: ")
    assert after_update == before
    assert recovered.returncode == 0, recovered.stderr
    assert served(index_dir)[0] == 400


@pytest.mark.parametrize("mode", ["rebuild", "update"])
def test_unwritable_index_gives_a_clear_error(tmp_path: Path, unwritable, newssearch,
                                              make_articles, write_jsonl, mode):
    src = write_jsonl(tmp_path / "src" / "news.jsonl", make_articles(100, seed=12))
    index_dir = unwritable(src.parent)
    result = newssearch("index", src.parent, "--index", index_dir,
                        *(["--update"] if mode == "update" else []))
    print(f"\nunwritable index, {mode}: exit {result.returncode}, last line "
          f"{result.stderr.strip().splitlines()[-1]!r}")
    assert_clean_error(result, f"Error: could not {'update' if mode == 'update' else 'write'} "
                               f"the index in {index_dir}")


def test_unwritable_index_still_serves(tmp_path: Path, unwritable, newssearch, make_articles,
                                       write_jsonl):
    src = write_jsonl(tmp_path / "src" / "news.jsonl", make_articles(100, seed=12))
    index_dir = unwritable(src.parent)
    result = newssearch("index", src.parent, "--index", index_dir)
    search = newssearch("search", "gouvernement", "--index", index_dir)
    print(f"\nunwritable index: indexer exit {result.returncode}; search exit "
          f"{search.returncode}: {search.stdout.splitlines()[0]}")
    assert result.returncode != 0
    assert served(index_dir)[0] == 100
    assert search.returncode == 0 and search.stdout.startswith("100 résultats")


def test_failed_update_leaves_no_debris_in_the_live_index(tmp_path: Path, small_fs, fill_fs,
                                                          newssearch, make_articles,
                                                          write_jsonl):
    point = small_fs("8m")
    index_dir = point / "index"
    src = write_jsonl(tmp_path / "src" / "news.jsonl", make_articles(200, seed=9))
    indexer.rebuild([src.parent], index_dir)
    live = (index_dir / "current").resolve()
    files = sorted(p.name for p in live.iterdir())
    fill_fs(point)
    write_jsonl(src, make_articles(200, seed=9) + make_articles(15, seed=11, prefix="new"))
    update = newssearch("index", src.parent, "--index", index_dir, "--update")
    debris = sorted(set(p.name for p in live.iterdir()) - set(files))
    print(f"\nfailed update: exit {update.returncode}; new files in the live generation: "
          f"{debris}")
    assert update.returncode == 1
    assert debris == []
