"""Measure `newssearch index --update` after N changed articles of the full news corpus.

The full index is built once from a copy of the corpus in a working directory; each
run copies that index, writes the file it was built from as it is or with N articles
edited (an update takes its authority from the file an article came from, so the edits
must be in that same file), then runs the real CLI as a user would, in a subprocess,
timed end to end:

- baseline: `--update` with the corpus unchanged (reading and comparing every article,
  writing nothing), the fixed cost of any update;
- changed: `--update` with N articles' bodies changed (new text appended), which deletes
  their old copies and writes a new segment.

Afterwards a search for the appended text must find exactly the N changed articles.
Runs alternate the two; medians of --repeat runs and the ratio are printed. Run from the
repo root:

    .venv/bin/python benchmarks/bench_update.py [--corpus PATH] [--changed N] [--repeat R]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import code_line, machine_line
from querylog import DEFAULT_CORPUS

from newssearch import indexer
from newssearch.records import SearchRequest
from newssearch.search import SearchService

ROOT = Path(__file__).resolve().parent.parent
MARKER = "Zorglubium"  # a word in no article: the appended text is findable by it


def write_corpora(corpus: Path, work: Path, changed: int) -> tuple[Path, Path, set[str]]:
    """Write the corpus as it is and with ``changed`` articles edited, one file each."""
    with gzip.open(corpus, "rt", encoding="utf-8") as f:
        lines = f.read().splitlines()
    rng = random.Random(20261127)
    picked = set(rng.sample(range(len(lines)), changed))
    same, edited = work / "same", work / "edited"
    same.mkdir()
    edited.mkdir()
    (same / "news.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ids = set()
    with open(edited / "news.jsonl", "w", encoding="utf-8") as out:
        for i, line in enumerate(lines):
            if i in picked:
                record = json.loads(line)
                record["body"] = f"{record.get('body', '')}\n\nMise à jour : {MARKER} {i}."
                ids.add(str(record["id"]))
                line = json.dumps(record, ensure_ascii=False)
            out.write(line + "\n")
    return same, edited, ids


def run_update(index: Path, source: Path) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "newssearch", "index", "--update",
                           "--index", str(index), str(source)],
                          capture_output=True, text=True, check=True)
    return time.perf_counter() - started, done.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--changed", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(machine_line())
    print(code_line())
    work = Path(tempfile.mkdtemp(prefix="bench_update-"))
    times: dict[str, list[float]] = {"baseline (nothing changed)": [],
                                     f"{args.changed} articles changed": []}
    try:
        same, edited, ids = write_corpora(args.corpus, work, args.changed)
        source, built = work / "src" / "news.jsonl", work / "index"
        source.parent.mkdir()
        shutil.copy(same / "news.jsonl", source)
        indexer.rebuild([source], built)
        for n in range(args.repeat):
            runs = list(zip(times, (same, edited), strict=True))
            for name, content in runs if n % 2 == 0 else runs[::-1]:
                copy = work / f"index-{n}-{content.name}"
                shutil.copytree(built, copy, symlinks=True)
                shutil.copy(content / "news.jsonl", source)
                seconds, said = run_update(copy, source)
                times[name].append(seconds)
                print(f"  run {n + 1} {name}: {seconds:.2f} s ({said})", flush=True)
                if content is edited:
                    page = SearchService(copy).search(SearchRequest(
                        q=MARKER, per_page=100, collapse=False, highlight=False, facets=False))
                    found = {h.id for h in page.hits}
                    if found != ids or not re.search(rf"{args.changed} changed", said):
                        sys.exit(f"the update is wrong: {said}; found {len(found)} of "
                                 f"{len(ids)} changed articles")
                shutil.rmtree(copy)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base = statistics.median(next(iter(times.values())))
    print(f"\n{'update':<30}{'median s':>10}{'runs':>30}{'vs baseline':>13}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<30}{median:>10.2f}{' '.join(f'{v:.2f}' for v in values):>30}"
              f"{median / base:>12.2f}x")


if __name__ == "__main__":
    main()
