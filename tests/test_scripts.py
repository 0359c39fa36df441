"""scripts/run: the demo index follows an upgrade; a user's own index is never rebuilt."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from newssearch import indexer, schema, store

ROOT = Path(__file__).parent.parent


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of the scripts and of some seeds beside this checkout's own .venv."""
    if not (ROOT / ".venv" / "bin" / "newssearch").exists():
        pytest.skip("scripts/run needs the .venv that scripts/setup creates")
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "scripts", copy / "scripts")
    (copy / "seeds").mkdir()
    for seed in (ROOT / "seeds").glob("*.txt"):
        shutil.copy(seed, copy / "seeds")
    for seed in (ROOT / "seeds").glob("*.jsonl"):  # a hundred articles are enough here
        lines = seed.read_text("utf-8").splitlines(keepends=True)[:100]
        (copy / "seeds" / seed.name).write_text("".join(lines), "utf-8")
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    (copy / ".venv").symlink_to(ROOT / ".venv")
    return copy


def outdate(index_dir: Path) -> None:
    gen = store.current_generation(index_dir)
    meta = json.loads((gen / store.META).read_text())
    meta["schema_version"] = schema.SCHEMA_VERSION - 1
    (gen / store.META).write_text(json.dumps(meta))


def serve_once(checkout: Path, env: dict[str, str]) -> tuple[str, int, dict]:
    """Run scripts/run until it serves; return what it said, and /health's status and body."""
    server = subprocess.Popen([str(checkout / "scripts" / "run"), "--port", "0", "--workers", "1"],
                              cwd=checkout, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    said = ""
    try:
        while "Serving" not in said:
            line = server.stderr.readline()
            assert line, f"scripts/run stopped: {said}"
            said += line
        port = int(re.search(r"http://127\.0\.0\.1:(\d+)/", said).group(1))
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=20) as r:
                return said, r.status, json.load(r)
        except urllib.error.HTTPError as e:
            return said, e.code, json.load(e)
    finally:
        server.terminate()
        server.wait(timeout=20)
        server.stderr.close()


def test_the_demo_index_is_rebuilt_after_a_schema_change(checkout):
    env = {k: v for k, v in os.environ.items() if k != "NEWSSEARCH_INDEX"}
    subprocess.run([str(checkout / ".venv" / "bin" / "newssearch"), "index", "seeds"],
                   cwd=checkout, env=env, check=True, capture_output=True)
    outdate(checkout / "index")
    said, status, health = serve_once(checkout, env)
    assert "built from seeds by an older newssearch" in said and "rebuilding it" in said
    assert status == 200 and health["schema_version"] == schema.SCHEMA_VERSION


def test_a_users_own_outdated_index_is_left_alone(checkout, corpus_dir, tmp_path):
    mine = tmp_path / "mine"
    indexer.rebuild([corpus_dir], mine)
    outdate(mine)
    before = store.current_generation(mine)
    said, status, health = serve_once(checkout, {**os.environ, "NEWSSEARCH_INDEX": str(mine)})
    assert "rebuilding" not in said
    assert status == 503 and "rebuild it" in health["error"]["message"]
    assert store.current_generation(mine) == before
