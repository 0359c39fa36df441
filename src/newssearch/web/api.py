"""The JSON API: /api/search, /api/suggest, /api/articles/<id>, /health, /api/openapi.json."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from newssearch.records import ApiError, Completions, Health
from newssearch.web.context import service
from newssearch.web.errors import error_response
from newssearch.web.openapi import spec
from newssearch.web.params import search_request

bp = Blueprint("api", __name__)


@bp.get("/api/search")
def search():
    page = service().search(search_request(request.args))
    return jsonify(page.to_json())


@bp.get("/api/suggest")
def suggest():
    q = request.args.get("q", "")[:200]
    return jsonify(Completions(q, tuple(service().suggest(q))).to_json())


@bp.get("/api/articles/<article_id>")
def article(article_id: str):
    view = service().article(article_id, request.args.get("q", ""))
    if view is None:
        return error_response(ApiError(404, "not_found",
                                       f"Aucun article « {article_id[:100]} »."))
    return jsonify(view.to_json())


@bp.get("/health")
def health():
    return jsonify(Health.of(service().info()).to_json())


@bp.get("/api/openapi.json")
def openapi():
    # A fixed document written as data, not a record of anything the service returns.
    return jsonify(spec(writes="newssearch.keys" in current_app.extensions))
