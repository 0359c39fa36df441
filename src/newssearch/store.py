"""The index directory: generations swapped atomically, the writers' lock, metadata.

Layout of an index directory::

    index/
        current -> gen-20261127T163500-4242   (symlink, replaced atomically)
        previous -> gen-20261126T090000-4111  (what served before: rollback's target)
        gen-20261127T163500-4242/             (a Whoosh index plus newssearch.json)
        gen-20261126T090000-4111/
        .build-20261127T170000-4343/          (a rebuild or update in progress)
        .lock                                 (held by the one running writer)

Every change (rebuild, update, delete) is written as a new generation beside the
live one and swapped in by renaming a symlink, so a reader sees the old index or
the new one, never a partial one, and the one before stays for ``rollback``. An
update starts from hard links to the live generation's files, which Whoosh never
rewrites (a new table of contents and new segments get new names), so it costs
what it adds, not a copy of the index.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

CURRENT = "current"
PREVIOUS = "previous"
META = "newssearch.json"
LOCK = ".lock"
BUILD_PREFIX = ".build-"
LINK_PREFIX = f".{CURRENT}."  # the new symlink, before it replaces the old one
GEN_PREFIX = "gen-"
SPOOL = ".incoming"  # writes pushed through the API, waiting for their commit (ingest.py)


class IndexUnavailable(Exception):
    """The index cannot be used; the message says why and what to do."""


class IndexBusy(Exception):
    """Another writer holds the index."""


def unreadable(index_dir: Path, error: BaseException) -> IndexUnavailable:
    """The error of an index whose files broke or vanished: what happened, how to fix it."""
    return IndexUnavailable(f"the index in {index_dir} cannot be read "
                            f"({type(error).__name__}: {error}); rebuild it with: newssearch index")


@dataclass(frozen=True)
class IndexMeta:
    """What newssearch records beside each generation."""

    schema_version: int
    built_at: str
    documents: int
    sources: tuple[str, ...] = ()
    version: str = ""

    @classmethod
    def read(cls, generation: Path) -> IndexMeta:
        data = json.loads((generation / META).read_text("utf-8"))
        return cls(schema_version=int(data["schema_version"]), built_at=str(data["built_at"]),
                   documents=int(data["documents"]), sources=tuple(data.get("sources", ())),
                   version=str(data.get("version", "")))

    def write(self, generation: Path) -> None:
        data = {"schema_version": self.schema_version, "built_at": self.built_at,
                "documents": self.documents, "sources": list(self.sources),
                "version": self.version}
        tmp = generation / (META + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, generation / META)


def now_iso() -> str:
    """Return the current UTC time, to the second, in ISO 8601."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def current_generation(index_dir: Path) -> Path | None:
    """Return the live generation's directory, or None if nothing was built yet."""
    return _target(index_dir, CURRENT)


def previous_generation(index_dir: Path) -> Path | None:
    """Return the generation that served before the live one, if it is still kept."""
    path = _target(index_dir, PREVIOUS)
    return path if path is not None and path.is_dir() else None


def _target(index_dir: Path, name: str) -> Path | None:
    try:
        target = os.readlink(index_dir / name)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as e:
        raise IndexUnavailable(f"{index_dir / name} is not a symlink: {e}") from e
    return index_dir / target


def check_index_dir(index_dir: Path) -> None:
    """Refuse a directory that holds something other than a newssearch index."""
    if not index_dir.exists():
        return
    if not index_dir.is_dir():
        raise IndexUnavailable(f"{index_dir} is not a directory.")
    foreign = [p.name for p in index_dir.iterdir()
               if p.name not in (CURRENT, PREVIOUS, LOCK, SPOOL)
               and not p.name.startswith((GEN_PREFIX, BUILD_PREFIX, LINK_PREFIX))]
    if foreign:
        raise IndexUnavailable(
            f"{index_dir} is not a newssearch index (it holds {', '.join(sorted(foreign)[:3])}); "
            "choose an empty or new directory with --index.")


