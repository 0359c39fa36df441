"""Measure how fast newssearch indexes a French news corpus, against two baselines.

Contenders, each run in a fresh subprocess so that peak memory is its own:

- newssearch         indexer.rebuild([corpus], dir, procs=1)
- newssearch-procs2  the same with procs=2
- stock-whoosh       stock Whoosh with LanguageAnalyzer("fr") on the same fields, limitmb=256
- sqlite-fts5        an on-disk FTS5 table (unicode61 remove_diacritics 2), one transaction

Each time is wall-clock seconds in the child, from before its imports to the final commit,
reading and parsing the corpus included, as a user sees it; the median of --repeat runs is
reported. Peak RSS is the child's own ru_maxrss; "workers" is the largest of the processes it
started (procs=2), which comes on top. Index size is the sum of file sizes in its directory.

Run from the repo root:

    .venv/bin/python benchmarks/bench_index.py [--corpus PATH] [--limit N] [--repeat R]
        [--out DIR] [--only NAME[,NAME]]
"""

import argparse
import gzip
import json
import os
import platform
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT / "../shared/corpus/orangesum-fr-news.jsonl.gz"
BASELINE = "stock-whoosh"


def read_articles(corpus: Path) -> Iterator[dict]:
    """Yield one dict per non-blank line of a .jsonl or .jsonl.gz file."""
    opener = gzip.open if corpus.suffix == ".gz" else open
    with opener(corpus, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def run_newssearch(corpus: Path, out: Path, procs: int = 1) -> int:
    from newssearch import indexer

    return indexer.rebuild([corpus], out, procs=procs).indexed


def run_stock_whoosh(corpus: Path, out: Path) -> int:
    from datetime import datetime

    from whoosh import fields, index
    from whoosh.analysis import LanguageAnalyzer

    def text() -> fields.TEXT:
        return fields.TEXT(analyzer=LanguageAnalyzer("fr"), stored=True)

    schema = fields.Schema(
        id=fields.ID(unique=True, stored=True), title=text(), lede=text(), body=text(),
        date=fields.DATETIME(stored=True, sortable=True),
        section=fields.ID(stored=True, sortable=True), source=fields.ID(stored=True, sortable=True),
        url=fields.STORED, tags=fields.KEYWORD(stored=True, commas=True))
    out.mkdir(parents=True)
    ix = index.create_in(str(out), schema)
    n = 0
    with ix.writer(limitmb=256) as writer:
        for a in read_articles(corpus):
            keys = ("title", "lede", "body", "url", "section", "source")
            doc = {k: a[k] for k in keys if a.get(k)}
            if a.get("date"):
                doc["date"] = datetime.strptime(a["date"][:10], "%Y-%m-%d")
            if a.get("tags"):
                doc["tags"] = ",".join(a["tags"])
            writer.add_document(id=str(a["id"]), **doc)
            n += 1
    ix.close()
    return n


def run_sqlite_fts5(corpus: Path, out: Path) -> int:
    import sqlite3

    out.mkdir(parents=True)
    con = sqlite3.connect(out / "articles.db")
    con.execute("CREATE VIRTUAL TABLE articles USING fts5(id UNINDEXED, title, lede, body, "
                "tokenize = 'unicode61 remove_diacritics 2')")
    rows = ((a["id"], a.get("title") or "", a.get("lede") or "", a.get("body") or "")
            for a in read_articles(corpus))
    with con:
        con.executemany("INSERT INTO articles VALUES (?, ?, ?, ?)", rows)
    n = con.execute("SELECT count(*) FROM articles").fetchone()[0]
    con.close()
    return n


CONTENDERS = {
    "newssearch": run_newssearch,
    "newssearch-procs2": lambda corpus, out: run_newssearch(corpus, out, procs=2),
    BASELINE: run_stock_whoosh,
    "sqlite-fts5": run_sqlite_fts5,
}


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def one(name: str, corpus: Path, out: Path) -> None:
    """Run one contender in this process and print its figures as a JSON line."""
    started = time.perf_counter()
    n = CONTENDERS[name](corpus, out)
    seconds = time.perf_counter() - started
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print("ONE " + json.dumps({"articles": n, "seconds": seconds, "rss_mb": kb / 1024,
                               "workers_mb": workers_kb / 1024, "size_mb": dir_size(out) / 2**20}))


def spawn(name: str, corpus: Path, out: Path) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, __file__, "--one", name, "--corpus", str(corpus), "--out", str(out)]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(next(ln for ln in proc.stdout.splitlines() if ln.startswith("ONE "))[4:])


