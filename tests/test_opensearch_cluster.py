"""A cluster index's lifecycle over the wire, through opensearch-py, against osmem-server.

osmem is bleve underneath: these tests use its built-in ``french`` analyzer and
assert shapes and counts only (indexes, aliases, documents, reports), never
tokens, scores or ranking.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from newssearch import store
from newssearch.articles import Article
from newssearch.indexer import PUSHED, BuildError
from newssearch.opensearch import aliases, bulk, cluster, connection
from newssearch.opensearch import status as cluster_status
from newssearch.schema import SCHEMA_VERSION


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return path


@pytest.fixture
def location(osmem_clone):
    """The alias ``news`` on a fresh osmem clone, with the built-in French analyzer."""
    return connection.parse(f"opensearch+{osmem_clone.url}/news?analysis=builtin")


@pytest.fixture
def os_client(location):
    """An opensearch-py client of the clone, to look at what the commands did."""
    return connection.client(location)


def ids_in(client, index: str) -> set[str]:
    return {d["id"] for d in aliases.scan(client, index, ["id"])}


def test_a_rebuild_loads_a_new_index_and_points_the_alias_at_it(location, os_client,
                                                                 corpus_dir):
    report = cluster.rebuild([corpus_dir], location)
    live = aliases.live(os_client, location)
    assert report.generation == live and re.fullmatch(r"news-\d{20}", live)
    assert report.indexed == report.documents == 4 and report.problems == ()
    recorded = os_client.indices.get_mapping(index="news")[live]["mappings"]["_meta"]
    assert recorded["schema_version"] == SCHEMA_VERSION and recorded["documents"] == 4
    assert recorded["sources"] == [str(corpus_dir)] and recorded["built_at"]
    settings = os_client.indices.get_settings(index=live)[live]["settings"]["index"]
    assert settings["number_of_replicas"] == "1"  # restored after the load
    assert settings.get("refresh_interval") != "-1"
    assert ids_in(os_client, "news") == {"elysee-reforme", "kim-poutine", "ecole-noel",
                                         "porte-avions"}


def test_rebuilds_keep_the_previous_index_and_delete_older_ones(location, os_client,
                                                                 corpus_dir):
    first = cluster.rebuild([corpus_dir], location).generation
    second = cluster.rebuild([corpus_dir], location).generation
    assert aliases.live(os_client, location) == second
    assert aliases.previous(os_client, location) == first
    third = cluster.rebuild([corpus_dir], location).generation
    assert sorted(os_client.indices.get(index="news-*")) == [second, third]
    assert aliases.previous(os_client, location) == second
    assert aliases.aliased(os_client, "news" + aliases.BUILDING) == []


def test_rollback_swaps_back_and_a_second_rollback_undoes_it(location, os_client, corpus_dir):
    first = cluster.rebuild([corpus_dir], location).generation
    with pytest.raises(store.IndexUnavailable, match="nothing to roll back to"):
        aliases.rollback(location)
    second = cluster.rebuild([corpus_dir], location).generation
    rolled = aliases.rollback(location)
    assert (rolled.restored, rolled.replaced) == (first, second)
    assert rolled.restored_meta.documents == 4
    assert (aliases.live(os_client, location), aliases.previous(os_client, location)) == (
        first, second)
    aliases.rollback(location)
    assert (aliases.live(os_client, location), aliases.previous(os_client, location)) == (
        second, first)


def test_update_follows_the_scoping_rules(location, os_client, tmp_path, articles):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_jsonl(corpus / "a.jsonl", articles[:2])
    write_jsonl(corpus / "b.jsonl", articles[2:])
    cluster.rebuild([corpus], location)
    changed = {**articles[0], "title": "L’Élysée retire la réforme"}
    added = {**articles[1], "id": "nouveau", "title": "Un article nouveau"}
    write_jsonl(corpus / "a.jsonl", [changed, added])  # kim-poutine is gone from a.jsonl
    report = cluster.update([corpus / "a.jsonl"], location)
    assert (report.added, report.changed, report.removed) == (1, 1, 1)
    assert [r.ids for r in report.removals] == [("kim-poutine",)]
    assert ids_in(os_client, "news") == {"elysee-reforme", "nouveau", "ecole-noel",
                                         "porte-avions"}  # b.jsonl was not read: kept
    assert report.documents == 4
    again = cluster.update([corpus / "a.jsonl"], location)
    assert (again.added, again.changed, again.removed, again.indexed) == (0, 0, 0, 0)


def test_delete_removes_by_id_and_reports_unknown_ids(location, os_client, corpus_dir):
    cluster.rebuild([corpus_dir], location)
    report = cluster.delete(["kim-poutine", "nope", "kim-poutine"], location)
    assert report.removed == 1 and report.unknown == ("nope",) and report.documents == 3
    assert "kim-poutine" not in ids_in(os_client, "news")
    live = aliases.live(os_client, location)
    assert aliases.meta(os_client, live).documents == 3


def test_a_rebuild_that_would_halve_the_index_is_refused_unless_forced(
        location, os_client, corpus_dir, tmp_path, articles):
    cluster.rebuild([corpus_dir], location)
    one = write_jsonl(tmp_path / "one.jsonl", articles[:1])
    with pytest.raises(BuildError, match="more than half"):
        cluster.rebuild([one], location)
    assert len(os_client.indices.get(index="news-*")) == 1  # nothing was created
    assert cluster.rebuild([one], location, force=True).documents == 1


def test_pushed_articles_land_at_once_and_survive_a_rebuild(location, os_client, corpus_dir):
    cluster.rebuild([corpus_dir], location)
    pushed = Article("depeche-1", "Dépêche de dernière minute", "Le texte.")
    assert cluster.apply(location, [pushed], ["ecole-noel"]) == ()
    # refresh wait_for: searchable as soon as answered
    assert "depeche-1" in ids_in(os_client, "news") and "ecole-noel" not in ids_in(
        os_client, "news")
    report = cluster.rebuild([corpus_dir], location)
    assert report.pushed == 1 and report.documents == 5
    assert "depeche-1" in ids_in(os_client, "news")


def test_stats_describe_the_live_and_previous_indexes(location, corpus_dir):
    cluster.rebuild([corpus_dir], location)
    cluster.rebuild([corpus_dir], location)
    s = cluster_status.stats(location)
    assert s.documents == 4 and s.schema_version == SCHEMA_VERSION
    assert dict(s.sources) == {"AFP": 2, "Reuters": 1, "6Medias": 1}
    assert dict(s.sections)["politique"] == 1
    assert str(s.first_date) == "2019-12-20" and str(s.last_date) == "2023-09-13"
    assert [(g.role, g.documents) for g in s.generations] == [("live", 4), ("previous", 4)]
    assert s.size_bytes > 0


def test_a_missing_alias_says_how_to_build_it(location):
    for call in (lambda: cluster_status.stats(location), lambda: aliases.rollback(location),
                 lambda: cluster.delete(["x"], location)):
        with pytest.raises(store.IndexUnavailable, match="no index"):
            call()


def test_a_stopped_cluster_is_an_unavailable_index(corpus_dir):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    location = connection.parse(f"opensearch+http://127.0.0.1:{port}/news")
    with pytest.raises(store.IndexUnavailable, match="does not answer"):
        cluster.rebuild([corpus_dir], location)
    with pytest.raises(store.IndexUnavailable, match="does not answer"):
        cluster_status.stats(location)


def test_each_refused_article_is_reported_with_its_id(location, os_client, corpus_dir):
    cluster.rebuild([corpus_dir], location)
    live = aliases.live(os_client, location)
    good = Article("ok-1", "Un titre", "Un texte.")
    actions = [*bulk.upserts(live, [good], lambda a: PUSHED),
               {"_op_type": "index", "_index": live, "_id": "bad-1",
                "_source": {"id": "bad-1", "date": "le 3 mars"}}]
    outcome = bulk.write(os_client, actions, refresh="wait_for")
    assert outcome.done == 1 and [f.id for f in outcome.failures] == ["bad-1"]
    assert outcome.failures[0].message.startswith("400 ")


class FlakyCluster(BaseHTTPRequestHandler):
    """A real HTTP server in front of nothing: its _bulk answers 429 as told, then 200."""

    script: list = []
    seen: list = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        lines = [json.loads(line) for line in body.splitlines() if line]
        self.seen.append([next(iter(a.values()))["_id"] for a in lines[::2]])
        step = self.script.pop(0) if self.script else "ok"
        if step == "busy":
            self._answer(429, {"error": {"type": "es_rejected_execution_exception",
                                         "reason": "queue full"}, "status": 429})
            return
        items = [{"index": {"_id": i, "status": 429 if step == "one-busy" and n == 0 else 201,
                            **({"error": {"type": "es_rejected_execution_exception",
                                          "reason": "queue full"}}
                               if step == "one-busy" and n == 0 else {})}}
                 for n, i in enumerate(self.seen[-1])]
        self._answer(200, {"took": 1, "errors": step == "one-busy", "items": items})

    def _answer(self, status: int, data: dict) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def flaky():
    """A local HTTP server answering bulk requests by its script; its address."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), FlakyCluster)
    FlakyCluster.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"opensearch+http://127.0.0.1:{server.server_address[1]}/news"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("script", "sent"), [
    (["busy", "busy"], [["a", "b"], ["a", "b"], ["a", "b"]]),  # the whole request refused
    (["one-busy"], [["a", "b"], ["a"]]),  # only the refused article is sent again
])
def test_bulk_retries_what_got_429_with_back_off(flaky, script, sent):
    FlakyCluster.script = list(script)
    client = connection.client(connection.parse(flaky))
    articles = [Article("a", "Un", "x"), Article("b", "Deux", "y")]
    outcome = bulk.write(client, bulk.upserts("news-1", articles, lambda a: PUSHED),
                         backoff=0.01)
    assert outcome.done == 2 and outcome.failures == ()
    assert FlakyCluster.seen == sent


def test_bulk_reports_articles_still_refused_after_its_retries(flaky):
    FlakyCluster.script = ["one-busy"] * 3
    client = connection.client(connection.parse(flaky))
    articles = [Article("a", "Un", "x"), Article("b", "Deux", "y")]
    outcome = bulk.write(client, bulk.upserts("news-1", articles, lambda a: PUSHED),
                         retries=2, backoff=0.01)
    assert outcome.done == 1 and [f.id for f in outcome.failures] == ["a"]
    assert "429" in outcome.failures[0].message and len(FlakyCluster.seen) == 3
