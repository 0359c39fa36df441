"""Measure SearchService's time per request over the query log, against stock Whoosh.

newssearch does the whole page's work: SearchService(index).search(SearchRequest(...)) with
10 hits per page, highlighting, facets, collapsing and suggestions. The baseline is stock
Whoosh on a stock index of the same corpus (LanguageAnalyzer("fr") on title, lede and body,
stored; built once into --stock-index and reused): a MultifieldParser over title and body
(AND of the words), the same section/source/date filters and date sort, searcher.search(q,
limit=10) and hit.highlights() of title and body for the top 10. It runs twice: opening a
searcher per request (stock-whoosh, as the Whoosh docs do) and keeping one open
(stock-whoosh-shared). newssearch does whatever SearchService does.

After one warm-up pass of each, the log runs --repeat times, the order of the contenders
reversed every other time; each request's time is the median of its repeats, and the
percentiles are over those.

Run from the repo root:

    .venv/bin/python benchmarks/bench_query.py [--index DIR] [--stock-index DIR]
        [--corpus PATH] [--log FILE] [--repeat R] [--limit N] [--profile [--profile-out F]]
"""

from __future__ import annotations

import argparse
import cProfile
import gzip
import json
import os
import platform
import pstats
import re
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from common import code_line, ensure_index, machine_line
from querylog import DEFAULT_CORPUS, DEFAULT_LOG, describe, load_log

from newssearch.records import SearchRequest
from newssearch.search import SearchService

ROOT = Path(__file__).resolve().parent.parent

# Characters the stock QueryParser gives a meaning to (fields, ranges, groups, wildcards,
# boosts, single-quoted terms); a user's apostrophe or colon must not break the query.
_STOCK_SYNTAX = re.compile(r"[:()\[\]{}^~*?'’\\]")
_STOCK_OPERATORS = re.compile(r"\b(AND|OR|NOT|ANDNOT|ANDMAYBE)\b")


def open_stock_index(stock_dir: Path, corpus: Path):
    """Open the stock Whoosh index, building it first if it is not there."""
    from whoosh import fields, index
    from whoosh.analysis import LanguageAnalyzer

    if index.exists_in(str(stock_dir)):
        return index.open_dir(str(stock_dir))
    print(f"no stock index in {stock_dir}: building it from {corpus} ...", flush=True)
    started = time.perf_counter()

    def text() -> fields.TEXT:
        return fields.TEXT(analyzer=LanguageAnalyzer("fr"), stored=True)

    schema = fields.Schema(
        id=fields.ID(unique=True, stored=True), title=text(), lede=text(), body=text(),
        date=fields.DATETIME(stored=True, sortable=True),
        section=fields.ID(stored=True), source=fields.ID(stored=True))
    stock_dir.mkdir(parents=True, exist_ok=True)
    ix = index.create_in(str(stock_dir), schema)
    opener = gzip.open if corpus.suffix == ".gz" else open
    n = 0
    with opener(corpus, "rt", encoding="utf-8") as f, ix.writer(limitmb=256) as writer:
        for line in f:
            if not line.strip():
                continue
            a = json.loads(line)
            doc = {k: a[k] for k in ("title", "lede", "body", "section", "source") if a.get(k)}
            if a.get("date"):
                doc["date"] = datetime.strptime(a["date"][:10], "%Y-%m-%d")
            writer.add_document(id=str(a["id"]), **doc)
            n += 1
    print(f"  {n} articles in {time.perf_counter() - started:.0f} s", flush=True)
    return ix


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def newssearch_runner(svc: SearchService) -> Callable[[dict], int]:
    """Return a function that runs one logged request and returns its total."""

    def run(r: dict) -> int:
        request = SearchRequest(q=r["q"], sort=r.get("sort", "relevance"),
                                date_from=_day(r.get("from")), date_to=_day(r.get("to")),
                                section=r.get("section"), source=r.get("source"))
        return svc.search(request).total

    return run


