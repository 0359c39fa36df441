"""Measure completions as you type: in the context of the word before, against frequency only.

Each prefix of a few typed queries (``gilets j``, ``reforme ret``, …) is completed by
SearchService.suggest (candidates ranked by co-occurrence with the word before, then
written as the articles write them) and by the frequency-only baseline it replaced
(the most frequent words with the prefix, their surface forms from the headlines).
Prints each one's median time and p95 over every prefix, and the first completion of
each query for both.

Run from the repo root:

    .venv/bin/python benchmarks/bench_suggest.py [--index DIR] [--corpus PATH] [--repeat R]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from common import ROOT, code_line, ensure_index, machine_line

from newssearch.analysis import terms
from newssearch.query.parse import parse
from newssearch.search import SearchService

TYPED = ["gilets jaunes", "reforme des retraites", "emmanuel macron", "coupe du monde",
         "etat d urgence sanitaire", "prix de l essence", "elysee", "kim jong-un"]


def by_frequency(service: SearchService, q: str, limit: int = 8) -> list[str]:
    """The completion before this change: frequency only, headline surface forms."""
    words = parse(q).text.split()
    prefix = terms(words[-1], stemmed=False) if words else []
    if len(prefix) != 1 or len(prefix[0]) < 2:
        return []
    snapshot = service.snapshot()
    head = " ".join(words[:-1])
    return [f"{head} {snapshot.surface_form(w, titles_only=True)}".strip()
            for w in snapshot.vocabulary().complete(prefix[0], limit)]


def prefixes(text: str) -> list[str]:
    """What the box holds while typing: from two letters of the first word on."""
    return [text[:n] for n in range(2, len(text) + 1) if not text[:n].endswith(" ")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=ROOT / "index-full")
    parser.add_argument("--corpus", type=Path,
                        default=ROOT.parent / "shared/corpus/orangesum-fr-news.jsonl.gz")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(machine_line())
    print(code_line())
    ensure_index(args.index, args.corpus)
    service = SearchService(args.index)
    service.warm_up()
    for name, complete in (("in context", service.suggest),
                           ("frequency only", lambda q: by_frequency(service, q))):
        times = []
        for text in TYPED:
            for q in prefixes(text):
                complete(q)  # postings and stored fields read once, as a server keeps them
                runs = []
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    complete(q)
                    runs.append((time.perf_counter() - started) * 1000)
                times.append(statistics.median(runs))
        times.sort()
        print(f"{name:15} {len(times)} prefixes: median {statistics.median(times):.1f} ms, "
              f"p95 {times[int(len(times) * 0.95)]:.1f} ms, max {times[-1]:.1f} ms")
    for text in TYPED:
        words = text.split()
        q = " ".join(words[:-1] + [words[-1][:1]]) if len(words) > 1 else text[:3]
        print(f"  {q!r:24} in context: {service.suggest(q)[:1]}  "
              f"frequency only: {by_frequency(service, q)[:1]}")


if __name__ == "__main__":
    main()
