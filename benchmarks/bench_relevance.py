"""Compare newssearch's ranking with BM25 peers on French judged sets: nDCG@10, MRR@10, R@100.

Sets (BEIR layout, under ../shared and benchmarks/data):

- piaf         questions -> Wikipedia paragraphs (761 docs, 3,835 queries)
- news-ledes   an article's lede -> that article, over the news corpus without its ledes
- news-short   2-4 headline words as readers type them (lowercase, no accents) -> that article,
               over the full news corpus; generated with a fixed seed into
               benchmarks/data/news-short/ when missing

Engines, each indexing the same documents and answering the same queries, top 100:

- newssearch    indexer.rebuild(), then SearchService.search() as `newssearch evaluate` does
- stock-whoosh  LanguageAnalyzer("fr") on title and body, BM25F, OR of the query's words
- sqlite-fts5   unicode61 remove_diacritics 2, bm25(), OR of the query's tokens
- bm25s         Unidecode folding, French stop words and Snowball stemmer, default BM25

Peers index the lede (where kept) as part of the body. Run from the repo root:

    .venv/bin/pip install -r benchmarks/requirements.txt
    .venv/bin/python benchmarks/bench_relevance.py [--sets piaf,news-ledes,news-short]
        [--engines newssearch,stock-whoosh,sqlite-fts5,bm25s] [--limit-queries N]
        [--out DIR [--reuse]]
"""

import argparse
import gzip
import json
import random
import re
import shutil
import sqlite3
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from unidecode import unidecode

from newssearch.evaluation import evaluate, load_qrels, load_queries

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT / "../shared"
NEWS = SHARED / "corpus/orangesum-fr-news.jsonl.gz"
SHORT_DIR = ROOT / "benchmarks/data/news-short"
SETS = ("piaf", "news-ledes", "news-short")
ENGINES = ("newssearch", "stock-whoosh", "sqlite-fts5", "bm25s")
SHORT_SEED, SHORT_COUNT = 20231113, 500
# Function words of headlines that Snowball's French list lacks.
HEADLINE_STOPS = set("""après avant avec contre plus moins selon sans sous entre vers chez comme
    cette cet ces tous tout toute toutes très aussi encore déjà dont quand où non oui bien fait
    faire veut peut doit être avoir leurs quoi pourquoi comment rien quel quelle quels quelles
    alors depuis pendant ceux celle celui les ils elles lors ainsi""".split())

Doc = dict[str, str]  # id, title, lede, body
Search = Callable[[str, int], list[str]]


def read_jsonl(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def peer_body(doc: Doc) -> str:
    return f"{doc['lede']}\n\n{doc['body']}" if doc["lede"] else doc["body"]


def make_news_short(articles: list[dict]) -> None:
    """Write 500 seeded headline-word queries, each judged on its own article."""
    from whoosh.lang import stopwords_for_language

    rng = random.Random(SHORT_SEED)
    stops = {unidecode(w) for w in stopwords_for_language("fr") | HEADLINE_STOPS}
    rows = []
    for i in rng.sample(range(len(articles)), len(articles)):
        title = unidecode(articles[i]["title"]).lower()
        words = list(dict.fromkeys(w for w in re.findall(r"[^\W\d_]+", title)
                                   if len(w) >= 3 and w not in stops))
        if len(words) < 2:
            continue
        picked = sorted(rng.sample(range(len(words)), min(rng.randint(2, 4), len(words))))
        doc_id = articles[i]["id"]
        rows.append((f"q-short-{doc_id}", " ".join(words[j] for j in picked), doc_id))
        if len(rows) == SHORT_COUNT:
            break
    SHORT_DIR.mkdir(parents=True, exist_ok=True)
    with open(SHORT_DIR / "queries.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps({"id": q, "text": t}, ensure_ascii=False) + "\n"
                     for q, t, _ in rows)
    with open(SHORT_DIR / "qrels.tsv", "w", encoding="utf-8") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        f.writelines(f"{q}\t{d}\t1\n" for q, _, d in rows)


def load_set(name: str, news: list[dict], limit: int | None):
    """Return the documents, judged queries and qrels of a set."""
    if name == "piaf":
        base = SHARED / "eval/piaf"
        docs = [{"id": r["id"], "title": r["title"], "lede": "", "body": r["text"]}
                for r in read_jsonl(base / "corpus.jsonl")]
    else:
        keep_lede = name == "news-short"
        docs = [{"id": r["id"], "title": r["title"] or "", "body": r["body"] or "",
                 "lede": (r["lede"] or "") if keep_lede else ""} for r in news]
        base = SHORT_DIR if keep_lede else SHARED / "eval/news-ledes"
        if keep_lede and not (base / "qrels.tsv").exists():
            make_news_short(news)
    qrels = load_qrels(base / "qrels.tsv")
    queries = [q for q in load_queries(base / "queries.jsonl") if q[0] in qrels]
    return docs, queries[:limit], qrels


def run_newssearch(docs: list[Doc], work: Path, reuse: bool) -> Search:
    from newssearch import indexer, store
    from newssearch.records import SearchRequest
    from newssearch.search import SearchService

    index_dir, service = work / "index", SearchService(work / "index")
    try:
        if not reuse:
            raise store.IndexUnavailable("not reusing")
        service.snapshot()
    except store.IndexUnavailable:  # also an index of an older schema: build it again
        source = work / "corpus.jsonl"
        with open(source, "w", encoding="utf-8") as f:
            f.writelines(json.dumps({k: v for k, v in d.items() if v}, ensure_ascii=False)
                         + "\n" for d in docs)
        indexer.rebuild([source], index_dir)
        service.snapshot()

    def search(text: str, k: int) -> list[str]:
        request = SearchRequest(q=text, per_page=k, collapse=False, highlight=False,
                                facets=False)
        return [hit.id for hit in service.search(request).hits]

    return search


def run_stock_whoosh(docs: list[Doc], work: Path, reuse: bool) -> Search:
    from whoosh import fields, index, qparser
    from whoosh.analysis import LanguageAnalyzer

    analyzer = LanguageAnalyzer("fr")
    schema = fields.Schema(id=fields.ID(stored=True), title=fields.TEXT(analyzer=analyzer),
                           body=fields.TEXT(analyzer=analyzer))
    ix = index.create_in(str(work), schema)
    with ix.writer(limitmb=256) as writer:
        for d in docs:
            writer.add_document(id=d["id"], title=d["title"], body=peer_body(d))
    searcher = ix.searcher()
    parser = qparser.MultifieldParser(["title", "body"], schema, group=qparser.OrGroup)

    def search(text: str, k: int) -> list[str]:
        # Words only, lowercased: no query syntax (fields, wildcards, AND/OR/NOT) can remain.
        query = parser.parse(re.sub(r"\W+", " ", text).lower())
        return [hit["id"] for hit in searcher.search(query, limit=k)]

    return search


def run_sqlite_fts5(docs: list[Doc], work: Path, reuse: bool) -> Search:
    db = sqlite3.connect(work / "fts5.db")
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, body, "
               "tokenize = 'unicode61 remove_diacritics 2')")
    with db:
        db.executemany("INSERT INTO docs VALUES (?, ?, ?)",
                       ((d["id"], d["title"], peer_body(d)) for d in docs))

    def search(text: str, k: int) -> list[str]:
        tokens = dict.fromkeys(re.findall(r"\w+", text.lower()))
        if not tokens:
            return []
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in tokens)
        sql = "SELECT id FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ?"
        return [row[0] for row in db.execute(sql, (match, k))]

    return search


