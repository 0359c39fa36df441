"""Relevance metrics worked out by hand, and `newssearch evaluate` end to end."""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner

from newssearch.cli import cli
from newssearch.evaluation import EvaluationInputError, evaluate, load_qrels, mrr, ndcg, recall

# Relevant: d1 (grade 2) and d3 (grade 1). Ranked: d2, d1, d4, d3.
RANKED = ["d2", "d1", "d4", "d3"]
JUDGED = {"d1": 2, "d3": 1}


def test_ndcg_by_hand():
    dcg = 2 / math.log2(3) + 1 / math.log2(5)  # d1 at rank 2, d3 at rank 4
    ideal = 2 / math.log2(2) + 1 / math.log2(3)
    assert ndcg(RANKED, JUDGED) == pytest.approx(dcg / ideal)
    assert ndcg(["d1", "d3"], JUDGED) == pytest.approx(1.0)
    assert ndcg(RANKED, JUDGED, k=1) == 0.0


def test_mrr_by_hand():
    assert mrr(RANKED, JUDGED) == 0.5
    assert mrr(["x"] * 10 + ["d1"], JUDGED) == 0.0  # beyond the top 10


def test_recall_by_hand():
    assert recall(RANKED, JUDGED) == 1.0
    assert recall(RANKED, JUDGED, k=2) == 0.5
    assert recall([], JUDGED) == 0.0


@pytest.mark.parametrize("text", [
    "query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td2\t2\n",
    "q1\td1\t1\nq1\td2\t2\n",
    "q1 0 d1 1\nq1 0 d2 2\n",
])
def test_qrels_formats(tmp_path, text):
    (tmp_path / "qrels").write_text(text)
    assert load_qrels(tmp_path / "qrels") == {"q1": {"d1": 1, "d2": 2}}


def test_bad_qrels_line_is_named(tmp_path):
    (tmp_path / "qrels").write_text("q1\td1\t1\nq2\td2\n")
    with pytest.raises(EvaluationInputError, match="qrels:2"):
        load_qrels(tmp_path / "qrels")


def test_evaluate_command_runs_the_service(tmp_path, index_dir):
    (tmp_path / "q.jsonl").write_text(
        json.dumps({"id": "a", "text": "eleves noel"}) + "\n"
        + json.dumps({"id": "b", "text": "porte-avions Toulon"}) + "\n"
        + json.dumps({"id": "c", "text": "sans jugement"}) + "\n")
    (tmp_path / "qrels.tsv").write_text(
        "query-id\tcorpus-id\tscore\na\tecole-noel\t1\nb\tkim-poutine\t1\n")
    result = CliRunner().invoke(cli, [
        "evaluate", str(tmp_path / "q.jsonl"), str(tmp_path / "qrels.tsv"),
        "--index", str(index_dir), "--run", str(tmp_path / "run.trec")],
        catch_exceptions=False)
    assert result.exit_code == 0, result.output
    # a: found first (1.0); b: the judged article does not match at all (0.0).
    assert "Queries:    2 (1 without judgements skipped)" in result.stdout
    assert "nDCG@10:    0.5000" in result.stdout and "MRR@10:     0.5000" in result.stdout
    assert "R@100:      0.5000" in result.stdout
    run = (tmp_path / "run.trec").read_text().splitlines()
    assert run[0].split()[:4] == ["a", "Q0", "ecole-noel", "1"]


def test_recall_counts_only_the_depth_ranked():
    ranked = [f"d{i}" for i in range(1, 21)]  # the judged article is 15th

    def search(text: str, limit: int) -> list[str]:
        return ranked

    qrels = {"q": {"d15": 1}}
    assert evaluate(search, [("q", "x")], qrels, k=10).recall == 0.0
    assert evaluate(search, [("q", "x")], qrels, k=20).recall == 1.0


def test_evaluate_names_recall_by_the_depth_it_ranked(tmp_path, index_dir):
    (tmp_path / "q.jsonl").write_text(json.dumps({"id": "a", "text": "eleves noel"}) + "\n")
    (tmp_path / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\na\tecole-noel\t1\n")
    result = CliRunner().invoke(cli, [
        "evaluate", str(tmp_path / "q.jsonl"), str(tmp_path / "qrels.tsv"),
        "--index", str(index_dir), "--k", "10"], catch_exceptions=False)
    assert "R@10:       1.0000" in result.stdout
    assert "@100" not in result.stdout
