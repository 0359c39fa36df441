"""Fixtures for the stress tests: generated French corpora, the real indexer and server.

Test modules reach the helpers through fixtures (a conftest is not importable by name).
Every generated article's lede holds « gouvernement », so a search for it always has results.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# Every article's lede holds ALWAYS, so a search for it always has results.
ALWAYS = "gouvernement"
WORDS = """ministre réforme retraites élection président assemblée syndicats grève
manifestation économie budget impôts santé hôpital école élèves enseignants climat énergie
électricité nucléaire agriculteurs récolte sécheresse tribunal justice procès police sécurité
transport train métro aéroport tourisme culture musée théâtre cinéma festival football rugby
championnat équipe victoire défaite entreprise emploi chômage salaire inflation banque marché
exportation industrie usine voiture électrique logement loyer immobilier quartier ville région
département commune maire conseil municipal habitants association bénévoles solidarité""".split()
SECTIONS = ("politique", "économie", "société", "sport", "culture")
SOURCES = ("AFP", "Reuters", "Le Monde", "Ouest-France")


def _make_articles(n: int, *, seed: int = 0, prefix: str = "art") -> list[dict]:
    """Return ``n`` French-like news articles, the same ones for the same seed."""
    rng = random.Random(seed)

    def words(k: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(k))

    return [{"id": f"{prefix}-{i:05d}", "title": words(7).capitalize(),
             "lede": f"Le {ALWAYS} annonce {words(12)}.",
             "body": "\n\n".join(f"{words(40).capitalize()}." for _ in range(rng.randint(2, 4))),
             "date": f"20{rng.randint(10, 24)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
             "section": rng.choice(SECTIONS), "source": rng.choice(SOURCES),
             "url": f"https://example.org/{prefix}/{i}"} for i in range(n)]


def _write_jsonl(path: Path, articles: list[dict]) -> Path:
    """Write articles as JSON lines, replacing the file atomically as an editor would."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for article in articles:
            f.write(json.dumps(article, ensure_ascii=False) + "\n")
    os.replace(tmp, path)
    return path


def child_env() -> dict[str, str]:
    """The environment for newssearch subprocesses, without the caller's NEWSSEARCH_*."""
    return {k: v for k, v in os.environ.items() if not k.startswith("NEWSSEARCH_")}


def newssearch_cmd(*args: object) -> list[str]:
    return [sys.executable, "-m", "newssearch", *map(str, args)]


def run_newssearch(*args: object, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``python -m newssearch ARGS`` to completion and return its result."""
    return subprocess.run(newssearch_cmd(*args), cwd=cwd, env=child_env(), capture_output=True,
                          text=True, timeout=timeout, check=False)


def start_newssearch(*args: object, cwd: Path, log: Path) -> subprocess.Popen:
    """Start ``python -m newssearch ARGS``, its output going to ``log`` (no pipe to fill)."""
    with open(log, "wb") as out:
        return subprocess.Popen(newssearch_cmd(*args), cwd=cwd, env=child_env(), stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def stop(process: subprocess.Popen, timeout: float = 10) -> int:
    """Terminate a child (kill it if it lingers) and reap it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait(timeout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None,
          headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """Send a request on a (keep-alive) connection; return status, headers and body."""
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()


class Server:
    """A running ``newssearch serve`` subprocess on a loopback port."""

    def __init__(self, index_dir: Path, workdir: Path, host: str | None = "127.0.0.1"):
        self.index_dir, self.workdir, self.host = index_dir, workdir, host
        self.port = 0
        self.process: subprocess.Popen | None = None
        self.log = workdir / "server.log"

    def start(self, timeout: float = 20) -> Server:
        for _ in range(3):  # another process may take the free port before the server does
            self.port = free_port()
            args = ["serve", "--index", self.index_dir, "--port", self.port]
            if self.host is not None:
                args += ["--host", self.host]
            self.process = start_newssearch(*args, cwd=self.workdir, log=self.log)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.process.poll() is None:
                with contextlib.suppress(OSError):
                    self.request("GET", "/health")
                    return self
                time.sleep(0.05)
            stop(self.process)
        raise RuntimeError(f"newssearch serve did not start:\n{self.output()}")

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)

    def output(self) -> str:
        """What the server printed on stdout and stderr."""
        return self.log.read_text("utf-8", "replace") if self.log.exists() else ""

    def connection(self, timeout: float = 10) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        """Send one request on a new connection; return status, headers and body."""
        conn = self.connection()
        try:
            return fetch(conn, method, path, body, headers)
        finally:
            conn.close()

    fetch = staticmethod(fetch)

    def get_json(self, path: str) -> tuple[int, dict]:
        status, _, body = self.request("GET", path)
        return status, json.loads(body)


@pytest.fixture
def make_articles():
    """make_articles(n, seed=, prefix=): French-like articles as JSON records."""
    return _make_articles


@pytest.fixture
def write_jsonl():
    """write_jsonl(path, articles): a JSONL corpus file, replaced atomically."""
    return _write_jsonl


@pytest.fixture
def newssearch(tmp_path: Path):
    """newssearch(*args, timeout=): run ``python -m newssearch`` to completion in tmp_path."""
    def run(*args: object, timeout: float = 120) -> subprocess.CompletedProcess:
        return run_newssearch(*args, cwd=tmp_path, timeout=timeout)
    return run


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator:
    """spawn(*args) -> (Popen, log path): start ``python -m newssearch``; reaped after the test."""
    children: list[subprocess.Popen] = []

    def start(*args: object) -> tuple[subprocess.Popen, Path]:
        log = tmp_path / f"newssearch-{len(children)}.log"
        process = start_newssearch(*args, cwd=tmp_path, log=log)
        children.append(process)
        return process, log

    yield start
    for process in children:
        if process.poll() is None:
            process.kill()
        process.wait(30)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator:
    """Start ``newssearch serve`` on an index; every server is stopped after the test."""
    servers: list[Server] = []

    def start(index_dir: Path, host: str | None = "127.0.0.1") -> Server:
        workdir = tmp_path / f"server-{len(servers)}"
        workdir.mkdir()
        server = Server(index_dir, workdir, host)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator:
    """Mount a small tmpfs (root only); skip when this machine does not allow it."""
    mounts: list[Path] = []

    def mount(size: str, name: str = "fs") -> Path:
        point = tmp_path / name
        point.mkdir()
        if shutil.which("mount") is None:
            pytest.skip("no mount command here: a full or read-only filesystem cannot be made")
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip()}); "
                        "a full or read-only filesystem cannot be made without it")
        mounts.append(point)
        return point

    yield mount
    for point in reversed(mounts):
        subprocess.run(["umount", "-l", str(point)], capture_output=True, check=False)


@pytest.fixture
def fill_fs():
    """fill_fs(mount point): fill a filesystem to its last byte; return the bytes written."""
    return _fill


@pytest.fixture
def read_only():
    """read_only(mount point): remount a small_fs filesystem read-only."""
    def remount(point: Path) -> None:
        subprocess.run(["mount", "-o", "remount,ro", str(point)], check=True,
                       capture_output=True)
    return remount


def _fill(point: Path) -> int:
    """Fill a filesystem to the last byte; return the bytes written."""
    written = 0
    with open(point / "filler", "wb", buffering=0) as f:
        block = b"\0" * 4096
        with contextlib.suppress(OSError):
            while True:
                written += f.write(block)
        with contextlib.suppress(OSError):
            while True:
                written += f.write(b"\0")
    return written
