"""Measure newssearch at N times the news corpus, beside tantivy and SQLite FTS5.

The N× corpus is the news corpus repeated N times: copy 0 is the corpus as it is; each
later copy of an article gets its own id and one extra headline word taken from another
headline, so that copies are not collapsed as wire duplicates and every posting list grows
N-fold. For each scale and engine, in one run:

- build: seconds, and the peak RSS of every process of the build (VmHWM read from /proc
  while it runs, over the whole process tree);
- index size on disk (hard-linked files counted once);
- first query: a fresh process opens the index and answers one query, once from a cold
  page cache (dropped through /proc/sys/vm/drop_caches, where this process may) and once
  after every file of the index was read (what the rest is measured after too: this
  machine's kernel pages out file pages left untouched for a minute, so an index idle
  since its build is otherwise read back from disk during the queries);
- p50 / p95 / max over the short-query log (benchmarks/data/news-short: 500 queries of 2 to 4
  headline words, lowercase, no accents) and over benchmarks/data/querylog.jsonl, after 50
  warm-up queries, each query once;
- hostile queries: every stop word, a stop-word phrase, a 5,000-letter word (median of 3).

newssearch answers with SearchService.search full pages (10 hits, highlighting, facets,
collapsing, spelling), in process. tantivy (tantivy-py: lowercase, ASCII folding, French
stop words and stemmer) runs an AND query with a hit count and 10 HTML snippets; FTS5
(unicode61 remove_diacritics 2) an AND query, a count, highlight() and snippet(). The peers
take the words of a querylog request only (no filters, no date sort).

Run from the repo root (benchmark-only dependencies: benchmarks/requirements.txt):

    .venv/bin/python benchmarks/bench_scale.py [--scales 1,10] [--engines newssearch,tantivy,fts5]
        [--work DIR] [--reuse] [--out results.json]

Built corpora and indexes stay in --work (default /tmp/newssearch-scale), reused with --reuse.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from common import code_line, machine_line

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "../shared/corpus/orangesum-fr-news.jsonl.gz"
SHORT_LOG = Path(__file__).resolve().parent / "data" / "news-short" / "queries.jsonl"
FULL_LOG = Path(__file__).resolve().parent / "data" / "querylog.jsonl"
WARM_UP = 50
HOSTILE = {"stop words": "le la les de des du un une", "stop phrase": '"de la"',
           "5,000 letters": "a" * 5000}
ENGINES = ("newssearch", "tantivy", "fts5")
_WORDS = re.compile(r"[^\W\d_]{4,}")


# -- the corpus ---------------------------------------------------------------------------

def make_corpus(scale: int, work: Path) -> Path:
    """Write (once) the corpus repeated ``scale`` times as JSON lines."""
    path = work / f"corpus-{scale}x.jsonl"
    if path.exists():
        return path
    with gzip.open(CORPUS, "rt", encoding="utf-8") as f:
        articles = [json.loads(line) for line in f if line.strip()]
    headline_words = [w for a in articles for w in _WORDS.findall(a.get("title") or "")]
    rng = random.Random(20261201)
    tmp = path.with_suffix(".part")
    with open(tmp, "w", encoding="utf-8") as out:
        for copy in range(scale):
            for a in articles:
                if copy:
                    a = dict(a, id=f"{a['id']}-x{copy}",
                             title=f"{a.get('title') or ''} {rng.choice(headline_words)}")
                out.write(json.dumps(a, ensure_ascii=False) + "\n")
    tmp.rename(path)
    return path


# -- measuring processes ------------------------------------------------------------------

def _children(pid: int) -> list[int]:
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        try:
            with open(f"/proc/{parent}/task/{parent}/children") as f:
                kids = [int(k) for k in f.read().split()]
        except OSError:
            kids = []
        found.extend(kids)
        frontier.extend(kids)
    return found


def _peak_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_measured(command: list[str]) -> dict:
    """Run a command; return its seconds, stdout and the peak RSS (MB) of each process."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    peaks: dict[int, int] = {}
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            for pid in [proc.pid, *_children(proc.pid)]:
                peaks[pid] = max(peaks.get(pid, 0), _peak_kb(pid))
            done.wait(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    out, _ = proc.communicate()
    seconds = time.perf_counter() - started
    done.set()
    watcher.join()
    if proc.returncode:
        raise SystemExit(f"{' '.join(command[:4])}… failed with status {proc.returncode}")
    rss = sorted((kb / 1024 for kb in peaks.values() if kb), reverse=True)
    return {"seconds": seconds, "stdout": out, "rss_mb": rss}


def drop_page_cache() -> bool:
    """Empty the kernel's page cache (root only); False where this process may not."""
    os.sync()
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError:
        return False
    return True


def read_through(path: Path) -> float:
    """Read every file of an index once (into the page cache); return the seconds."""
    started = time.perf_counter()
    for root, _, files in os.walk(path):
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                while f.read(8 << 20):
                    pass
    return time.perf_counter() - started


def disk_bytes(path: Path) -> int:
    seen, total = set(), 0
    for root, _, files in os.walk(path):
        for name in files:
            st = os.lstat(os.path.join(root, name))
            if st.st_ino not in seen:
                seen.add(st.st_ino)
                total += st.st_size
    return total


# -- the engines, each run in its own process (--worker) ----------------------------------

def _articles(corpus: Path):
    with open(corpus, encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)


def _words(q: str) -> list[str]:
    return [w for w in re.findall(r"[^\W_]+", q)]


class Newssearch:
    def build(self, corpus: Path, index: Path) -> None:
        subprocess.run([str(Path(sys.executable).with_name("newssearch")), "index",
                        str(corpus), "--index", str(index)], check=True,
                       stdout=subprocess.DEVNULL)

    def open(self, index: Path):
        from bench_query import newssearch_runner

        from newssearch.search import SearchService
        self.run = newssearch_runner(SearchService(index))
        return self

    def query(self, request: dict) -> int:
        return self.run(request)


class Tantivy:
    def _analyzer(self):
        import tantivy
        return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
                .filter(tantivy.Filter.remove_long(40)).filter(tantivy.Filter.lowercase())
                .filter(tantivy.Filter.ascii_fold()).filter(tantivy.Filter.stopword("french"))
                .filter(tantivy.Filter.stemmer("french")).build())

    def _schema(self):
        import tantivy
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("id", stored=True, tokenizer_name="raw")
        for name in ("title", "body"):
            builder.add_text_field(name, stored=True, tokenizer_name="fr",
                                   index_option="position")
        return builder.build()

    def build(self, corpus: Path, index: Path) -> None:
        import tantivy
        index.mkdir(parents=True)
        ix = tantivy.Index(self._schema(), path=str(index))
        ix.register_tokenizer("fr", self._analyzer())
        writer = ix.writer(heap_size=256_000_000, num_threads=2)
        for a in _articles(corpus):
            writer.add_document(tantivy.Document(
                id=a["id"], title=a.get("title") or "",
                body="\n\n".join(p for p in (a.get("lede"), a.get("body")) if p)))
        writer.commit()
        writer.wait_merging_threads()

    def open(self, index: Path):
        import tantivy
        self.ix = tantivy.Index.open(str(index))
        self.ix.register_tokenizer("fr", self._analyzer())
        self.searcher = self.ix.searcher()
        return self

    def query(self, request: dict) -> int:
        import tantivy
        words = _words(request["q"])
        if not words:
            return 0
        q = self.ix.parse_query_lenient(" ".join(words), ["title", "body"],
                                        conjunction_by_default=True)[0]
        found = self.searcher.search(q, 10, count=True)
        snippets = tantivy.SnippetGenerator.create(self.searcher, q, self.ix.schema, "body")
        for _, address in found.hits:
            snippets.snippet_from_doc(self.searcher.doc(address)).to_html()
        return found.count


