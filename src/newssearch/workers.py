"""Worker processes started fresh and fed their share of items through a pipe.

A forked worker starts with the parent's memory: on the corpus ×10 that was the
1.3 GB of articles a build holds, counted again in each worker before it had
indexed anything. So a worker here is a new interpreter (``python -m
newssearch.workers``) that receives its items in batches as it consumes them,
reports its progress, and sends back one result. No Whoosh import here.
"""

from __future__ import annotations

import contextlib
import importlib
import itertools
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from multiprocessing.connection import Connection, wait
from pathlib import Path

from newssearch.processes import die_with_parent

BATCH = 100  # items a message carries; also how often a worker reports its progress


class WorkerFailed(RuntimeError):
    """A worker process died or raised; its message says which and why."""


def run(target: Callable, args: tuple, shares: Sequence[Iterable],
        added: Callable[[int], None]) -> list:
    """Call ``target(*args, items, added)`` in one new process per share, ``items``
    yielding that share; return their results in the order of the shares.

    ``target`` is a module-level function; ``added(n)`` is called in this process
    as workers report n more items done. Any failure kills every worker.
    """
    workers: list[_Worker] = []
    feeders: list[threading.Thread] = []
    done = False
    try:
        for share in shares:
            workers.append(_Worker.start(target, args))
            feeders.append(threading.Thread(target=workers[-1].feed, args=(share,),
                                            daemon=True))
            feeders[-1].start()
        results = _collect(workers, added)
        done = True
        return results
    finally:
        for w in workers:
            w.stop(wait=done)
        for feeder in feeders:
            feeder.join()


def _collect(workers: list[_Worker], added: Callable[[int], None]) -> list:
    results: dict[int, object] = {}
    while len(results) < len(workers):
        waiting = {w.report: i for i, w in enumerate(workers) if i not in results}
        for report in wait(list(waiting), timeout=0.2):
            i = waiting[report]
            try:
                status, payload = report.recv()
            except EOFError:
                raise WorkerFailed(workers[i].died()) from None
            if status == "added":
                added(payload)
            elif status == "ok":
                results[i] = payload
            else:
                raise WorkerFailed(f"an indexing worker failed: {payload}")
        for w in workers:
            if w.error is not None:
                raise w.error
    return [results[i] for i in range(len(workers))]


class _Worker:
    """One worker process and the two pipes to it."""

    def __init__(self, process: subprocess.Popen, feed: Connection, report: Connection):
        self.process, self.feed_end, self.report = process, feed, report
        self.error: BaseException | None = None  # what stopped the feeding, if anything

    @classmethod
    def start(cls, target: Callable, args: tuple) -> _Worker:
        feed_r, feed_w = os.pipe()
        report_r, report_w = os.pipe()
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "newssearch.workers", str(feed_r), str(report_w),
                 str(os.getpid())], pass_fds=(feed_r, report_w), stdin=subprocess.DEVNULL,
                env=_this_code())
        except BaseException:
            for fd in (feed_w, report_r):
                os.close(fd)
            raise
        finally:
            os.close(feed_r)
            os.close(report_w)
        worker = cls(process, Connection(feed_w, readable=False),
                     Connection(report_r, writable=False))
        worker.feed_end.send((target.__module__, target.__qualname__, args))
        return worker

    def feed(self, items: Iterable) -> None:
        """Send the items in batches, then the end (None); the pipe holds the pace."""
        try:
            iterator = iter(items)
            while batch := list(itertools.islice(iterator, BATCH)):
                self.feed_end.send(batch)
            self.feed_end.send(None)
        except (BrokenPipeError, OSError) as e:
            if self.process.poll() is None and not self.feed_end.closed:
                self.error = WorkerFailed(f"could not feed an indexing worker: {e}")
        except BaseException as e:  # the items' own failure, raised by the collector
            self.error = e

    def died(self) -> str:
        code = self.process.wait()
        return f"an indexing worker died (exit code {code})"

    def stop(self, wait: bool = False) -> None:
        """Kill the process (unless it ends within a while, if ``wait``); close the pipes."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(10 if wait else 0)
        if self.process.poll() is None:
            with contextlib.suppress(OSError):
                self.process.kill()
        self.process.wait()
        self.feed_end.close()
        self.report.close()


def _this_code() -> dict[str, str]:
    """The environment, with this copy of newssearch first on the worker's path."""
    env = dict(os.environ)
    here = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH")) if p)
    return env


def _items(feed: Connection) -> Iterator:
    while (batch := feed.recv()) is not None:
        yield from batch


def main(argv: Sequence[str]) -> None:
    """A worker: read the target and its arguments, run it over the fed items, report."""
    feed_fd, report_fd, parent = (int(a) for a in argv)
    die_with_parent(parent)
    feed = Connection(feed_fd, writable=False)
    report = Connection(report_fd, readable=False)
    try:
        module, name, args = feed.recv()
        target = getattr(importlib.import_module(module), name)
        report.send(("ok", target(*args, _items(feed), lambda n: report.send(("added", n)))))
    except BaseException as e:  # reported to the parent, which raises it
        with contextlib.suppress(OSError):
            report.send(("error", f"{type(e).__name__}: {e}"))
    finally:
        report.close()
        feed.close()


if __name__ == "__main__":
    main(sys.argv[1:])
