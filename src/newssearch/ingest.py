"""Articles pushed as they are published: spooled to disk, committed together, then answered.

A write is first written to a spool file in the index directory and flushed to
disk. Whichever request then holds the writers' lock (the lock ``newssearch
index`` takes) commits every spooled write of every server process as one new
generation, and only then are the writers answered: an acknowledged write is on
disk and searchable. Concurrent writes thus share a commit, as Elasticsearch's
refresh interval batches them. A committer first renames the files it takes
(``.claimed``); a write still unclaimed when its wait runs out (a rebuild holds
the lock) is withdrawn and refused, so it can never land later in a generation
nobody expects. A committer killed midway leaves its claimed files, which the
next one applies again (an upsert or a delete by id, applied twice, is the same).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from newssearch import indexer, store
from newssearch.articles import Article

SPOOL = store.SPOOL
CLAIMED = ".claimed"
ORIGIN = indexer.PUSHED  # no file has authority over pushed articles
# A committer waits this long for concurrent writes to join its batch.
LINGER = 0.005
MAX_BATCH = 5000  # articles per commit, so that a commit stays short
POLL = 0.005
_counter = itertools.count()
_WRITE = re.compile(r"\d{20}-\d+-\d+-\d+\.json(?:\.claimed)?")


class WriteBusy(Exception):
    """The writers' lock stayed taken (a rebuild): the write was withdrawn, nothing stored."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Change:
    """Articles to add or replace, and ids to remove, in the order they were asked for."""

    upserts: tuple[Article, ...] = ()
    deletes: tuple[str, ...] = ()


def submit(index_dir: Path, change: Change, wait: float = 10.0) -> None:
    """Store a change durably and make it searchable; return once both are true.

    Raises WriteBusy if the writers' lock stayed taken for ``wait`` seconds.
    """
    index_dir = Path(index_dir)
    pending = _spool(index_dir, change)
    claimed = pending.with_name(pending.name + CLAIMED)
    deadline = time.monotonic() + wait
    while pending.exists() or claimed.exists():
        with store.try_writer_lock(index_dir) as locked:
            if locked:
                try:
                    commit(index_dir)
                except BaseException:
                    # Not stored: take it back, so that it cannot land after its refusal.
                    pending.unlink(missing_ok=True)
                    claimed.unlink(missing_ok=True)
                    raise
                continue
        if time.monotonic() >= deadline and _withdraw(pending):
            raise WriteBusy(f"another writer has held {index_dir} for {wait:g} s "
                            "(a rebuild?); nothing was stored. Try again shortly.",
                            retry_after=max(1, round(wait)))
        time.sleep(POLL)


def commit(index_dir: Path) -> int:
    """Apply every spooled write as one generation; return how many were applied.

    The caller holds the writers' lock: any claimed file is a killed committer's.
    """
    spool = index_dir / SPOOL
    time.sleep(LINGER)
    taken: list[Path] = []
    changes: list[Change] = []
    articles = 0
    for path in sorted(_spooled(spool), key=_arrival):
        if not path.name.endswith(CLAIMED):
            claimed = path.with_name(path.name + CLAIMED)
            try:
                os.rename(path, claimed)
            except FileNotFoundError:  # withdrawn meanwhile
                continue
            path = claimed
        taken.append(path)
        changes.append(_read(path))
        articles += len(changes[-1].upserts) + len(changes[-1].deletes)
        if articles >= MAX_BATCH:
            break
    if not taken:
        return 0
    upserts, deletes = _net(changes)
    indexer.apply_locked(index_dir, upserts, deletes, ORIGIN)
    for path in taken:
        path.unlink()
    store.fsync_dir(spool)
    return len(taken)


def drain(index_dir: Path, wait: float = 10.0) -> int:
    """Commit whatever writes a killed server left spooled (at start-up)."""
    spool = Path(index_dir) / SPOOL
    if not spool.is_dir():
        return 0
    with store.writer_lock(Path(index_dir), wait):
        # A write killed before its spool file was complete was never answered: gone.
        for partial in spool.glob(".*.tmp"):
            partial.unlink(missing_ok=True)
        return commit(Path(index_dir))


def _spool(index_dir: Path, change: Change) -> Path:
    spool = index_dir / SPOOL
    spool.mkdir(parents=True, exist_ok=True)
    name = f"{time.time_ns():020d}-{os.getpid()}-{threading.get_ident()}-{next(_counter)}.json"
    tmp = spool / f".{name}.tmp"
    data = {"upserts": [_article_json(a) for a in change.upserts],
            "deletes": list(change.deletes)}
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, spool / name)  # complete, or not there at all
    store.fsync_dir(spool)
    return spool / name


def _withdraw(pending: Path) -> bool:
    """Take back a write no committer has claimed; False if one has (it will land)."""
    try:
        pending.unlink()
    except FileNotFoundError:
        return False
    return True


def _spooled(spool: Path) -> list[Path]:
    """The writes waiting in the spool, claimed or not (not those still being written)."""
    return [p for p in spool.iterdir() if _WRITE.fullmatch(p.name)]


def _arrival(path: Path) -> tuple[int, str]:
    return int(path.name.split("-", 1)[0]), path.name


def _read(path: Path) -> Change:
    data = json.loads(path.read_text("utf-8"))
    return Change(tuple(_article_of(a) for a in data["upserts"]), tuple(data["deletes"]))


def _net(changes: list[Change]) -> tuple[list[Article], list[str]]:
    """The last word on each id, in arrival order: its newest version, or its removal."""
    last: dict[str, Article | None] = {}
    for change in changes:
        for article in change.upserts:
            last.pop(article.id, None)
            last[article.id] = article
        for article_id in change.deletes:
            last.pop(article_id, None)
            last[article_id] = None
    upserts = [a for a in last.values() if a is not None]
    return upserts, [i for i, a in last.items() if a is None]


def _article_json(article: Article) -> dict:
    return {"id": article.id, "title": article.title, "lede": article.lede,
            "body": article.body, "date": article.date.isoformat() if article.date else None,
            "url": article.url, "source": article.source, "section": article.section,
            "tags": list(article.tags)}


def _article_of(data: dict) -> Article:
    day = date.fromisoformat(data["date"]) if data.get("date") else None
    return Article(id=data["id"], title=data["title"], body=data["body"], lede=data["lede"],
                   date=day, url=data["url"], source=data["source"],
                   section=data["section"], tags=tuple(data["tags"]))