class Fts5:
    def build(self, corpus: Path, index: Path) -> None:
        import sqlite3
        index.mkdir(parents=True)
        db = sqlite3.connect(index / "fts.db")
        db.execute("CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, body, "
                   "tokenize='unicode61 remove_diacritics 2')")
        db.executemany("INSERT INTO docs VALUES (?, ?, ?)", (
            (a["id"], a.get("title") or "",
             "\n\n".join(p for p in (a.get("lede"), a.get("body")) if p))
            for a in _articles(corpus)))
        db.execute("INSERT INTO docs(docs) VALUES ('optimize')")
        db.commit()
        db.close()

    def open(self, index: Path):
        import sqlite3
        self.db = sqlite3.connect(index / "fts.db")
        return self

    def query(self, request: dict) -> int:
        words = _words(request["q"])
        if not words:
            return 0
        match = " AND ".join('"' + w.replace('"', "") + '"' for w in words)
        total = self.db.execute("SELECT count(*) FROM docs WHERE docs MATCH ?",
                                (match,)).fetchone()[0]
        self.db.execute("SELECT id, highlight(docs, 1, '<mark>', '</mark>'), "
                        "snippet(docs, 2, '<mark>', '</mark>', '…', 24) FROM docs "
                        "WHERE docs MATCH ? ORDER BY rank LIMIT 10", (match,)).fetchall()
        return total


