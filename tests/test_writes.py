"""The write API through the app: keys, bodies, per-article results, limits, a busy index."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from newssearch import ingest, store
from newssearch.web import create_app

KEY = "clé-de-test-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    """A key file with one key and a comment."""
    path = tmp_path / "keys"
    path.write_text(f"# la rédaction\n{KEY}\n", "utf-8")
    return path


@pytest.fixture
def writer(index_dir: Path, key_file: Path):
    """A test client of an app whose write API is on."""
    app = create_app({"TESTING": True, "INDEX_DIR": str(index_dir),
                      "API_KEY_FILE": str(key_file), "WRITE_WAIT": 0.5})
    return app.test_client()


def found(client, q: str) -> list[str]:
    return [h["id"] for h in client.get(f"/api/search?q={q}&per_page=100").get_json()["hits"]]


def tree_digest(directory: Path) -> str:
    """A digest of every file's name and bytes under a directory (the lock file aside)."""
    h = hashlib.sha256()
    for path in sorted(directory.rglob("*")):
        if path.is_file() and path.name != store.LOCK:
            h.update(str(path.relative_to(directory)).encode() + path.read_bytes())
        elif path.is_symlink():
            h.update(os.readlink(path).encode())
    return h.hexdigest()


TEMPETE = {"id": "tempete-brest", "title": "Tempête Ciarán : Brest sous les rafales",
           "body": "Des vents à 150 km/h ont frappé le Finistère.", "source": "afp",
           "date": "2023-11-02", "section": "France"}


def test_without_keys_there_is_no_write_api(client):
    assert client.put("/api/articles/x", json=TEMPETE).status_code == 405
    assert client.delete("/api/articles/kim-poutine").status_code == 405
    assert client.post("/api/articles", json=TEMPETE).status_code in (404, 405)


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer faux"},
                                     {"Authorization": KEY}, {"Authorization": "Basic " + KEY},
                                     {"Authorization": "Bearer "}])
def test_a_missing_or_wrong_key_gets_401_and_changes_nothing(writer, index_dir, headers):
    before = tree_digest(index_dir)
    for response in (writer.post("/api/articles", json=TEMPETE, headers=headers),
                     writer.put("/api/articles/kim-poutine", json=TEMPETE, headers=headers),
                     writer.delete("/api/articles/kim-poutine", headers=headers)):
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="newssearch"'
        assert response.get_json() == {"error": {
            "code": "unauthorized",
            "message": "Clé d’API absente ou invalide : envoyez « Authorization: Bearer CLÉ »."}}
        assert KEY not in response.get_data(as_text=True)
    assert tree_digest(index_dir) == before
    assert writer.get("/api/articles/kim-poutine").status_code == 200  # reading stays open


def test_a_pushed_article_is_searchable_when_acknowledged(writer):
    response = writer.post("/api/articles", json=TEMPETE, headers=AUTH)
    assert response.status_code == 201
    assert response.get_json() == {"accepted": 1, "rejected": 0, "results": [
        {"position": 1, "id": "tempete-brest", "status": "accepted", "reason": "",
         "message": ""}]}
    assert found(writer, "tempete brest") == ["tempete-brest"]
    # The index's own spelling of the source, not the one pushed.
    assert writer.get("/api/articles/tempete-brest").get_json()["source"] == "AFP"


def test_a_batch_stores_its_good_articles_and_says_why_the_others_were_refused(writer):
    body = [TEMPETE, {"id": "vide"}, 42, {**TEMPETE, "id": "tempete-2", "url": "javascript:x",
                                          "title": "Tempête Ciarán : Quimper privé de courant"}]
    response = writer.post("/api/articles", json=body, headers=AUTH)
    assert response.status_code == 201
    results = response.get_json()["results"]
    assert [(r["position"], r["status"], r["reason"]) for r in results] == [
        (1, "accepted", ""), (2, "rejected", "no-text"), (3, "rejected", "bad-record"),
        (4, "accepted", "")]
    assert "not http(s)" in results[3]["message"]  # flagged, as `newssearch index` flags it
    assert sorted(found(writer, "ciaran")) == ["tempete-2", "tempete-brest"]


def test_json_lines_are_read_line_by_line(writer):
    third = {**TEMPETE, "id": "t3", "title": "Tempête Ciarán : les écoles fermées"}
    lines = "\n".join([json.dumps(TEMPETE), "{pas du json", json.dumps(third)])
    response = writer.post("/api/articles", data=lines + "\n", headers={
        **AUTH, "Content-Type": "application/x-ndjson"})
    assert response.status_code == 201
    assert [(r["position"], r["reason"]) for r in response.get_json()["results"]] == [
        (1, ""), (2, "bad-json"), (3, "")]
    assert sorted(found(writer, "ciaran")) == ["t3", "tempete-brest"]


