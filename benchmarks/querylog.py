"""Generate a reproducible log of realistic search requests from the news corpus headlines.

Each request takes 1-4 content words from one headline (stop words skipped). About 40 % are
typed lowercase without accents, 10 % carry a typo (two neighbouring letters swapped or one
dropped, in a word of 6 letters or more), 10 % are a quoted 2-word phrase, 10 % have a filter
(section, source or from/to dates, taken from the same article so that it matches), 10 % ask
for sort=date, and some are hyphenated names (Jean-Luc, Saint-Denis...). The same seed and
corpus give the same log. The benchmarks call load_log(), which regenerates it if missing.

Run from the repo root:

    .venv/bin/python benchmarks/querylog.py [--corpus PATH] [--out FILE] [--count N] [--seed S]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import re
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

from unidecode import unidecode

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT / "../shared/corpus/orangesum-fr-news.jsonl.gz"
DEFAULT_LOG = Path(__file__).resolve().parent / "data" / "querylog.jsonl"
SEED = 20261127
KEYS = ("q", "section", "source", "from", "to", "sort")

# French function words and headline fillers that nobody types into a search box (folded).
STOP_WORDS = frozenset("""
a ai ainsi alors apres au aucun aussi autre autres aux avant avec avait bien c ca car ce
cela celle celui ces cet cette chez comme comment contre d dans de depuis des deux deja doit
donc dont du elle elles en encore entre est et etaient etait ete etre eu eux faire fait faut
il ils j je jusqu l la le les leur leurs lors lui m ma mais me meme mes moi moins mon n ne ni
non nos notre nous on ont ou par parce pas pendant peu peut plus pour pourquoi qu quand que
quel quelle quelles quels qui quoi s sa sans se selon ses si sont sous sur t ta te tes toi
ton tous tout toute toutes tres tu un une va veut vers veulent vont vos votre vous y
""".split())
ELISIONS = frozenset("c d j l m n qu s t jusqu lorsqu puisqu quoiqu".split())
PRONOUNS = frozenset("t il ils elle elles on je tu nous vous ce la ci".split())
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_NAME = re.compile(r"^[A-ZÀ-Ý][^\W\d_]*(?:-[^\W\d_]+)*-[A-ZÀ-Ý][^\W\d_]*$")


def fold(word: str) -> str:
    return unidecode(word).lower()


def read_headlines(corpus: Path) -> list[dict]:
    """Return title, section, source and date of every article, in file order."""
    opener = gzip.open if corpus.suffix == ".gz" else open
    rows = []
    with opener(corpus, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                a = json.loads(line)
                rows.append({k: a.get(k) for k in ("title", "section", "source", "date")})
    return rows


def words(title: str) -> list[tuple[int, str]]:
    """Return (position, word) of the headline's content words; elided articles dropped."""
    found = []
    for pos, m in enumerate(_WORD.finditer(title)):
        word = m.group()
        head, sep, _ = word.replace("’", "'").partition("'")
        if sep and fold(head) in ELISIONS:
            word = word[len(head) + 1:]
        parts = fold(word).split("-")
        if any(p in PRONOUNS for p in parts[1:]) or fold(word) in STOP_WORDS:
            continue
        if len(word) >= 3 or (word.isupper() and len(word) >= 2):
            found.append((pos, word))
    return found


def typo(word: str, rng: random.Random) -> str:
    """Swap two neighbouring letters or drop one (never the first)."""
    for _ in range(10):
        i = rng.randrange(1, len(word) - 1)
        if rng.random() < 0.5:
            wrong = word[:i] + word[i + 1] + word[i] + word[i + 2:]
        else:
            wrong = word[:i] + word[i + 1:]
        if wrong != word and wrong.isalpha():
            return wrong
    return word[:-1]


def shown(text: str, style: str) -> str:
    if style == "plain":
        return fold(text)
    return text.lower() if style == "lower" else text