def stock_runner(ix, shared: bool = False) -> Callable[[dict], int]:
    """Return a function that runs one logged request on stock Whoosh; returns its hits.

    The searcher is opened per request, as the Whoosh docs do, or once and kept (shared).
    """
    from whoosh import query, sorting
    from whoosh.qparser import MultifieldParser

    parser = MultifieldParser(["title", "body"], ix.schema)
    kept = ix.searcher() if shared else None

    def run(r: dict) -> int:
        text = _STOCK_OPERATORS.sub(" ", _STOCK_SYNTAX.sub(" ", r["q"]))
        q = parser.parse(text)
        filters = [query.Term(k, r[k]) for k in ("section", "source") if k in r]
        if "from" in r or "to" in r:
            start = datetime.combine(_day(r["from"]), datetime.min.time()) \
                if "from" in r else None
            end = datetime.combine(_day(r["to"]), datetime.max.time()) if "to" in r else None
            filters.append(query.DateRange("date", start, end))
        kwargs = {}
        if r.get("sort") == "date":
            kwargs["sortedby"] = sorting.FieldFacet("date", reverse=True)
        searcher = kept or ix.searcher()
        try:
            results = searcher.search(q, limit=10, filter=query.And(filters) if filters else None,
                                      **kwargs)
            for hit in results:
                hit.highlights("title")
                hit.highlights("body")
            return results.scored_length()
        finally:
            if kept is None:
                searcher.close()

    return run


def open_cost(open_searcher: Callable, times: int = 20) -> float:
    """Return the median milliseconds to open and close a searcher."""
    ms = []
    for _ in range(times):
        started = time.perf_counter()
        open_searcher().close()
        ms.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(ms), 2)


def time_pass(run: Callable[[dict], int], log: list[dict]) -> tuple[list[float], list[int]]:
    """Run the log once; return each request's milliseconds and totals."""
    times, totals = [], []
    for r in log:
        started = time.perf_counter()
        totals.append(run(r))
        times.append((time.perf_counter() - started) * 1000)
    return times, totals


def summary(ms: list[float], totals: list[int]) -> dict:
    cuts = statistics.quantiles(ms, n=100, method="inclusive")
    return {"p50_ms": round(cuts[49], 2), "p95_ms": round(cuts[94], 2),
            "p99_ms": round(cuts[98], 2), "mean_ms": round(statistics.fmean(ms), 2),
            "max_ms": round(max(ms), 2), "zero_hits": sum(t == 0 for t in totals)}


def kind(r: dict) -> str:
    if '"' in r["q"]:
        return "phrase"
    if any(k in r for k in ("section", "source", "from", "to")):
        return "filter"
    return "sort=date" if r.get("sort") == "date" else "words"


def print_table(results: dict[str, dict], by_kind: dict[str, dict[str, dict]]) -> dict:
    """Print the percentiles of each contender and newssearch's ratios to each baseline."""
    ns = results["newssearch"]
    cols = ("p50_ms", "p95_ms", "p99_ms", "mean_ms")
    ratios = {name: {k: round(ns[k] / s[k], 2) for k in cols}
              for name, s in results.items() if name != "newssearch"}
    head = (f"{'contender':<28} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'mean ms':>8} "
            f"{'max ms':>8} {'0 hits':>7}")
    print("\n" + head + "\n" + "-" * len(head))
    for name, s in results.items():
        print(f"{name:<28} {s['p50_ms']:>8.2f} {s['p95_ms']:>8.2f} {s['p99_ms']:>8.2f} "
              f"{s['mean_ms']:>8.2f} {s['max_ms']:>8.2f} {s['zero_hits']:>7}")
    for name, r in ratios.items():
        print(f"{'ratio ns/' + name:<28} " + " ".join(f"{r[k]:>7.2f}x" for k in cols))
    names = list(results)
    head = f"{'p50 / p95 ms':<12} {'n':>4} " + " ".join(f"{n:>21}" for n in names)
    print("\n" + head + "\n" + "-" * len(head))
    for k, s in by_kind.items():
        cells = " ".join(f"{s[n]['p50_ms']:>10.1f} {s[n]['p95_ms']:>10.1f}" for n in names)
        print(f"{k:<12} {s['n']:>4} {cells}")
    return ratios


