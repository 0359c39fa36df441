"""Worker processes: fed through pipes, reporting progress, failing loudly."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from newssearch import workers


@pytest.fixture(autouse=True)
def importable(monkeypatch):
    """Let the workers import this module, where the targets below live."""
    here = str(Path(__file__).parent)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, (here, os.environ.get(
        "PYTHONPATH")))))


def total(scale, items, added):
    """Sum the items times ``scale``, reporting progress every batch."""
    result, count = 0, 0
    for item in items:
        result += item * scale
        count += 1
        if count % workers.BATCH == 0:
            added(workers.BATCH)
    added(count % workers.BATCH)
    return result, count, os.getpid()


def resident_mb(items, added):
    for _ in items:
        pass
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


def refuse(items, added):
    for item in items:
        if item == 7:
            raise ValueError(f"article {item} refused")


def vanish(items, added):
    next(iter(items))
    os._exit(3)


def test_each_share_reaches_its_own_worker_and_results_come_back_in_order():
    progress = []
    shares = [range(0, 250), range(250, 1000), range(1000, 1001)]
    results = workers.run(total, (2,), shares, progress.append)
    assert [r[:2] for r in results] == [(2 * sum(s), len(s)) for s in shares]
    assert len({pid for *_, pid in results} | {os.getpid()}) == 4
    assert sum(progress) == 1001


def test_a_worker_does_not_start_with_the_parents_memory():
    held = bytearray(400 * 1024 * 1024)  # what a build's articles would be
    held[::4096] = b"x" * len(held[::4096])  # touched, so resident
    [mb] = workers.run(resident_mb, (), [range(10)], lambda n: None)
    assert mb < 200
    del held


def test_an_error_in_a_worker_is_raised_with_its_message():
    with pytest.raises(workers.WorkerFailed, match="ValueError: article 7 refused"):
        workers.run(refuse, (), [range(7, 9), range(100, 200)], lambda n: None)


def test_a_worker_that_dies_is_reported_with_its_exit_code():
    with pytest.raises(workers.WorkerFailed, match=r"died \(exit code 3\)"):
        workers.run(vanish, (), [range(5)], lambda n: None)


def test_a_failing_share_stops_every_worker():
    def items():
        yield from range(300)
        raise KeyError("no such article")

    started = set(os.listdir("/proc"))
    with pytest.raises(KeyError, match="no such article"):
        workers.run(total, (1,), [items(), range(10**9)], lambda n: None)
    left = [pid for pid in set(os.listdir("/proc")) - started if pid.isdigit()
            and _parent(pid) == os.getpid()]
    assert left == []


def _parent(pid: str) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None
