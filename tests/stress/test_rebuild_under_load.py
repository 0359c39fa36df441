"""A rebuild and an update land while the real server answers searches from four threads."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

from newssearch import indexer

THREADS = 4
ALWAYS = "gouvernement"  # in every generated article's lede
QUERIES = (ALWAYS, "réforme retraites", "ministre", "budget OR impôts", "hôpital santé -grève",
           '"conseil municipal"')
NEW_WORD = "zeppelinophile"  # only in the rebuilt corpus
UPDATED_WORD = "montgolfière"  # only in the 20 articles changed before the update


class Hammer:
    """Threads searching over keep-alive connections, recording every answer."""

    def __init__(self, server, deadline: float):
        self.server, self.deadline = server, deadline
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.requests = 0
        self.failures: list[str] = []
        self.totals: Counter[int] = Counter()  # totals seen for ALWAYS
        self.threads = [threading.Thread(target=self.run, args=(n,)) for n in range(THREADS)]

    def run(self, n: int) -> None:
        conn = self.server.connection()
        i = n
        try:
            while not self.stop.is_set() and time.monotonic() < self.deadline:
                q = QUERIES[i % len(QUERIES)]
                i += 1
                try:
                    status, _, body = self.server.fetch(conn, "GET",
                                                        f"/api/search?q={quote(q)}&per_page=5")
                except (OSError, ValueError) as e:  # http.client errors on a broken connection
                    self.record(f"{q!r}: {type(e).__name__}: {e}")
                    conn.close()
                    conn = self.server.connection()
                    continue
                if status != 200:
                    self.record(f"{q!r}: HTTP {status} {body[:200]!r}")
                    continue
                total = json.loads(body)["total"]
                with self.lock:
                    self.requests += 1
                    if q == ALWAYS:
                        self.totals[total] += 1
        finally:
            conn.close()

    def record(self, failure: str) -> None:
        with self.lock:
            self.requests += 1
            self.failures.append(failure)

    def __enter__(self) -> Hammer:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(30)


def total_for(server, q: str) -> int:
    status, body = server.get_json(f"/api/search?q={quote(q)}")
    assert status == 200, body
    return body["total"]


def wait_for_new_second(built_at: str) -> None:
    """built_at has a one-second resolution: make sure the next build gets a new one."""
    while time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) <= built_at[:19]:
        time.sleep(0.05)


def test_rebuild_and_update_under_load_never_fail_and_switch_without_restart(
        tmp_path: Path, serve, newssearch, make_articles, write_jsonl):
    src = tmp_path / "articles" / "news.jsonl"
    index_dir = tmp_path / "index"
    write_jsonl(src, make_articles(300, seed=1))
    indexer.rebuild([src.parent], index_dir)
    server = serve(index_dir)
    _, health = server.get_json("/health")
    old_total = total_for(server, ALWAYS)
    assert health["documents"] == 300 and old_total > 0
    assert total_for(server, NEW_WORD) == 0

    rebuilt = make_articles(360, seed=2)
    for article in rebuilt[::10]:
        article["body"] += f"\n\nUn {NEW_WORD} est venu."
    updated = [dict(a) for a in rebuilt]
    for article in updated[100:120]:
        article["body"] += f"\n\nUne {UPDATED_WORD} survole la ville."

    with Hammer(server, deadline=time.monotonic() + 90) as hammer:
        time.sleep(0.5)
        write_jsonl(src, rebuilt)
        wait_for_new_second(health["built_at"])
        rebuild = newssearch("index", src.parent, "--index", index_dir)
        assert rebuild.returncode == 0, rebuild.stderr
        _, after_rebuild = server.get_json("/health")
        new_total = total_for(server, ALWAYS)
        found_new = total_for(server, NEW_WORD)
        time.sleep(0.3)

        write_jsonl(src, updated)
        wait_for_new_second(after_rebuild["built_at"])
        update = newssearch("index", src.parent, "--index", index_dir, "--update")
        assert update.returncode == 0, update.stderr
        _, after_update = server.get_json("/health")
        updated_total = total_for(server, ALWAYS)
        found_updated = total_for(server, UPDATED_WORD)
        time.sleep(0.5)

    totals_seen = dict(hammer.totals)
    print(f"\nrebuild under load: {hammer.requests} requests from {THREADS} threads, "
          f"{len(hammer.failures)} failed; totals for {ALWAYS!r}: {totals_seen}; "
          f"built_at {health['built_at']} -> {after_rebuild['built_at']} -> "
          f"{after_update['built_at']}")
    assert hammer.failures == []
    assert hammer.requests >= 100
    assert 0 not in totals_seen
    assert set(totals_seen) <= {old_total, new_total, updated_total}
    assert after_rebuild["documents"] == 360 and after_rebuild["built_at"] != health["built_at"]
    assert found_new == 36
    assert "0 added, 20 changed, 0 removed" in update.stdout
    assert after_update["documents"] == 360
    assert after_update["built_at"] != after_rebuild["built_at"]
    assert found_updated == 20
