"""SIGKILL the indexer at random moments: the served index is always whole, old or new."""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import time
from collections import Counter
from pathlib import Path

from newssearch import indexer
from newssearch.records import SearchRequest
from newssearch.search import SearchService

KILLS = 7  # at random moments; two more right after Whoosh's commit
OLD, NEW = 200, 2000  # articles in the live index before, and in the corpus being indexed


def served(index_dir: Path) -> tuple[int, int]:
    """Open the index as a fresh server would; return its documents and hits for a word."""
    service = SearchService(index_dir)
    page = service.search(SearchRequest(q="gouvernement", per_page=1, facets=False))
    return service.info().documents, page.total


def leftovers(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.iterdir() if p.name.startswith(".build-"))


def phase(log: str, index_dir: Path, pid: int) -> str:
    """Where a killed build was, from its progress lines and the generation it left live."""
    if os.readlink(index_dir / "current").endswith(f"-{pid}"):
        return "killed after the swap"
    done = re.findall(r"Indexing: (\d+)/(\d+)", log)
    if not done:
        return "killed while starting or reading"
    n, total = map(int, done[-1])
    return "killed while writing" if n < total else "killed between commit and swap"


def wait_for(line: str, log: Path, process, timeout: float = 60) -> None:
    """Return as soon as the build prints ``line`` (or ends)."""
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        if line in log.read_text():
            return
        time.sleep(0.002)