def run_bm25s(docs: list[Doc], work: Path, reuse: bool) -> Search:
    import bm25s
    import Stemmer
    from bm25s.stopwords import STOPWORDS_FRENCH
    from bm25s.tokenization import Tokenizer

    stops = sorted(set(STOPWORDS_FRENCH) | {unidecode(w) for w in STOPWORDS_FRENCH})
    tokenizer = Tokenizer(lower=True, stopwords=stops, stemmer=Stemmer.Stemmer("french"))
    texts = [unidecode(f"{d['title']}\n{peer_body(d)}") for d in docs]
    retriever = bm25s.BM25()
    retriever.index(tokenizer.tokenize(texts, return_as="ids", show_progress=False),
                    show_progress=False)
    ids = [d["id"] for d in docs]

    def search(text: str, k: int) -> list[str]:
        tokens = tokenizer.tokenize([unidecode(text)], update_vocab=False, return_as="ids",
                                    show_progress=False)
        if not tokens[0]:
            return []
        found, scores = retriever.retrieve(tokens, k=min(k, len(ids)), show_progress=False,
                                           n_threads=1)
        return [ids[i] for i, s in zip(found[0], scores[0], strict=True) if s > 0]

    return search


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


RUNNERS = {"newssearch": run_newssearch, "stock-whoosh": run_stock_whoosh,
           "sqlite-fts5": run_sqlite_fts5, "bm25s": run_bm25s}


