"""Measure `newssearch index --update` after N changed articles, against nothing changed.

By default the full news corpus is written to one JSON lines file in a working
directory and indexed once. With --index and --source, an index already built
from a JSON lines file is used instead (bench_scale.py leaves them in its work
directory: `--index WORK/newssearch-10x --source WORK/corpus-10x.jsonl`); that file
is swapped for the edited one during a run and always put back.

The index is first copied and updated once with nothing changed: an index built
before the ledger existed gets one then (that first update reads everything; its
time is printed). Each run then copies that index (hard links) and runs the real CLI
in a subprocess, timed end to end:

- untouched: `--update` with the file as it was: its size, times and inode tell
  it has not changed, so it is not read;
- same bytes: the file rewritten with the same content (new inode and times): every
  line is hashed against the ledger, none parsed;
- changed: the file with N articles' bodies changed (new text appended): those N
  lines are parsed, their old copies deleted and a new segment written;
- new file: N new articles in a file of their own, given alone (`index today.jsonl
  --update`, as the README shows): the archive's file is not read at all.

Afterwards a search for the appended text must find exactly the N changed (or new)
articles.
The untouched runs come first (any swap of the file changes its times); the other two
alternate. Medians of --repeat runs and the ratios are printed. Run from the repo root:

    .venv/bin/python benchmarks/bench_update.py [--changed N] [--repeat R]
        [--corpus PATH | --index DIR --source FILE]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
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

MARKER = "Zorglubium"  # a word in no article: the appended text is findable by it


def write_edited(lines: list[bytes], out: Path, changed: int) -> set[str]:
    """Write the lines with ``changed`` of them edited; return the edited articles' ids."""
    rng = random.Random(20261127)
    picked = set(rng.sample([i for i, line in enumerate(lines) if line.strip()], changed))
    ids = set()
    with open(out, "wb") as f:
        for i, line in enumerate(lines):
            if i in picked:
                record = json.loads(line)
                record["body"] = f"{record.get('body', '')}\n\nMise à jour : {MARKER} {i}."
                ids.add(str(record["id"]))
                line = json.dumps(record, ensure_ascii=False).encode("utf-8")
            f.write(line + b"\n")
    return ids


def write_new(lines: list[bytes], out: Path, count: int) -> set[str]:
    """Write ``count`` new articles (copies of the first ones under new ids) to a file."""
    ids = set()
    with open(out, "wb") as f:
        for n, line in enumerate(line for line in lines if line.strip()):
            if n == count:
                break
            record = json.loads(line)
            record["id"] = f"nouveau-{n}"
            record["body"] = f"{record.get('body', '')}\n\nNouveau : {MARKER}."
            ids.add(record["id"])
            f.write(json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n")
    return ids


def run_update(index: Path, source: Path) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "newssearch", "index", "--update",
                           "--index", str(index), str(source)],
                          capture_output=True, text=True, check=True)
    return time.perf_counter() - started, done.stdout.strip().splitlines()[-1]


def copy_index(index: Path, to: Path) -> None:
    subprocess.run(["cp", "-al", str(index), str(to)], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--index", type=Path, help="an index built from --source")
    parser.add_argument("--source", type=Path, help="the JSON lines file --index was built from")
    parser.add_argument("--changed", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if (args.index is None) != (args.source is None):
        parser.error("--index and --source go together")
    print(machine_line())
    print(code_line())
    work = Path(tempfile.mkdtemp(prefix="bench_update-", dir=args.index.parent
                                 if args.index else None))
    names = ("untouched", "same bytes", f"{args.changed} changed", f"{args.changed} new, own file")
    times: dict[str, list[float]] = {n: [] for n in names}
    try:
        if args.source is None:
            source = work / "src" / "news.jsonl"
            source.parent.mkdir()
            with gzip.open(args.corpus, "rb") as f:
                source.write_bytes(f.read())
            built = work / "built"
            indexer.rebuild([source], built)
        else:
            source, built = args.source.resolve(), args.index
        lines = source.read_bytes().splitlines()
        same, edited = work / "same.jsonl", work / "edited.jsonl"
        shutil.copy(source, same)
        ids = write_edited(lines, edited, args.changed)
        fresh = work / "today.jsonl"
        new_ids = write_new(lines, fresh, args.changed)
        del lines
        # Linking a file changes its times: the link that keeps the original (put back
        # after each run) comes first, and the ledger is written more than the racy
        # window (two seconds) later, so that untouched means untouched.
        original = work / "original.jsonl"
        os.link(source, original)
        try:
            time.sleep(2.5)
            primed = work / "primed"
            copy_index(built, primed)
            seconds, said = run_update(primed, source)
            print(f"  first update of the index (writes its ledger if it has none): "
                  f"{seconds:.2f} s ({said})", flush=True)
            runs = [(names[0], None)] * args.repeat  # before any swap changes the file's times
            for n in range(args.repeat):
                trio = [(names[1], same), (names[2], edited), (names[3], fresh)]
                runs += trio if n % 2 == 0 else trio[::-1]
            for name, content in runs:
                copy = work / f"index-{len(times[name])}"
                copy_index(primed, copy)
                swapped = content is not None and content is not fresh
                if swapped:
                    shutil.copy(content, work / "next.jsonl")
                    os.replace(work / "next.jsonl", source)
                try:
                    seconds, said = run_update(copy, fresh if content is fresh else source)
                finally:
                    if swapped:
                        os.link(original, work / "back.jsonl")
                        os.replace(work / "back.jsonl", source)
                times[name].append(seconds)
                print(f"  {name} {len(times[name])}: {seconds:.2f} s ({said})", flush=True)
                if content is edited or content is fresh:
                    page = SearchService(copy).search(SearchRequest(
                        q=MARKER, per_page=100, collapse=False, highlight=False, facets=False))
                    found = {h.id for h in page.hits}
                    want, said_what = ((ids, "changed") if content is edited
                                       else (new_ids, "added"))
                    if found != want or not re.search(rf"{args.changed} {said_what}", said):
                        sys.exit(f"the update is wrong: {said}; found {len(found)} of "
                                 f"{len(want)} articles")
                shutil.rmtree(copy)
        finally:
            original.unlink()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base = statistics.median(times[names[0]])
    print(f"\n{'update':<20}{'median s':>10}{'runs':>30}{'vs untouched':>14}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<20}{median:>10.2f}{' '.join(f'{v:.2f}' for v in values):>30}"
              f"{median / base:>13.2f}x")


if __name__ == "__main__":
    main()
