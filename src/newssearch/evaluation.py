"""Relevance measured on judged queries: nDCG@10, MRR@10 and recall at the depth ranked."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

Qrels = dict[str, dict[str, int]]


class EvaluationInputError(ValueError):
    """A queries or qrels file cannot be read; the message names the file and line."""


def load_queries(path: Path) -> list[tuple[str, str]]:
    """Read ``{"id", "text"}`` lines (BEIR queries.jsonl)."""
    queries = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                queries.append((str(record["id"]), str(record["text"])))
            except (ValueError, KeyError, TypeError) as e:
                raise EvaluationInputError(f"{path}:{n}: not a {{\"id\", \"text\"}} line "
                                           f"({e})") from e
    return queries


def load_qrels(path: Path) -> Qrels:
    """Read judgements: ``query-id corpus-id score`` (BEIR, header optional) or TREC's 4 columns."""
    qrels: Qrels = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            cols = line.split()
            if not cols:
                continue
            if len(cols) == 4:
                cols = [cols[0], cols[2], cols[3]]
            if len(cols) != 3:
                raise EvaluationInputError(f"{path}:{n}: expected 3 or 4 columns")
            try:
                score = int(float(cols[2]))
            except ValueError:
                if n == 1:
                    continue  # a header line
                raise EvaluationInputError(f"{path}:{n}: score {cols[2]!r} is not a number")\
                    from None
            qrels.setdefault(cols[0], {})[cols[1]] = score
    return qrels


def ndcg(ranked: Sequence[str], relevant: dict[str, int], k: int = 10) -> float:
    """Normalised discounted cumulative gain of the top k, with graded relevance."""
    dcg = sum(relevant.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]))
    ideal = sorted((g for g in relevant.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def mrr(ranked: Sequence[str], relevant: dict[str, int], k: int = 10) -> float:
    """Reciprocal rank of the first relevant document in the top k."""
    for i, doc in enumerate(ranked[:k]):
        if relevant.get(doc, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def recall(ranked: Sequence[str], relevant: dict[str, int], k: int = 100) -> float:
    """Share of the relevant documents found in the top k."""
    wanted = {d for d, g in relevant.items() if g > 0}
    return len(wanted.intersection(ranked[:k])) / len(wanted) if wanted else 0.0


@dataclass(frozen=True)
class EvalReport:
    """Mean metrics over the judged queries."""

    ndcg10: float
    mrr10: float
    recall: float  # at the depth ranked, k
    queries: int
    unjudged: int
    k: int = 100


def evaluate(search: Callable[[str, int], list[str]], queries: list[tuple[str, str]],
             qrels: Qrels, k: int = 100, run_path: Path | None = None,
             progress: Callable[[int, int], None] | None = None,
             run_name: str = "newssearch") -> EvalReport:
    """Run each judged query through ``search(text, k) -> ids`` and average the metrics."""
    judged = [(qid, text) for qid, text in queries if qid in qrels]
    totals = [0.0, 0.0, 0.0]
    run = open(run_path, "w", encoding="utf-8") if run_path else None
    try:
        for n, (qid, text) in enumerate(judged, 1):
            ranked = search(text, k)
            rel = qrels[qid]
            totals[0] += ndcg(ranked, rel)
            totals[1] += mrr(ranked, rel)
            totals[2] += recall(ranked, rel, k)
            if run is not None:
                for rank, doc in enumerate(ranked, 1):
                    run.write(f"{qid} Q0 {doc} {rank} {k - rank + 1} {run_name}\n")
            if progress is not None:
                progress(n, len(judged))
    finally:
        if run is not None:
            run.close()
    count = len(judged) or 1
    return EvalReport(totals[0] / count, totals[1] / count, totals[2] / count, len(judged),
                      len(queries) - len(judged), k)