def measure(engine: str, docs: list[Doc], queries, qrels, work: Path, reuse: bool) -> dict:
    """Index, run every query and return the mean metrics and timings."""
    if engine != "newssearch" or not reuse:
        shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    search = RUNNERS[engine](docs, work, reuse)
    indexed = time.perf_counter() - started
    log(f"  {engine}: indexed {len(docs)} docs in {indexed:.1f} s")
    empty: list[str] = []
    errors: list[str] = []

    def counted(text: str, k: int) -> list[str]:
        try:
            ids = search(text, k)
        except Exception as e:  # a crash fails that query; it must not end a long run
            log(traceback.format_exc() if not errors else "")
            errors.append(f"{type(e).__name__}: {e} on {text!r}")
            return []
        empty.extend([] if ids else [text])
        return ids

    def progress(done: int, total: int) -> None:
        if done % max(1, total // 10) == 0 or done == total:
            log(f"  {engine}: {done}/{total} queries, {time.perf_counter() - started:.0f} s")

    started = time.perf_counter()
    report = evaluate(counted, queries, qrels, k=100, progress=progress)
    result = {"ndcg10": report.ndcg10, "mrr10": report.mrr10, "recall100": report.recall,
              "queries": report.queries, "empty": len(empty), "empty_examples": empty[:5],
              "errors": len(errors), "error_examples": errors[:5],
              "index_s": indexed, "query_s": time.perf_counter() - started}
    log(f"  {engine}: {json.dumps(result, ensure_ascii=False)}")
    return result


def verdict(results: dict[str, dict]) -> dict:
    """Name the best peer (by nDCG@10) and say whether newssearch beats every peer."""
    peers = {e: r for e, r in results.items() if e != "newssearch"}
    out: dict = {"best_peer": max(peers, key=lambda e: peers[e]["ndcg10"])} if peers else {}
    if peers and "newssearch" in results:
        for key in ("ndcg10", "mrr10"):
            out[f"ahead_{key}"] = results["newssearch"][key] > max(r[key] for r in peers.values())
    return out


def print_set(name: str, results: dict[str, dict], judgement: dict) -> None:
    print(f"\n## {name}\n")
    print(f"{'engine':<14}{'nDCG@10':>9}{'MRR@10':>9}{'R@100':>8}{'queries':>9}{'empty':>7}"
          f"{'errors':>8}{'index s':>10}{'query s':>10}")
    for engine, r in results.items():
        mark = "*" if engine == judgement.get("best_peer") else " "
        print(f"{engine + mark:<14}{r['ndcg10']:>9.4f}{r['mrr10']:>9.4f}{r['recall100']:>8.4f}"
              f"{r['queries']:>9}{r['empty']:>7}{r['errors']:>8}{r['index_s']:>10.1f}"
              f"{r['query_s']:>10.1f}")
    for engine, r in results.items():
        if r["empty"]:
            print(f"{engine} found nothing for {r['empty']} queries, e.g. {r['empty_examples']}")
        if r["errors"]:
            print(f"{engine} failed on {r['errors']} queries, e.g. {r['error_examples']}")
    if "ahead_ndcg10" in judgement:
        yes = {True: "ahead of", False: "NOT ahead of"}
        print(f"(* best peer) newssearch is {yes[judgement['ahead_ndcg10']]} every peer on "
              f"nDCG@10, {yes[judgement['ahead_mrr10']]} every peer on MRR@10")


def print_summary(table: dict[str, dict[str, dict]], verdicts: dict[str, dict]) -> None:
    print("\n## Summary: nDCG@10, MRR@10, R@100 (* best peer by nDCG@10)\n")
    print(f"{'':<14}" + "".join(f" | {s:^21}" for s in table))
    print(f"{'engine':<14}" + f" | {'nDCG':<7} {'MRR':<6} {'R@100':<6}" * len(table))
    for engine in dict.fromkeys(e for results in table.values() for e in results):
        cells = ""
        for name, results in table.items():
            r, mark = results[engine], "*" if verdicts[name].get("best_peer") == engine else " "
            cells += f" | {r['ndcg10']:.4f}{mark} {r['mrr10']:.4f} {r['recall100']:.4f}"
        print(f"{engine:<14}{cells}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--limit-queries", type=int, default=None, metavar="N")
    parser.add_argument("--out", type=Path, help="keep the indexes here (default: a temp dir)")
    parser.add_argument("--reuse", action="store_true", help="reuse newssearch indexes in --out")
    args = parser.parse_args()
    sets, engines = (list(dict.fromkeys(x.split(","))) for x in (args.sets, args.engines))
    unknown = [x for x in sets if x not in SETS] + [x for x in engines if x not in ENGINES]
    if unknown:
        parser.error(f"unknown set or engine: {', '.join(unknown)}")
    if "bm25s" in engines:
        try:
            import bm25s  # noqa: F401
        except ImportError:
            sys.exit("bm25s is missing: .venv/bin/pip install -r benchmarks/requirements.txt "
                     "(or drop it with --engines)")
    out = args.out or Path(tempfile.mkdtemp(prefix="bench_relevance-"))
    started = time.perf_counter()
    news = read_jsonl(NEWS) if any(s.startswith("news") for s in sets) else []
    table: dict[str, dict[str, dict]] = {}
    verdicts: dict[str, dict] = {}
    try:
        for name in sets:
            docs, queries, qrels = load_set(name, news, args.limit_queries)
            log(f"{name}: {len(docs)} docs, {len(queries)} queries")
            table[name] = {e: measure(e, docs, queries, qrels, out / name / e, args.reuse)
                           for e in engines}
            verdicts[name] = verdict(table[name])
            print_set(name, table[name], verdicts[name])
    finally:
        if args.out is None:
            shutil.rmtree(out, ignore_errors=True)
    print_summary(table, verdicts)
    seconds = time.perf_counter() - started
    print(f"\nTotal {seconds:.0f} s")
    from newssearch import __version__, schema

    print("RESULT " + json.dumps({"sets": table, "verdicts": verdicts, "seconds": round(seconds),
                                  "limit_queries": args.limit_queries, "newssearch": __version__,
                                  "schema_version": schema.SCHEMA_VERSION}, ensure_ascii=False))


if __name__ == "__main__":
    main()
