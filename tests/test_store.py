"""The index directory: a generation reaches the disk before it is swapped in."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from newssearch import indexer, store


@pytest.fixture
def disk_calls(monkeypatch) -> list[tuple[str, str]]:
    """Record fsync (by the path of the file descriptor), rename and replace, in order."""
    calls: list[tuple[str, str]] = []
    fsync, rename, replace = os.fsync, os.rename, os.replace

    def record_fsync(fd: int) -> None:
        calls.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        fsync(fd)

    def record_rename(src, dst) -> None:
        calls.append(("rename", f"{os.path.abspath(src)} -> {os.path.abspath(dst)}"))
        rename(src, dst)

    def record_replace(src, dst) -> None:
        calls.append(("replace", f"{os.path.abspath(src)} -> {os.path.abspath(dst)}"))
        replace(src, dst)

    monkeypatch.setattr(os, "fsync", record_fsync)
    monkeypatch.setattr(os, "rename", record_rename)
    monkeypatch.setattr(os, "replace", record_replace)
    return calls


def check_durable_swap(calls: list[tuple[str, str]], index_dir: Path) -> None:
    """Every file of the new generation, then its directory, then the swap, then its directory."""
    generation = store.current_generation(index_dir).resolve()
    swap = next(i for i, (op, what) in enumerate(calls)
                if op == "replace" and what.endswith(f"-> {index_dir.resolve() / store.CURRENT}"))
    moved = next(i for i, (op, what) in enumerate(calls)
                 if op == "rename" and what.endswith(f"-> {generation}"))
    build = calls[moved][1].split(" -> ")[0]
    synced = {what: i for i, (op, what) in enumerate(calls[:moved]) if op == "fsync"}
    files = [p.name for p in generation.iterdir() if p.is_file()]
    assert files
    for name in files:
        assert synced.get(f"{build}/{name}", moved) < synced[build], name
    assert synced[build] < moved < swap
    assert ("fsync", str(index_dir.resolve())) in calls[swap + 1:]


def test_a_rebuild_is_on_disk_before_it_is_swapped_in(tmp_path, corpus_dir, disk_calls):
    indexer.rebuild([corpus_dir], tmp_path / "ix")
    check_durable_swap(disk_calls, tmp_path / "ix")


def test_an_update_is_on_disk_before_it_is_swapped_in(index_dir, tmp_path, disk_calls):
    new = tmp_path / "new.jsonl"
    new.write_text(json.dumps({"id": "n", "title": "Neuf", "body": "Un texte."}) + "\n")
    disk_calls.clear()
    indexer.update([new], index_dir)
    check_durable_swap(disk_calls, index_dir)


def test_a_rollback_reaches_the_disk(index_dir, corpus_dir, disk_calls):
    indexer.rebuild([corpus_dir], index_dir)
    disk_calls.clear()
    previous, _ = indexer.rollback(index_dir)
    swap = disk_calls.index(next(c for c in disk_calls if c[0] == "replace"
                                 and c[1].endswith(f"/{store.CURRENT}")))
    assert ("fsync", str(index_dir.resolve())) in disk_calls[swap + 1:]
    assert store.current_generation(index_dir) == previous


def test_an_index_directory_with_a_previous_link_is_still_ours(index_dir, corpus_dir):
    indexer.rebuild([corpus_dir], index_dir)
    assert (index_dir / store.PREVIOUS).is_symlink()
    store.check_index_dir(index_dir)  # does not call it foreign
