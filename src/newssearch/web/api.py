"""The JSON API: /api/search, /api/suggest, /api/articles/<id>, /health, /api/openapi.json."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from newssearch.web import error_body, service
from newssearch.web.openapi import SPEC
from newssearch.web.params import search_request

bp = Blueprint("api", __name__)


@bp.get("/api/search")
def search():
    page = service().search(search_request(request.args))
    return jsonify(page.to_json())


@bp.get("/api/suggest")
def suggest():
    q = request.args.get("q", "")[:200]
    return jsonify({"query": q, "suggestions": service().suggest(q)})


@bp.get("/api/articles/<article_id>")
def article(article_id: str):
    view = service().article(article_id, request.args.get("q", ""))
    if view is None:
        return jsonify(error_body("not_found", f"Aucun article « {article_id[:100]} ».")), 404
    return jsonify(view.to_json())


@bp.get("/health")
def health():
    info = service().info()
    return jsonify({"status": "ok", "documents": info.documents,
                    "schema_version": info.schema_version, "built_at": info.built_at})


@bp.get("/api/openapi.json")
def openapi():
    return jsonify(SPEC)
