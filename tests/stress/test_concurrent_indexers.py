"""Two indexers on one index directory: one writes, the other waits or says who is writing."""

from __future__ import annotations

import time
from pathlib import Path

from newssearch import indexer
from newssearch.records import SearchRequest
from newssearch.search import SearchService


def wait_for_lock_holder(index_dir: Path, pid: int, process, timeout: float = 20) -> None:
    """Wait until ``pid`` has written itself into the writers' lock file."""
    deadline = time.monotonic() + timeout
    lock = index_dir / ".lock"
    while time.monotonic() < deadline and process.poll() is None:
        if lock.exists() and lock.read_text().strip() == str(pid):
            return
        time.sleep(0.01)
    raise AssertionError(f"indexer {pid} never took the lock (exit {process.poll()})")


def builds(index_dir: Path) -> int:
    return sum(p.name.startswith(".build-") for p in index_dir.iterdir())


def test_second_indexer_waits_or_says_who_is_writing(tmp_path: Path, spawn, newssearch,
                                                     make_articles, write_jsonl):
    src = write_jsonl(tmp_path / "src" / "news.jsonl", make_articles(2000, seed=6))
    index_dir = tmp_path / "index"
    indexer.rebuild([write_jsonl(tmp_path / "old" / "news.jsonl",
                                 make_articles(100, seed=7)).parent], index_dir)

    # One process, so that the first build lasts long enough for the others to meet it.
    first, first_log = spawn("index", src.parent, "--index", index_dir, "--procs", "1")
    wait_for_lock_holder(index_dir, first.pid, first)
    impatient = newssearch("index", src.parent, "--index", index_dir, "--wait", "0")
    still_writing = first.poll() is None
    patient, patient_log = spawn("index", src.parent, "--index", index_dir, "--wait", "60")

    most_builds, polls = 0, 0
    deadline = time.monotonic() + 120
    while (first.poll() is None or patient.poll() is None) and time.monotonic() < deadline:
        most_builds = max(most_builds, builds(index_dir))
        polls += 1
        time.sleep(0.02)
    first_code, patient_code = first.wait(10), patient.wait(10)

    service = SearchService(index_dir)
    documents = service.info().documents
    total = service.search(SearchRequest(q="gouvernement", facets=False)).total
    print(f"\ntwo indexers: first exit {first_code}; --wait 0 exit {impatient.returncode} "
          f"({impatient.stderr.strip()}); --wait 60 exit {patient_code}; at most "
          f"{most_builds} build(s) at once over {polls} polls; {documents} documents")
    assert still_writing, "the first indexer finished before the second one tried"
    assert impatient.returncode == 1
    assert impatient.stderr.startswith(f"Error: another indexer (pid {first.pid}) is writing ")
    assert "Traceback" not in impatient.stderr
    assert first_code == 0, first_log.read_text()
    assert patient_code == 0, patient_log.read_text()
    assert "another indexer" not in patient_log.read_text()
    assert most_builds <= 1
    assert builds(index_dir) == 0
    assert documents == 2000 and total > 0


def test_update_waiting_for_a_rebuild_is_not_lost(tmp_path: Path, spawn, newssearch,
                                                  make_articles, write_jsonl):
    articles = make_articles(1500, seed=8)
    old = write_jsonl(tmp_path / "old" / "news.jsonl", articles[:100])
    src = write_jsonl(tmp_path / "src" / "news.jsonl", articles)
    newer = write_jsonl(tmp_path / "newer" / "news.jsonl", articles + [
        {"id": "zeppelin", "title": "Un zeppelinophile à Nantes", "body": "Il collectionne."}])
    index_dir = tmp_path / "index"
    indexer.rebuild([old.parent], index_dir)

    rebuild, rebuild_log = spawn("index", src.parent, "--index", index_dir, "--procs", "1")
    wait_for_lock_holder(index_dir, rebuild.pid, rebuild)
    update = newssearch("index", newer.parent, "--index", index_dir, "--update", "--wait", "60")
    assert rebuild.wait(60) == 0, rebuild_log.read_text()
    found = SearchService(index_dir).search(SearchRequest(q="zeppelinophile")).total
    print(f"\nupdate behind a rebuild: exit {update.returncode}, {update.stdout.strip()!r}; "
          f"the new article found {found} time(s)")
    # Either the update lands in the live index, or it says it could not.
    assert found == 1 or update.returncode != 0
