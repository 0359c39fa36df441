"""The index directory: generations swapped atomically, the writers' lock, metadata.

Layout of an index directory::

    index/
        current -> gen-20261127T163500-4242   (symlink, replaced atomically)
        gen-20261127T163500-4242/             (a Whoosh index plus newssearch.json)
        .build-20261127T170000-4343/          (a rebuild in progress)
        .lock                                 (held by the one running writer)

A rebuild is written beside the live generation and swapped in by renaming a
symlink, so a reader sees the old index or the new one, never a partial one.
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
META = "newssearch.json"
LOCK = ".lock"
BUILD_PREFIX = ".build-"
LINK_PREFIX = f".{CURRENT}."  # the new symlink, before it replaces the old one
GEN_PREFIX = "gen-"


class IndexUnavailable(Exception):
    """The index cannot be used; the message says why and what to do."""


class IndexBusy(Exception):
    """Another writer holds the index."""


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
    try:
        target = os.readlink(index_dir / CURRENT)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as e:
        raise IndexUnavailable(f"{index_dir / CURRENT} is not a symlink: {e}") from e
    return index_dir / target


def check_index_dir(index_dir: Path) -> None:
    """Refuse a directory that holds something other than a newssearch index."""
    if not index_dir.exists():
        return
    if not index_dir.is_dir():
        raise IndexUnavailable(f"{index_dir} is not a directory.")
    foreign = [p.name for p in index_dir.iterdir()
               if p.name not in (CURRENT, LOCK)
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


def swap_in(index_dir: Path, build_dir: Path) -> Path:
    """Make a finished build the live generation, atomically; return its new path."""
    generation = index_dir / (GEN_PREFIX + build_dir.name[len(BUILD_PREFIX):])
    os.rename(build_dir, generation)
    link = index_dir / f"{LINK_PREFIX}{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        link.unlink()
    os.symlink(generation.name, link)
    os.replace(link, index_dir / CURRENT)
    _fsync_dir(index_dir)
    return generation


def prune_generations(index_dir: Path, keep: int = 2) -> None:
    """Delete old generations, keeping the live one and the one before it.

    The previous generation stays because a reader may still be answering from it.
    """
    live = current_generation(index_dir)
    gens = sorted(index_dir.glob(GEN_PREFIX + "*"), key=lambda p: p.name, reverse=True)
    for gen in [g for g in gens if g != live][keep - 1:]:
        shutil.rmtree(gen, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