def one_request(article: dict, rng: random.Random, names: list[dict]) -> dict | None:
    """Make one request from a headline, or None if it has no usable words."""
    roll = rng.random()
    if roll < 0.06:  # a hyphenated name, alone or with one more word
        article = rng.choice(names)
    found = words(article["title"] or "")
    if not found:
        return None
    picked: list[str]
    hyphenated = [w for _, w in found if _NAME.match(w)]
    if roll < 0.06 and hyphenated:
        name = rng.choice(hyphenated)
        others = [w for _, w in found if w != name]
        picked = [name] + ([rng.choice(others)] if others and rng.random() < 0.5 else [])
        phrase = None
    elif 0.06 <= roll < 0.16:  # a quoted 2-word phrase, adjacent in the headline
        pairs = [(a, b) for (i, a), (j, b) in zip(found, found[1:], strict=False) if j == i + 1]
        if not pairs:
            return None
        phrase = rng.choice(pairs)
        others = [w for _, w in found if w not in phrase]
        picked = [rng.choice(others)] if others and rng.random() < 0.3 else []
    else:
        k = min(len(found), rng.choices((1, 2, 3, 4), weights=(25, 40, 25, 10))[0])
        chosen = sorted(rng.sample(range(len(found)), k))
        picked = [found[i][1] for i in chosen]
        phrase = None
    style = rng.choices(("plain", "lower", "asis"), weights=(40, 30, 30))[0]
    picked = [shown(w, style) for w in picked]
    if rng.random() < 0.10:
        long = [i for i, w in enumerate(picked) if len(w) >= 6 and w.isalpha()]
        if long:
            i = rng.choice(long)
            picked[i] = typo(picked[i], rng)
    q = " ".join(picked)
    if phrase is not None:
        quoted = '"' + " ".join(shown(w, style) for w in phrase) + '"'
        q = f"{q} {quoted}".strip() if rng.random() < 0.5 else f"{quoted} {q}".strip()
    request = {"q": q}
    if rng.random() < 0.10:
        request.update(a_filter(article, rng))
    if rng.random() < 0.10:
        request["sort"] = "date"
    return request


def a_filter(article: dict, rng: random.Random) -> dict:
    """Return a section, source or date-range filter that the article itself passes."""
    kinds = [k for k in ("section", "source") if article.get(k)] + ["dates"] * 2
    kind = rng.choice(kinds)
    if kind != "dates":
        return {kind: article[kind]}
    day = date.fromisoformat(article["date"][:10])
    before, after = day - timedelta(rng.randint(0, 60)), day + timedelta(rng.randint(0, 60))
    bounds = rng.choice((("from", "to"), ("from",), ("to",)))
    return {b: (before if b == "from" else after).isoformat() for b in bounds}


def generate(corpus: Path, count: int = 500, seed: int = SEED) -> list[dict]:
    """Return ``count`` requests drawn from the corpus headlines with a fixed seed."""
    rng = random.Random(seed)
    headlines = read_headlines(corpus)
    names = [h for h in headlines if any(_NAME.match(w) for _, w in words(h["title"] or ""))]
    log: list[dict] = []
    while len(log) < count:
        request = one_request(rng.choice(headlines), rng, names)
        if request is not None:
            log.append(request)
    return log


def save(log: list[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(json.dumps({k: r[k] for k in KEYS if k in r}, ensure_ascii=False) + "\n"
                     for r in log)


def load_log(path: Path = DEFAULT_LOG, corpus: Path = DEFAULT_CORPUS) -> list[dict]:
    """Read the log, generating it from the corpus first if it is missing."""
    if not path.exists():
        print(f"query log {path} missing: generating it from {corpus.resolve()}", flush=True)
        save(generate(corpus), path)
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def url_path(request: dict) -> str:
    """Return the /api/search path and query string of a logged request."""
    return "/api/search?" + urlencode({k: request[k] for k in KEYS if k in request})


def describe(log: list[dict]) -> Counter[str]:
    """Count the log's requests by feature."""
    kinds: Counter[str] = Counter()
    for r in log:
        q = r["q"]
        kinds["total"] += 1
        kinds["phrase"] += '"' in q
        kinds["filter"] += any(k in r for k in ("section", "source", "from", "to"))
        kinds["sort=date"] += r.get("sort") == "date"
        kinds["ascii lowercase"] += q == fold(q)
        kinds["hyphenated"] += any(_NAME.match(w.strip('"')) or "-" in w for w in q.split())
        kinds[f"{len(q.replace(chr(34), '').split())} words"] += 1
    return kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--out", type=Path, default=DEFAULT_LOG)
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    print(f"nproc {os.cpu_count()}, Python {platform.python_version()}, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    log = generate(args.corpus, args.count, args.seed)
    save(log, args.out)
    print(f"wrote {len(log)} requests to {args.out}")
    print(", ".join(f"{k} {n}" for k, n in sorted(describe(log).items())))
    for r in log[:12]:
        print("  " + json.dumps(r, ensure_ascii=False))


if __name__ == "__main__":
    main()