def children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (the indexer's forked workers)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def end(pids: list[int]) -> None:
    """SIGKILL orphaned workers by pid and wait until they are gone."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.01)


def test_killed_indexer_never_leaves_a_partial_index(tmp_path: Path, spawn, newssearch,
                                                     make_articles, write_jsonl):
    small = write_jsonl(tmp_path / "small" / "news.jsonl", make_articles(OLD, seed=3))
    big = write_jsonl(tmp_path / "big" / "news.jsonl", make_articles(NEW, seed=4))
    index_dir = tmp_path / "index"
    indexer.rebuild([small.parent], index_dir)
    expected = {OLD: served(index_dir)}

    # One uninterrupted build, elsewhere, to know how long a build takes.
    started = time.monotonic()
    measured = newssearch("index", big.parent, "--index", tmp_path / "measure")
    build_seconds = time.monotonic() - started
    assert measured.returncode == 0, measured.stderr
    expected[NEW] = served(tmp_path / "measure")

    rng = random.Random(20261127)
    # One delay in each slice of the build, so the kills land in reading, writing, commit
    # and swap; in order, so that the old index stays live until a build gets through.
    delays = [0.05 + (build_seconds * 1.05 - 0.05) * (k + rng.random()) / KILLS
              for k in range(KILLS)]
    plan: list[float | None] = [*delays, None, None]  # None: when the last progress line shows
    outcomes: Counter[str] = Counter()
    live = OLD
    for delay in plan:
        process, log = spawn("index", big.parent, "--index", index_dir)
        if delay is None:
            wait_for(f"Indexing: {NEW}/{NEW}", log, process)
        else:
            time.sleep(delay)
        workers = children(process.pid)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)  # the indexer only, as the OOM killer would
        code = process.wait(60)
        outcomes["killed" if code == -signal.SIGKILL else f"exit {code}"] += 1
        assert code in (0, -signal.SIGKILL), log.read_text()
        # Workers outliving the indexer are the subject of the last test; ended here so
        # that the next build does not wait for them.
        orphans = [p for p in workers if alive(p)]
        outcomes["orphaned workers"] += len(orphans)
        end(orphans)
        documents, total = served(index_dir)
        assert (documents, total) in (expected[OLD], expected[NEW]), (delay, documents, total)
        if code != 0:
            outcomes[phase(log.read_text(), index_dir, process.pid)] += 1
        assert documents >= live, "a killed build took a finished index back"
        live = documents
        found = leftovers(index_dir)
        outcomes[f"served {documents}"] += 1
        outcomes["left a build behind"] += bool(found)
        assert len(found) <= 1, found

    before = leftovers(index_dir)
    final = newssearch("index", big.parent, "--index", index_dir)
    print(f"\nkilled indexer: {len(plan)} runs; a build takes {build_seconds:.2f} s; kills "
          f"after {', '.join(f'{d:.2f}' for d in delays)} s and twice after the commit; "
          f"{dict(outcomes)}; left before the final build: {before}")
    assert final.returncode == 0, final.stderr
    for name in before:
        assert f"Removed {name}, left behind by an interrupted build." in final.stderr
    assert leftovers(index_dir) == []
    assert served(index_dir) == expected[NEW]
    assert outcomes["killed"] >= len(plan) // 2
    assert outcomes["killed"] + sum(n for k, n in outcomes.items() if k.startswith("exit")) \
        == len(plan)


def test_a_kill_during_the_swap_does_not_lock_the_index_out(tmp_path: Path, newssearch,
                                                           make_articles, write_jsonl):
    src = write_jsonl(tmp_path / "src" / "news.jsonl", make_articles(50, seed=5))
    index_dir = tmp_path / "index"
    indexer.rebuild([src.parent], index_dir)
    # Exactly what swap_in leaves when killed after os.symlink, before os.replace.
    live = os.readlink(index_dir / "current")
    os.symlink(live, index_dir / ".current.4242")

    result = newssearch("index", src.parent, "--index", index_dir)
    print(f"\nkill during the swap: exit {result.returncode}: {result.stderr.strip()[-200:]}")
    assert result.returncode == 0, result.stderr
    assert not (index_dir / ".current.4242").exists()


def test_a_killed_indexer_leaves_no_worker_holding_the_lock(tmp_path: Path, spawn, newssearch,
                                                            make_articles, write_jsonl):
    src = write_jsonl(tmp_path / "src" / "news.jsonl", make_articles(NEW, seed=4))
    index_dir = tmp_path / "index"
    process, _ = spawn("index", src.parent, "--index", index_dir, "--procs", "2")
    deadline = time.monotonic() + 30
    while not (workers := children(process.pid)) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert workers, "the indexer never forked its workers"
    time.sleep(0.3)
    workers = children(process.pid)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    time.sleep(0.2)
    orphans = [p for p in workers if alive(p)]
    try:
        after = newssearch("index", src.parent, "--index", index_dir, "--wait", "0")
    finally:
        end(workers)
    print(f"\nkilled during the parallel phase: {len(orphans)} of {len(workers)} workers still "
          f"running 0.2 s later; next indexer with --wait 0: "
          f"exit {after.returncode} {after.stderr.strip()[-120:]!r}")
    assert orphans == []
    assert after.returncode == 0, after.stderr


def test_a_killed_update_loses_nothing_and_adds_all_or_nothing(tmp_path: Path, spawn,
                                                               newssearch, make_articles,
                                                               write_jsonl):
    """SIGKILL --update while it reads, writes or swaps: the archive stays whole."""
    archive = write_jsonl(tmp_path / "archive" / "news.jsonl", make_articles(OLD, seed=5))
    today = write_jsonl(tmp_path / "today" / "news.jsonl",
                        make_articles(1500, seed=6, prefix="jour"))
    index_dir = tmp_path / "index"
    indexer.rebuild([archive.parent], index_dir)
    before = served(index_dir)[0]
    seen = Counter()
    for delay in (0.3, 0.8, 1.5, 2.5, 4.0):
        process, _ = spawn("index", today, "--index", index_dir, "--update")
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        documents = served(index_dir)[0]
        assert documents in (before, before + 1500)  # never partial, never fewer
        seen[documents] += 1
        if documents == before + 1500:
            break
    finished = newssearch("index", today, "--index", index_dir, "--update")
    assert finished.returncode == 0, finished.stderr
    assert served(index_dir)[0] == before + 1500 and not leftovers(index_dir)
    print(f"\nkilled updates left {dict(seen)} documents")