@contextlib.contextmanager
def writer_lock(index_dir: Path, wait: float = 10.0) -> Iterator[None]:
    """Hold the index's writer lock, waiting at most ``wait`` seconds for it."""
    index_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(index_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
                    raise IndexBusy(
                        f"another indexer (pid {holder or '?'}) is writing {index_dir}; "
                        f"waited {wait:g} s. Try again when it has finished.") from None
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        # The kernel drops a flock when its holder dies, so a killed indexer
        # never leaves a stale lock behind.
        os.close(fd)


@contextlib.contextmanager
def try_writer_lock(index_dir: Path) -> Iterator[bool]:
    """Take the writers' lock if it is free, without waiting; yield whether it was taken."""
    fd = os.open(index_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield True
    finally:
        os.close(fd)


def new_build_dir(index_dir: Path) -> Path:
    """Create the directory a rebuild is written into."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    path = index_dir / f"{BUILD_PREFIX}{stamp}-{os.getpid()}"
    path.mkdir(parents=True)
    return path


def remove_leftovers(index_dir: Path) -> list[str]:
    """Delete builds that a killed or failed indexer left behind; call under the lock."""
    removed = []
    for path in sorted(index_dir.glob(BUILD_PREFIX + "*")):
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path.name)
    for path in sorted(index_dir.glob(LINK_PREFIX + "*")):
        path.unlink(missing_ok=True)
        removed.append(path.name)
    return removed


def link_generation(generation: Path, build_dir: Path) -> None:
    """Fill a new build with hard links to a generation's files (copies where links fail)."""
    for path in generation.iterdir():
        if not path.is_file() or path.name.endswith("_LOCK") or path.name.endswith(".tmp"):
            continue
        try:
            os.link(path, build_dir / path.name)
        except OSError:  # a file system without hard links
            shutil.copy2(path, build_dir / path.name)


def swap_in(index_dir: Path, build_dir: Path) -> Path:
    """Make a finished build the live generation, atomically; return its new path.

    Every file of the build and its directory reach the disk before the swap, and
    the swap itself after, so a reported success survives a power cut.
    """
    sync_tree(build_dir)
    generation = index_dir / (GEN_PREFIX + build_dir.name[len(BUILD_PREFIX):])
    os.rename(build_dir, generation)
    point(index_dir, generation)
    return generation


def point(index_dir: Path, generation: Path) -> None:
    """Make ``generation`` live and the one live until now the previous one."""
    live = current_generation(index_dir)
    if live is not None and live != generation and live.is_dir():
        _replace_link(index_dir, PREVIOUS, live)
    _replace_link(index_dir, CURRENT, generation)
    fsync_dir(index_dir)


def _replace_link(index_dir: Path, name: str, generation: Path) -> None:
    link = index_dir / f"{LINK_PREFIX}{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        link.unlink()
    os.symlink(generation.name, link)
    os.replace(link, index_dir / name)


def prune_generations(index_dir: Path) -> list[str]:
    """Delete the generations that are neither live nor the previous one; return their names.

    The previous generation stays for ``rollback``, and because a reader may still be
    answering from it.
    """
    keep = {current_generation(index_dir), previous_generation(index_dir)}
    removed = []
    for gen in sorted(index_dir.glob(GEN_PREFIX + "*")):
        if gen not in keep:
            shutil.rmtree(gen, ignore_errors=True)
            removed.append(gen.name)
    return removed


def generations(index_dir: Path) -> list[tuple[str, Path]]:
    """Return the kept generations as (role, path): the live one first, then the previous."""
    found = [("live", current_generation(index_dir)), ("previous", previous_generation(index_dir))]
    return [(role, path) for role, path in found if path is not None]


def sync_tree(directory: Path) -> None:
    """Flush every file in a directory to disk, then the directory itself."""
    for path in sorted(directory.iterdir()):
        if path.is_file() and not path.is_symlink():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    fsync_dir(directory)


def fsync_dir(path: Path) -> None:
    """Flush a directory's entries (names created, renamed or removed) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
