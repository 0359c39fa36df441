"""Articles pushed over HTTP: a JSON object, a JSON array or JSON lines, checked as the
corpus reader checks an article file's records, with the same reason codes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from newssearch import ingest
from newssearch.articles import Article, Problem
from newssearch.formats import json_lines, record_article
from newssearch.opensearch import cluster
from newssearch.opensearch.bulk import Failure
from newssearch.opensearch.connection import Location
from newssearch.records import ArticleResult, WriteReport
from newssearch.search import SearchService
from newssearch.store import IndexUnavailable

MAX_ARTICLES = 1000
NDJSON = "application/x-ndjson"
# Problems that flag a record and keep it, as `newssearch index` keeps it.
FLAGS = frozenset({"bad-field", "bad-url", "bad-date", "duplicate-id"})


class BadBody(ValueError):
    """The body cannot be read at all; the message says where (in French)."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass(frozen=True)
class Submission:
    """The articles a body holds, and what became of each of its records."""

    articles: tuple[Article, ...]
    report: WriteReport


def read_body(body: bytes, content_type: str, article_id: str | None = None) -> Submission:
    """Read a pushed body; with ``article_id`` (PUT), one object whose id is that one."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise BadBody("bad_encoding", f"Le corps n’est pas en UTF-8 (octet {e.start}).") from e
    if content_type.split(";")[0].strip().lower() == NDJSON and article_id is None:
        records = _lines(text)
    else:
        records = _json(text, article_id)
    if len(records) > MAX_ARTICLES:
        raise BadBody("too_many_articles", f"{len(records)} articles : {MAX_ARTICLES} au plus "
                      "par requête.", status=413)
    if not records:
        raise BadBody("empty", "Le corps ne contient aucun article.")
    articles: dict[str, Article] = {}
    results = []
    for position, record, problem in records:
        found: list[Problem] = [problem] if problem else []
        article = None
        if problem is None:
            if article_id is not None and isinstance(record, dict):
                record = {**record, "id": article_id}
            article = record_article("body", position, f"article {position}", record,
                                     found.append)
        fatal = [p for p in found if p.reason not in FLAGS]
        if article is None or fatal:
            p = (fatal or found)[0]
            results.append(ArticleResult(position, None, "rejected", p.reason, p.message))
            continue
        articles[article.id] = article  # the last copy of an id wins, as in a file
        results.append(ArticleResult(position, article.id, "accepted", "",
                                     "; ".join(p.message for p in found)))
    report = WriteReport(sum(r.status == "accepted" for r in results),
                         sum(r.status == "rejected" for r in results), tuple(results))
    return Submission(tuple(articles.values()), report)


def respelled(articles: tuple[Article, ...], spellings: Mapping[str, str]
              ) -> tuple[Article, ...]:
    """Give each source the spelling the index already has for it (AFP, not afp)."""
    return tuple(replace(a, source=spellings[a.source])
                 if spellings.get(a.source, a.source) != a.source else a for a in articles)


def _json(text: str, article_id: str | None) -> list[tuple[int, object, Problem | None]]:
    try:
        value = json.loads(text, strict=False)
    except json.JSONDecodeError as e:
        raise BadBody("bad_json", f"JSON invalide ligne {e.lineno}, colonne {e.colno} : "
                      f"{e.msg}.") from e
    except (RecursionError, ValueError) as e:
        raise BadBody("bad_json", f"JSON invalide : {e}.") from e
    if article_id is not None and not isinstance(value, dict):
        raise BadBody("bad_json", "PUT attend un seul article (un objet JSON).")
    if isinstance(value, dict):
        if article_id is not None and value.get("id") not in (None, "", article_id):
            raise BadBody("id_mismatch", f"L’id du corps ({str(value['id'])[:100]}) n’est pas "
                          f"celui de l’adresse ({article_id[:100]}).")
        return [(1, value, None)]
    if isinstance(value, list):
        return [(n, item, None) for n, item in enumerate(value, 1)]
    raise BadBody("bad_json", "Le corps doit être un article, une liste d’articles ou des "
                  "lignes JSON (application/x-ndjson).")


def _lines(text: str) -> list[tuple[int, object, Problem | None]]:
    found: list[tuple[int, object, Problem | None]] = []
    problems: list[Problem] = []
    for line, value in json_lines("body", text, problems.append):
        found.append((line, value, None))
    # A line that is not JSON is rejected where it stands, with its line and column.
    found.extend((p.line or 0, None, p) for p in problems)
    return sorted(found, key=lambda r: r[0])


class Publisher:
    """Pushes articles into an index: read, spelled as the index spells sources, committed.

    A directory's writes go through its spool (ingest.py); a cluster's are one bulk
    request each, answered once durable and searchable (cluster.apply).
    """

    def __init__(self, service: SearchService, wait: float = 10.0,
                 target: Path | Location | None = None):
        self.service, self.wait = service, wait
        self.target = target if target is not None else service.index_dir

    def push(self, body: bytes, content_type: str, article_id: str | None = None
             ) -> tuple[int, WriteReport]:
        """Store the articles of a body; return the HTTP status and the report.

        201 when something was stored and nothing there before was replaced by a PUT,
        200 for a PUT that replaced an article, 422 when every article was refused.
        """
        submission = read_body(body, content_type, article_id)
        if not submission.articles:
            return 422, submission.report
        existed = article_id is not None and self.service.has(article_id)
        sources = {a.source for a in submission.articles if a.source}
        articles = respelled(submission.articles, self.service.source_spellings(sources))
        report = _refused(submission.report, self._store(ingest.Change(articles)))
        if not report.accepted:
            return 422, report
        return (200 if existed else 201), report

    def remove(self, article_id: str) -> bool:
        """Remove an article; False if the index does not hold it."""
        if not self.service.has(article_id):
            return False
        failures = self._store(ingest.Change(deletes=(article_id,)))
        if failures:
            raise IndexUnavailable(f"{self.target}: the cluster did not delete {article_id} "
                                   f"({failures[0].message})")
        return True

    def _store(self, change: ingest.Change) -> tuple[Failure, ...]:
        """Store a change; return the articles the cluster refused (none for a directory)."""
        if isinstance(self.target, Location):
            return cluster.apply(self.target, change.upserts, change.deletes)
        ingest.submit(self.target, change, self.wait)
        return ()


def _refused(report: WriteReport, failures: tuple[Failure, ...]) -> WriteReport:
    """The report, with each article the cluster refused rejected, saying why."""
    if not failures:
        return report
    why = {f.id: f"Le cluster a refusé l’article ({f.message})." for f in failures}
    results = tuple(replace(r, status="rejected", reason="not-stored", message=why[r.id])
                    if r.status == "accepted" and r.id in why else r for r in report.results)
    return WriteReport(sum(r.status == "accepted" for r in results),
                       sum(r.status == "rejected" for r in results), results)