def write_subset(corpus: Path, limit: int, dest: Path) -> Path:
    with gzip.open(dest, "wt", encoding="utf-8") as out:
        out.writelines(json.dumps(a, ensure_ascii=False) + "\n"
                       for _, a in zip(range(limit), read_articles(corpus), strict=False))
    return dest


def ratio(seconds: float, base: float | None, name: str) -> str:
    if name == BASELINE or not base:
        return "baseline" if base else "-"
    r = seconds / base
    return f"{r:.2f}x time, {1 / r:.2f}x faster" if r <= 1 else f"{r:.2f}x time, {r:.2f}x slower"


def bench(args: argparse.Namespace, out: Path) -> None:
    corpus = args.corpus.resolve()
    if args.limit:
        corpus = write_subset(corpus, args.limit, out / f"corpus-{args.limit}.jsonl.gz")
    names = args.only.split(",") if args.only else list(CONTENDERS)
    if unknown := set(names) - set(CONTENDERS):
        sys.exit(f"unknown contender(s) {','.join(sorted(unknown))}; known: {','.join(CONTENDERS)}")
    runs: dict[str, list[dict]] = {name: [] for name in names}
    for r in range(args.repeat):
        for name in names:
            print(f"  run {r + 1}/{args.repeat} {name} ...", end=" ", flush=True)
            runs[name].append(spawn(name, corpus, out / name))
            print(f"{runs[name][-1]['seconds']:.1f} s", flush=True)
    results = {}
    for name, rs in runs.items():
        seconds = statistics.median(r["seconds"] for r in rs)
        results[name] = {"seconds": round(seconds, 3), "runs": [round(r["seconds"], 3) for r in rs],
                         "articles": rs[-1]["articles"],
                         "articles_per_s": round(rs[-1]["articles"] / seconds, 1),
                         "peak_rss_mb": round(max(r["rss_mb"] for r in rs), 1),
                         "workers_rss_mb": round(max(r["workers_mb"] for r in rs), 1),
                         "index_mb": round(rs[-1]["size_mb"], 1)}
    base = results.get(BASELINE, {}).get("seconds")
    head = (f"{'contender':<18} {'seconds':>8} {'articles/s':>10} {'peak RSS MB':>11} "
            f"{'workers MB':>10} {'index MB':>8}  vs {BASELINE}")
    print("\n" + head + "\n" + "-" * len(head))
    for name, r in results.items():
        r["vs_baseline"] = ratio(r["seconds"], base, name)
        workers = f"{r['workers_rss_mb']:.1f}" if r["workers_rss_mb"] else "-"
        print(f"{name:<18} {r['seconds']:>8.2f} {r['articles_per_s']:>10.0f} "
              f"{r['peak_rss_mb']:>11.1f} {workers:>10} {r['index_mb']:>8.1f}  {r['vs_baseline']}")
    print("\nRESULT " + json.dumps({"corpus": str(args.corpus.resolve()), "limit": args.limit,
                                    "repeat": args.repeat, "nproc": os.cpu_count(),
                                    "python": platform.python_version(), "results": results}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--limit", type=int, default=0, help="index only the first N articles")
    parser.add_argument("--repeat", type=int, default=1, help="runs per contender; median shown")
    parser.add_argument("--out", type=Path, help="keep the indexes here (default: a temp dir)")
    parser.add_argument("--only", help="comma-separated contenders: " + ",".join(CONTENDERS))
    parser.add_argument("--one", choices=list(CONTENDERS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one(args.one, args.corpus, args.out)
        return
    print(f"nproc {os.cpu_count()} (usable {len(os.sched_getaffinity(0))}), "
          f"Python {platform.python_version()} on {platform.platform()}, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("command: " + shlex.join([sys.executable, *sys.argv]))
    print(f"corpus: {args.corpus.resolve()}" + (f" (first {args.limit})" if args.limit else ""))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        bench(args, args.out.resolve())
    else:
        with tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
            bench(args, Path(tmp))


if __name__ == "__main__":
    main()
