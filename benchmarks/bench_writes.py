"""Measure pushed writes: commit time, and query speed after many single-article writes.

Builds the full news corpus index, pushes N articles one at a time through the
write path the API uses (ingest.submit: spool, commit, swap), then compares the
query log's service time on that index with a fresh rebuild of the same articles
(the corpus plus the N pushed ones, as one file). It also times batches of
concurrent writers sharing commits. Run from the repo root:

    .venv/bin/python benchmarks/bench_writes.py [--writes N] [--corpus PATH] [--log FILE]
        [--repeat R]
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import statistics
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

from common import code_line, machine_line
from querylog import DEFAULT_CORPUS, DEFAULT_LOG

from newssearch import indexer, ingest
from newssearch.articles import Article
from newssearch.records import SearchRequest
from newssearch.search import SearchService


def pushed_articles(corpus: Path, count: int) -> list[Article]:
    """``count`` new articles: corpus articles under new ids, their headline reworded."""
    out = []
    with gzip.open(corpus, "rt", encoding="utf-8") as f:
        for n, line in enumerate(f):
            if n == count:
                break
            r = json.loads(line)
            out.append(Article(id=f"pousse-{n}", title=f"{r.get('title') or ''} (mise à jour)",
                               body=r.get("body") or "", lede=r.get("lede") or "",
                               url="", source=r.get("source") or "",
                               section=r.get("section") or ""))
    return out


def requests_of(log: Path) -> list[SearchRequest]:
    out = []
    for line in log.read_text("utf-8").splitlines():
        r = json.loads(line)
        day = {k: date.fromisoformat(r[k]) if r.get(k) else None for k in ("from", "to")}
        out.append(SearchRequest(q=r.get("q", ""), sort=r.get("sort", "relevance"),
                                 date_from=day["from"], date_to=day["to"],
                                 section=r.get("section"), source=r.get("source")))
    return out


def service_times(index: Path, requests: list[SearchRequest], repeat: int) -> list[float]:
    """Median per request over ``repeat`` passes, after one warm-up pass (ms)."""
    service = SearchService(index)
    service.warm_up()
    for r in requests:
        service.search(r)
    runs = []
    for _ in range(repeat):
        times = []
        for r in requests:
            started = time.perf_counter()
            service.search(r)
            times.append((time.perf_counter() - started) * 1000)
        runs.append(times)
    return [statistics.median(t) for t in zip(*runs, strict=True)]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def concurrent_batches(index: Path, articles: list[Article], threads: int) -> tuple[float, int]:
    """Push ``articles`` from ``threads`` writers at once; return (seconds, commits)."""
    commits = []
    apply = indexer.apply_locked

    def counted(*args, **kwargs):
        commits.append(1)
        return apply(*args, **kwargs)

    indexer.apply_locked = counted
    share = [articles[i::threads] for i in range(threads)]
    started = time.perf_counter()
    workers = [threading.Thread(target=lambda part: [ingest.submit(index, ingest.Change((a,)))
                                                     for a in part], args=(part,))
               for part in share]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    indexer.apply_locked = apply
    return time.perf_counter() - started, len(commits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=10_000)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--log", type=Path, default=DEFAULT_LOG)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(machine_line())
    print(code_line())
    work = Path(tempfile.mkdtemp(prefix="bench_writes-"))
    try:
        written = work / "written"
        started = time.perf_counter()
        indexer.rebuild([args.corpus], written)
        print(f"built the corpus index in {time.perf_counter() - started:.0f} s", flush=True)
        articles = pushed_articles(args.corpus, args.writes)
        commit_ms = []
        for n, article in enumerate(articles, 1):
            started = time.perf_counter()
            ingest.submit(written, ingest.Change((article,)))
            commit_ms.append((time.perf_counter() - started) * 1000)
            if n % 1000 == 0:
                print(f"  {n} writes, median {statistics.median(commit_ms):.0f} ms", flush=True)
        ix, _, _ = indexer.open_index(written)
        segments = len(ix._segments())
        ix.close()
        fresh_source = work / "all.jsonl"
        with gzip.open(args.corpus, "rt", encoding="utf-8") as f, \
                open(fresh_source, "w", encoding="utf-8") as out:
            shutil.copyfileobj(f, out)
            for a in articles:
                out.write(json.dumps({"id": a.id, "title": a.title, "lede": a.lede,
                                      "body": a.body, "source": a.source,
                                      "section": a.section}, ensure_ascii=False) + "\n")
        fresh = work / "fresh"
        indexer.rebuild([fresh_source], fresh)
        requests = requests_of(args.log)
        after = service_times(written, requests, args.repeat)
        rebuilt = service_times(fresh, requests, args.repeat)
        batch = concurrent_batches(written, [
            Article(id=f"lot-{n}", title=f"Dépêche {n}", body="Un texte court.")
            for n in range(200)], threads=8)
        print(f"\n{args.writes} single-article writes: commit median "
              f"{statistics.median(commit_ms):.0f} ms, p95 {percentile(commit_ms, 95):.0f} ms, "
              f"max {max(commit_ms):.0f} ms; {segments} segments afterwards")
        print(f"200 writes from 8 concurrent writers: {batch[0]:.1f} s in {batch[1]} commits "
              f"({200 / batch[0]:.0f} writes/s)")
        print(f"\n{'index':<28}{'p50 ms':>8}{'p95 ms':>8}{'max ms':>8}")
        for name, times in (("after the writes", after), ("rebuilt fresh", rebuilt)):
            print(f"{name:<28}{percentile(times, 50):>8.1f}{percentile(times, 95):>8.1f}"
                  f"{max(times):>8.1f}")
        print(f"\np95 after the writes / rebuilt fresh: "
              f"{percentile(after, 95) / percentile(rebuilt, 95):.2f}x (target <= 1.5x)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
