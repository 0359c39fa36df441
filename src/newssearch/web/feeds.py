"""A search as an Atom feed (/feed.atom) and as files (/export.csv, /export.jsonl)."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, request

from newssearch import syndication
from newssearch.web.context import service
from newssearch.web.params import search_request

bp = Blueprint("feeds", __name__)
FEED_SIZE = 20


def _search_args() -> str:
    """The request's search parameters, without paging, as a query string."""
    return urlencode([(k, v) for k, v in request.args.items(multi=True)
                      if v and k not in ("page", "per_page")])


@bp.get("/feed.atom")
def feed():
    search = replace(search_request(request.args), sort="date", page=1, per_page=FEED_SIZE)
    page = service().search(search)
    root = request.host_url.rstrip("/")
    query = _search_args()
    title = f"newssearch : {search.q.strip()}" if search.q.strip() else "newssearch"
    body = syndication.atom_feed(
        page, title=title, self_url=f"{root}/feed.atom?{query}", page_url=f"{root}/?{query}",
        article_url=root + "/articles/{id}", built_at=service().info().built_at)
    return Response(body, mimetype="application/atom+xml")


def _export(lines, extension: str, mimetype: str) -> Response:
    search = search_request(request.args)
    limit = current_app.config.get("EXPORT_LIMIT", syndication.EXPORT_LIMIT)
    total, articles = service().export(search, limit)
    response = Response(lines(total, articles, limit), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="newssearch.{extension}"'
    return response


@bp.get("/export.csv")
def export_csv():
    return _export(syndication.csv_lines, "csv", "text/csv")


@bp.get("/export.jsonl")
def export_jsonl():
    return _export(syndication.jsonl_lines, "jsonl", "application/jsonl")
