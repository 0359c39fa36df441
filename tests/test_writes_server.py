"""The write API through the real server: concurrent writers and readers over several
worker processes, a SIGKILL mid-stream, a write during a rebuild, and batching."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from newssearch import indexer, ingest, store

KEY = "une-clé-de-serveur"
SEEDS = Path(__file__).parent.parent / "seeds"


class Server:
    """`newssearch serve` in its own process group, with the write API on."""

    def __init__(self, index_dir: Path, key_file: Path, *extra: str):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "newssearch", "serve", "--index", str(index_dir),
             "--port", "0", "--workers", "2", "--threads", "4",
             "--api-key-file", str(key_file), *extra],
            stderr=subprocess.PIPE, text=True, start_new_session=True)
        line = self.process.stderr.readline()
        self.url = re.search(r"(http://127\.0\.0\.1:\d+)/", line).group(1)
        self.wait_ready()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=5):
                    return
            except OSError:
                assert time.monotonic() < deadline, "the server did not answer"
                time.sleep(0.1)

    def call(self, method: str, path: str, body=None, key: str | None = KEY,
             timeout: float = 60) -> tuple[int, dict, dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if key:
            request.add_header("Authorization", f"Bearer {key}")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as r:
                return r.status, dict(r.headers), json.load(r)
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), json.load(e)

    def kill(self) -> str:
        """SIGKILL the server and its workers at once, as a power cut would; return stderr."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)
        said = self.process.stderr.read()
        self.process.stderr.close()
        return said

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=20)
        said = self.process.stderr.read()
        self.process.stderr.close()
        return said


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "keys"
    path.write_text(KEY + "\n", "utf-8")
    return path


def article(n: int, word: str = "rafale") -> dict:
    return {"id": f"push-{n}", "title": f"Dépêche {n} : {word} sur la côte",
            "body": f"Le texte de la dépêche numéro {n}.", "date": "2024-01-05"}


def test_concurrent_writers_and_readers_across_workers(index_dir, key_file):
    server = Server(index_dir, key_file)
    problems: list[str] = []
    try:
        def write(first: int) -> None:
            for n in range(first, first + 12):
                status, _, body = server.call("POST", "/api/articles", article(n))
                if status != 201 or body["accepted"] != 1:
                    problems.append(f"write {n}: {status} {body}")
                    continue
                # Acknowledged means visible, whichever worker answers next.
                status, _, _ = server.call("GET", f"/api/articles/push-{n}", key=None)
                if status != 200:
                    problems.append(f"push-{n} not found right after its 201: {status}")

        def read(stop: threading.Event) -> None:
            while not stop.is_set():
                status, _, body = server.call("GET", "/api/search?q=rafale", key=None)
                if status != 200:
                    problems.append(f"search: {status} {body}")

        stop = threading.Event()
        readers = [threading.Thread(target=read, args=(stop,)) for _ in range(2)]
        writers = [threading.Thread(target=write, args=(100 * w,)) for w in range(4)]
        for t in readers + writers:
            t.start()
        for t in writers:
            t.join()
        stop.set()
        for t in readers:
            t.join()
        assert problems == []
        _, _, page = server.call("GET", "/api/search?q=rafale&per_page=100", key=None)
        assert page["total"] == 48
        status, _, _ = server.call("POST", "/api/articles", article(1), key="mauvaise")
        assert status == 401
    finally:
        said = server.stop()
    assert KEY not in said and "mauvaise" not in said  # keys never reach the logs


def test_every_acknowledged_write_survives_a_sigkill(index_dir, key_file):
    server = Server(index_dir, key_file)
    acknowledged: list[str] = []
    stop = threading.Event()

    def write(first: int) -> None:
        n = first
        while not stop.is_set():
            try:
                status, _, _ = server.call("POST", "/api/articles", article(n), timeout=10)
            except OSError:  # the server is gone
                return
            if status == 201:
                acknowledged.append(f"push-{n}")
            n += 1

    writers = [threading.Thread(target=write, args=(10_000 * w,)) for w in range(4)]
    for t in writers:
        t.start()
    time.sleep(2.0)
    server.kill()
    stop.set()
    for t in writers:
        t.join()
    assert len(acknowledged) > 10
    restarted = Server(index_dir, key_file)
    try:
        lost = [i for i in acknowledged
                if restarted.call("GET", f"/api/articles/{i}", key=None)[0] != 200]
    finally:
        restarted.stop()
    assert lost == []


def test_a_write_during_a_rebuild_lands_in_the_new_index_or_is_refused(index_dir, key_file,
                                                                       tmp_path):
    patient = Server(index_dir, key_file, "--write-wait", "120")
    hasty = Server(index_dir, key_file, "--write-wait", "0.5")
    try:
        # Four hundred articles: a rebuild long enough to write during it.
        lines = (SEEDS / "orangesum-sample.jsonl").read_text("utf-8").splitlines()[:400]
        (tmp_path / "news.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
        rebuild = subprocess.Popen(
            [sys.executable, "-m", "newssearch", "index", str(tmp_path / "news.jsonl"),
             "--index", str(index_dir), "--procs", "1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:  # until the rebuild holds the writers' lock
            with store.try_writer_lock(index_dir) as free:
                if not free:
                    break
            assert rebuild.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        refused = hasty.call("POST", "/api/articles", article(1, "refusee"))
        stored = patient.call("POST", "/api/articles", article(2, "acceptee"))
        assert rebuild.wait(timeout=120) == 0
    finally:
        patient.stop()
        hasty.stop()
    assert refused[0] == 503 and refused[1]["Retry-After"] == "1"
    assert stored[0] == 201
    ix, _, meta = indexer.open_index(index_dir)
    with ix.searcher() as s:
        ids = {f["id"] for f in s.all_stored_fields()}
    ix.close()
    assert "push-2" in ids and "push-1" not in ids
    assert len(ids) == 401  # the rebuilt index, with the write on top of it
    assert not list((index_dir / ingest.SPOOL).iterdir())


def test_concurrent_writes_share_a_commit(index_dir, monkeypatch):
    """Writes arriving while the lock is taken are committed together, not one by one."""
    swaps: list[Path] = []
    point = store.point
    monkeypatch.setattr(store, "point", lambda d, g: (swaps.append(g), point(d, g)))
    results: list[BaseException | None] = []

    def write(n: int) -> None:
        try:
            ingest.submit(index_dir, ingest.Change((ingest._article_of(
                {"id": f"w{n}", "title": f"Écrit {n}", "body": "Un texte.", "lede": "",
                 "date": None, "url": "", "source": "", "section": "", "tags": []}),)))
            results.append(None)
        except BaseException as e:  # reported below
            results.append(e)

    with store.writer_lock(index_dir):
        threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        while len(list((index_dir / ingest.SPOOL).glob("*.json"))) < 8:
            time.sleep(0.01)
    for t in threads:
        t.join()
    assert results == [None] * 8
    assert len(swaps) == 1