def bench(args: argparse.Namespace, log: list[dict], svc: SearchService) -> None:
    stock_ix = open_stock_index(args.stock_index, args.corpus)
    runners = {"newssearch": newssearch_runner(svc), "stock-whoosh": stock_runner(stock_ix),
               "stock-whoosh-shared": stock_runner(stock_ix, shared=True)}
    print("warming up: generation caches, then one pass of the log each ...", flush=True)
    svc.warm_up()
    opening = {"newssearch": open_cost(svc.index.snapshot().generation.ix.searcher),
               "stock-whoosh": open_cost(stock_ix.searcher)}
    print("opening and closing a Whoosh searcher on each index (median of 20): "
          + ", ".join(f"{k} {v:.1f} ms" for k, v in opening.items()), flush=True)
    totals = {name: time_pass(run, log)[1] for name, run in runners.items()}
    passes: dict[str, list[list[float]]] = {name: [] for name in runners}
    for rep in range(args.repeat):
        order = list(runners) if rep % 2 == 0 else list(reversed(runners))
        for name in order:
            ms, _ = time_pass(runners[name], log)
            passes[name].append(ms)
            print(f"  repeat {rep + 1}/{args.repeat} {name:<20} "
                  f"{sum(ms) / 1000:6.1f} s for {len(log)} requests", flush=True)
    medians = {name: [statistics.median(t) for t in zip(*p, strict=True)]
               for name, p in passes.items()}
    results = {name: summary(medians[name], totals[name]) for name in runners}
    kinds = sorted({kind(r) for r in log})
    by_kind = {}
    for k in kinds:
        idx = [i for i, r in enumerate(log) if kind(r) == k]
        if len(idx) >= 2:
            by_kind[k] = {"n": len(idx), **{
                name: summary([medians[name][i] for i in idx], [totals[name][i] for i in idx])
                for name in runners}}
    ratios = print_table(results, by_kind)
    slowest = sorted(range(len(log)), key=lambda i: medians["newssearch"][i], reverse=True)[:8]
    print("\nslowest newssearch requests (ms, stock ms, stock shared ms, total):")
    for i in slowest:
        times = " ".join(f"{medians[name][i]:8.1f}" for name in runners)
        print(f"  {times} {totals['newssearch'][i]:>6}  {json.dumps(log[i], ensure_ascii=False)}")
    print(f"\nload average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("RESULT " + json.dumps({
        "index": str(args.index), "stock_index": str(args.stock_index), "log": str(args.log),
        "code": args.code, "requests": len(log), "repeat": args.repeat,
        "nproc": os.cpu_count(),
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(), "results": results,
        "ratios_newssearch_over_stock": ratios, "searcher_open_ms": opening,
        "by_kind": by_kind}))


def profile(args: argparse.Namespace, log: list[dict], svc: SearchService) -> None:
    run = newssearch_runner(svc)
    print("warming up: generation caches, then one pass of the log ...", flush=True)
    svc.warm_up()
    time_pass(run, log)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    time_pass(run, log)
    profiler.disable()
    seconds = time.perf_counter() - started
    print(f"\nprofiled one pass: {len(log)} requests in {seconds:.1f} s "
          f"({seconds * 1000 / len(log):.1f} ms per request under cProfile)")
    if args.profile_out:
        profiler.dump_stats(args.profile_out)
        print(f"raw profile written to {args.profile_out} (python -m pstats FILE)")
    stats = pstats.Stats(profiler).strip_dirs()
    print("\ntop 25 by cumulative time:")
    stats.sort_stats("cumulative").print_stats(25)
    print("top 15 by own time:")
    stats.sort_stats("tottime").print_stats(15)
    print("RESULT " + json.dumps({"mode": "profile", "index": str(args.index),
                                  "code": args.code, "requests": len(log),
                                  "seconds": round(seconds, 2)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=Path("/tmp/ixfull"))
    parser.add_argument("--stock-index", type=Path, default=Path("/tmp/ixstock"))
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--log", type=Path, default=DEFAULT_LOG)
    parser.add_argument("--repeat", type=int, default=3, help="timed passes of the log")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N requests")
    parser.add_argument("--profile", action="store_true",
                        help="run newssearch once under cProfile instead of timing")
    parser.add_argument("--profile-out", type=Path, help="with --profile: save the raw stats")
    args = parser.parse_args()
    print(machine_line())
    args.code = code_line()
    print(args.code)
    print("command: " + shlex.join([sys.executable, *sys.argv]))
    corpus = args.corpus.resolve()
    log = load_log(args.log, corpus)[: args.limit or None]
    print(f"log: {args.log} ({', '.join(f'{k} {n}' for k, n in sorted(describe(log).items()))})")
    ensure_index(args.index, corpus)
    svc = SearchService(args.index)
    print(f"index: {args.index} ({svc.info().documents} documents)", flush=True)
    if args.profile:
        profile(args, log, svc)
    else:
        bench(args, log, svc)


if __name__ == "__main__":
    main()
