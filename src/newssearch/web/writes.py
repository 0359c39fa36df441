"""The write API, registered only when API keys are configured: POST, PUT and DELETE of
articles, each behind ``Authorization: Bearer KEY``."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from newssearch.apikeys import ApiKeys
from newssearch.records import ApiError
from newssearch.submissions import Publisher
from newssearch.web.errors import error_response

bp = Blueprint("writes", __name__)
CHALLENGE = [("WWW-Authenticate", 'Bearer realm="newssearch"')]


def publisher() -> Publisher:
    return current_app.extensions["newssearch.publisher"]


@bp.before_request
def authorise() -> ResponseReturnValue | None:
    keys: ApiKeys = current_app.extensions["newssearch.keys"]
    if keys.allows(request.headers.get("Authorization")):
        return None
    # The key given is never repeated, logged or hinted at.
    return error_response(ApiError(401, "unauthorized",
                                   "Clé d’API absente ou invalide : envoyez "
                                   "« Authorization: Bearer CLÉ »."), CHALLENGE)


@bp.post("/api/articles")
def create() -> ResponseReturnValue:
    status, report = publisher().push(request.get_data(cache=False), request.content_type or "")
    return jsonify(report.to_json()), status


@bp.put("/api/articles/<article_id>")
def replace(article_id: str) -> ResponseReturnValue:
    status, report = publisher().push(request.get_data(cache=False), request.content_type or "",
                                      article_id)
    return jsonify(report.to_json()), status


@bp.delete("/api/articles/<article_id>")
def delete(article_id: str) -> ResponseReturnValue:
    if not publisher().remove(article_id):
        return error_response(ApiError(404, "not_found", f"Aucun article « {article_id[:100]} »."))
    return jsonify({"id": article_id, "status": "deleted"})
