"""`newssearch serve`: several processes on one socket, all stopped by one SIGTERM."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    return found


def alive(pid: int) -> bool:
    """True for a process that exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_serve_runs_workers_and_stops_cleanly(index_dir):
    server = subprocess.Popen(
        [sys.executable, "-m", "newssearch", "serve", "--index", str(index_dir),
         "--port", "0", "--workers", "2"], stderr=subprocess.PIPE, text=True)
    try:
        line = server.stderr.readline()
        port = int(re.search(r":(\d+)/", line).group(1))
        assert "with 2 process(es)" in line
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    assert json.load(r)["documents"] == 4
                break
            except OSError:
                assert time.monotonic() < deadline, "server did not answer"
                time.sleep(0.1)
        workers = children_of(server.pid)
        assert len(workers) == 2
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=20) == 0
        time.sleep(0.2)
        assert not [p for p in workers if alive(p)]
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        server.stderr.close()


def test_any_wsgi_server_serves_the_index_named_by_the_environment(index_dir, tmp_path):
    # Started elsewhere than the index, so that a fallback to ./index would find nothing.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "NEWSSEARCH_INDEX": str(index_dir)}
    server = subprocess.Popen(
        [sys.executable, "-m", "waitress", "--listen=127.0.0.1:0",
         "--call", "newssearch.web:create_app"],
        cwd=elsewhere, env=env, stderr=subprocess.PIPE, text=True)
    try:
        line = server.stderr.readline()
        port = int(re.search(r":(\d+)\s*$", line).group(1))
        url = f"http://127.0.0.1:{port}/api/search?q=porte-avions"
        with urllib.request.urlopen(url, timeout=10) as r:
            body = json.load(r)
        assert [hit["id"] for hit in body["hits"]] == ["porte-avions"]
    finally:
        server.terminate()
        server.wait(timeout=20)
        server.stderr.close()