def test_malformed_json_is_a_400_with_its_line_and_column(writer, index_dir):
    before = tree_digest(index_dir)
    response = writer.post("/api/articles", data='{"id": "a",\n  "title": }',
                           headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.get_json() == {"error": {
        "code": "bad_json", "message": "JSON invalide ligne 2, colonne 12 : Expecting value."}}
    assert tree_digest(index_dir) == before


def test_every_article_refused_is_a_422(writer):
    response = writer.post("/api/articles", json=[{"id": "vide"}], headers=AUTH)
    assert response.status_code == 422
    assert response.get_json()["rejected"] == 1


@pytest.mark.parametrize(("body", "code"), [
    ([{"id": f"a{n}", "title": "t", "body": "b"} for n in range(1001)], "too_many_articles"),
    ([{"id": "gros", "title": "t", "body": "x" * (10 * 1024 * 1024)}],
     "request_entity_too_large"),
])
def test_too_large_a_body_gets_413(writer, index_dir, body, code):
    before = tree_digest(index_dir)
    response = writer.post("/api/articles", json=body, headers=AUTH)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == code
    assert tree_digest(index_dir) == before


def test_put_creates_then_replaces_and_checks_the_id(writer):
    assert writer.put("/api/articles/tempete-brest", json=TEMPETE, headers=AUTH).status_code == 201
    changed = {**TEMPETE, "title": "Tempête Ciarán : le bilan s’alourdit", "id": None}
    assert writer.put("/api/articles/tempete-brest", json=changed, headers=AUTH).status_code == 200
    assert writer.get("/api/articles/tempete-brest").get_json()["title"].endswith("alourdit")
    other = writer.put("/api/articles/tempete-brest", json={**TEMPETE, "id": "autre"},
                       headers=AUTH)
    assert other.status_code == 400 and other.get_json()["error"]["code"] == "id_mismatch"


def test_delete_removes_and_an_unknown_id_is_a_404(writer):
    assert writer.delete("/api/articles/kim-poutine", headers=AUTH).get_json() == {
        "id": "kim-poutine", "status": "deleted"}
    assert writer.get("/api/articles/kim-poutine").status_code == 404
    missing = writer.delete("/api/articles/kim-poutine", headers=AUTH)
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"


def test_a_key_can_be_rotated_without_a_restart(writer, key_file):
    key_file.write_text("nouvelle-clé\n", "utf-8")
    assert writer.post("/api/articles", json=TEMPETE, headers=AUTH).status_code == 401
    assert writer.post("/api/articles", json=TEMPETE, headers={
        "Authorization": "Bearer nouvelle-clé"}).status_code == 201


def test_a_write_while_another_writer_holds_the_index_is_refused_and_not_stored(writer,
                                                                               index_dir):
    before = tree_digest(index_dir)
    with store.writer_lock(index_dir):  # what a rebuild holds from start to swap
        response = writer.post("/api/articles", json=TEMPETE, headers=AUTH)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.get_json()["error"]["code"] == "index_busy"
    assert not list((index_dir / ingest.SPOOL).iterdir())  # withdrawn: it can never land
    assert tree_digest(index_dir) == before
    assert found(writer, "ciaran") == []


def test_writes_left_spooled_by_a_killed_server_are_committed_at_start(index_dir):
    """A write spooled but not committed (its server killed) lands at the next start."""
    ingest._spool(index_dir, ingest.Change(deletes=("kim-poutine",)))
    assert ingest.drain(index_dir) == 1
    app = create_app({"TESTING": True, "INDEX_DIR": str(index_dir)})
    assert app.test_client().get("/api/articles/kim-poutine").status_code == 404


def test_a_rebuild_from_files_keeps_the_articles_pushed_through_the_api(writer, index_dir,
                                                                        corpus_dir):
    from click.testing import CliRunner

    from newssearch.cli import cli
    assert writer.post("/api/articles", json=TEMPETE, headers=AUTH).status_code == 201
    result = CliRunner().invoke(cli, ["index", str(corpus_dir), "--index", str(index_dir)],
                                catch_exceptions=False)
    assert "Kept 1 article pushed through the write API" in result.stdout
    assert found(writer, "ciaran") == ["tempete-brest"]
    assert writer.get("/api/articles/tempete-brest").get_json()["title"] == TEMPETE["title"]


def test_many_small_writes_merge_tier_by_tier_and_leave_the_big_segment(tmp_path):
    from newssearch import indexer, segments
    records = [{"id": f"a{n}", "title": f"Article {n}", "body": "Un texte assez long."}
               for n in range(120)]
    (tmp_path / "big.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    index = tmp_path / "ix"
    indexer.rebuild([tmp_path / "big.jsonl"], index, procs=1)
    ix, _, _ = indexer.open_index(index)
    big = {s.segment_id() for s in ix._segments()}
    ix.close()
    for n in range(25):
        ingest.submit(index, ingest.Change((ingest._article_of({
            "id": f"p{n}", "title": f"Poussé {n}", "body": "Court.", "lede": "", "date": None,
            "url": "", "source": "", "section": "", "tags": []}),)))
    ix, _, _ = indexer.open_index(index)
    sizes = sorted(s.doc_count_all() for s in ix._segments())
    kept = big & {s.segment_id() for s in ix._segments()}
    ix.close()
    # 25 one-article commits: the 11th and the 22nd merge the ten single-article segments
    # with their own article; three are left alone; the rebuild's segment is never merged.
    assert sizes == [1, 1, 1, 11, 11, 120] and kept == big
    assert segments.MERGE_FACTOR == 10