ADAPTERS = {"newssearch": Newssearch, "tantivy": Tantivy, "fts5": Fts5}


def _load(path: Path, limit: int | None) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    rows = [{"q": r["text"]} if "text" in r else r for r in rows]
    return rows[:limit] if limit else rows


def _timed(engine, request: dict) -> float:
    started = time.perf_counter()
    engine.query(request)
    return (time.perf_counter() - started) * 1000


def worker(args: argparse.Namespace) -> None:
    """One engine in this process: build, or open and answer the logs (JSON on stdout)."""
    adapter = ADAPTERS[args.engine]()
    if args.worker == "build":
        adapter.build(Path(args.corpus), Path(args.index))
        return
    short, full = _load(SHORT_LOG, args.limit), _load(FULL_LOG, args.limit)
    started = time.perf_counter()
    engine = adapter.open(Path(args.index))
    engine.query(short[0])
    first = time.perf_counter() - started
    if args.worker == "first":
        print(json.dumps({"first_query_s": first}))
        return
    for request in (short + full)[:WARM_UP]:
        engine.query(request)
    result = {"first_query_s": first,
              "short_ms": [_timed(engine, r) for r in short],
              "full_ms": [_timed(engine, r) for r in full],
              "hostile_ms": {name: statistics.median(_timed(engine, {"q": q}) for _ in range(3))
                             for name, q in HOSTILE.items()}}
    print(json.dumps(result))


# -- the driver ---------------------------------------------------------------------------

def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(engine: str, scale: int, work: Path, reuse: bool, limit: int | None) -> dict:
    corpus = make_corpus(scale, work)
    index = work / f"{engine}-{scale}x"
    me = [sys.executable, __file__, "--engine", engine, "--index", str(index)]
    row: dict = {"engine": engine, "scale": scale}
    if not (reuse and index.exists()):
        if index.exists():
            subprocess.run(["rm", "-rf", str(index)], check=True)
        print(f"  building {engine} {scale}x ...", flush=True)
        built = run_measured([*me, "--worker", "build", "--corpus", str(corpus)])
        row["build_s"], row["build_rss_mb"] = built["seconds"], built["rss_mb"]
    row["disk_mb"] = disk_bytes(index) / 1e6
    if drop_page_cache():
        cold = run_measured([*me, "--worker", "first"])
        row["cold_first_query_s"] = json.loads(cold["stdout"])["first_query_s"]
    row["read_through_s"] = read_through(index)
    print(f"  querying {engine} {scale}x ...", flush=True)
    queried = run_measured([*me, "--worker", "query"]
                           + (["--limit", str(limit)] if limit else []))
    row.update(json.loads(queried["stdout"]))
    row["query_rss_mb"] = queried["rss_mb"][0] if queried["rss_mb"] else 0
    return row


