"""Choose the demo sample seeds/orangesum-sample.jsonl from the OrangeSum news corpus.

Stratified by (section, year): every bucket gets at least MINIMUM articles (or all it has),
the rest of TARGET is shared in proportion to bucket size. The choice is seeded, so the
same corpus always gives the same sample.

Example:
    .venv/bin/python benchmarks/make_seeds.py
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "orangesum-fr-news.jsonl.gz"
OUTPUT = ROOT / "seeds" / "orangesum-sample.jsonl"
FIELDS = ("id", "title", "lede", "body", "date", "published_time", "url", "section",
          "subsection", "source", "tags")
TARGET = 1000
MINIMUM = 3
SEED = 20230913


def read_corpus(path: Path) -> list[dict]:
    """Return the corpus records, keeping only the fields the sample ships."""
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return [{name: record.get(name) for name in FIELDS}
                for record in map(json.loads, lines)]


def bucket_of(record: dict) -> tuple[str, str]:
    return record["section"] or "", (record["date"] or "")[:4]


def quotas(sizes: dict[tuple[str, str], int], target: int,
           minimum: int) -> dict[tuple[str, str], int]:
    """Share target among buckets: a minimum each, the rest by largest remainder."""
    target = min(target, sum(sizes.values()))
    shares = {key: min(size, minimum) for key, size in sizes.items()}
    room = {key: size - shares[key] for key, size in sizes.items()}
    spare = target - sum(shares.values())
    exact = {key: spare * left / sum(room.values()) for key, left in room.items()}
    shares = {key: shares[key] + int(exact[key]) for key in shares}
    by_remainder = sorted(exact, key=lambda key: (int(exact[key]) - exact[key], key))
    for key in by_remainder[: target - sum(shares.values())]:
        shares[key] += 1
    return shares


def choose(records: list[dict], target: int, minimum: int, seed: int) -> list[dict]:
    """Return a stratified sample of records, in corpus order."""
    buckets: dict[tuple[str, str], list[int]] = defaultdict(list)
    for position, record in enumerate(records):
        buckets[bucket_of(record)].append(position)
    rng = random.Random(seed)
    shares = quotas({key: len(found) for key, found in buckets.items()}, target, minimum)
    chosen = [position for key in sorted(buckets)
              for position in rng.sample(buckets[key], shares[key])]
    return [records[position] for position in sorted(chosen)]


def summary(sample: list[dict]) -> str:
    sections = Counter(record["section"] for record in sample)
    years = Counter((record["date"] or "")[:4] for record in sample)
    titles = Counter(record["title"] for record in sample)
    repeated = sum(count for count in titles.values() if count > 1)
    lines = [f"{len(sample)} articles", "by section:"]
    lines += [f"  {name:<10} {count:>5}" for name, count in sorted(sections.items())]
    lines += ["by year:"] + [f"  {name:<10} {count:>5}" for name, count in sorted(years.items())]
    lines.append(f"articles sharing their exact title with another: {repeated}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--target", type=int, default=TARGET)
    args = parser.parse_args()
    sample = choose(read_corpus(args.corpus), args.target, MINIMUM, SEED)
    with open(args.output, "w", encoding="utf-8", newline="\n") as out:
        for record in sample:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote {args.output}")
    print(summary(sample))


if __name__ == "__main__":
    main()