def summary(row: dict) -> dict:
    s = {"build": f"{row['build_s']:.1f} s" if "build_s" in row else "(reused)",
         "peak RSS": (f"{row['build_rss_mb'][0]:,.0f} MB (+{len(row['build_rss_mb']) - 1})"
                      if row.get("build_rss_mb") else ""),
         "disk": f"{row['disk_mb']:,.0f} MB",
         "first query, cold cache": (f"{row['cold_first_query_s']:.2f} s"
                                     if "cold_first_query_s" in row else ""),
         "read the index": f"{row['read_through_s']:.1f} s" if "read_through_s" in row else "",
         "first query": f"{row['first_query_s']:.2f} s",
         "query RSS": f"{row['query_rss_mb']:,.0f} MB"}
    for log in ("short", "full"):
        ms = row[f"{log}_ms"]
        s[f"{log} p50/p95/max ms"] = (f"{statistics.median(ms):.1f} / {percentile(ms, .95):.1f}"
                                      f" / {max(ms):.0f}")
    for name, ms in row["hostile_ms"].items():
        s[name] = f"{ms:.0f} ms"
    return s


def print_table(rows: list[dict]) -> None:
    columns = [f"{r['engine']} {r['scale']}x" for r in rows]
    cells = [summary(r) for r in rows]
    names = list(cells[0])
    width = max(map(len, names))
    widths = [max(len(c), *(len(s[n]) for n in names)) for c, s in zip(columns, cells,
                                                                       strict=True)]
    print("| " + " " * width + " | " + " | ".join(c.ljust(w) for c, w in zip(columns, widths,
                                                                            strict=True)) + " |")
    print("|" + "-" * (width + 2) + "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for n in names:
        print("| " + n.ljust(width) + " | "
              + " | ".join(s[n].ljust(w) for s, w in zip(cells, widths, strict=True)) + " |")


def print_growth(rows: list[dict]) -> None:
    """Ratios from the smallest scale to each larger one, per engine."""
    for engine in dict.fromkeys(r["engine"] for r in rows):
        mine = sorted((r for r in rows if r["engine"] == engine), key=lambda r: r["scale"])
        base = mine[0]
        for r in mine[1:]:
            def ratio(values, share, r=r, base=base):
                return percentile(r[values], share) / percentile(base[values], share)
            parts = [f"short p50 ×{ratio('short_ms', .5):.2f}",
                     f"short p95 ×{ratio('short_ms', .95):.2f}",
                     f"full p50 ×{ratio('full_ms', .5):.2f}",
                     f"first query ×{r['first_query_s'] / base['first_query_s']:.1f}",
                     f"disk ×{r['disk_mb'] / base['disk_mb']:.1f}"]
            if "build_s" in r and "build_s" in base:
                parts.append(f"build ×{r['build_s'] / base['build_s']:.1f}")
            print(f"{engine} {base['scale']}x → {r['scale']}x: " + ", ".join(parts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scales", default="1,10")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--work", type=Path, default=Path("/tmp/newssearch-scale"))
    parser.add_argument("--reuse", action="store_true", help="keep indexes already built")
    parser.add_argument("--limit", type=int, help="only the first N queries of each log")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--worker", choices=("build", "first", "query"), help=argparse.SUPPRESS)
    parser.add_argument("--engine", help=argparse.SUPPRESS)
    parser.add_argument("--index", help=argparse.SUPPRESS)
    parser.add_argument("--corpus", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    print(machine_line())
    print(code_line())
    args.work.mkdir(parents=True, exist_ok=True)
    rows = []
    for scale in (int(s) for s in args.scales.split(",")):
        for engine in args.engines.split(","):
            rows.append(measure(engine, scale, args.work, args.reuse, args.limit))
            if args.out:
                args.out.write_text(json.dumps(rows))
    print_table(rows)
    print_growth(rows)
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
