"""The Flask application: the search page and the JSON API over SearchService."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from newssearch.records import BadRequest
from newssearch.search import SearchService
from newssearch.store import IndexUnavailable


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then NEWSSEARCH_* environment variables, then test config.

    The index is NEWSSEARCH_INDEX, as for the CLI, so that any WSGI server serves it:
    ``gunicorn 'newssearch.web:create_app()'``.
    """
    app = Flask(__name__)
    app.config.from_mapping(INDEX_DIR=os.environ.get("NEWSSEARCH_INDEX") or "index",
                            JSON_AS_ASCII=False)
    app.config.from_prefixed_env("NEWSSEARCH")
    if test_config:
        app.config.from_mapping(test_config)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["newssearch"] = SearchService(Path(app.config["INDEX_DIR"]))

    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    app.register_error_handler(BadRequest, _bad_request)
    app.register_error_handler(IndexUnavailable, _unavailable)
    app.register_error_handler(HTTPException, _http_error)
    app.after_request(_security_headers)
    return app


def service() -> SearchService:
    """Return the app's SearchService."""
    return current_app.extensions["newssearch"]


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/health"


def error_body(code: str, message: str) -> dict:
    """The one error shape of every JSON endpoint."""
    return {"error": {"code": code, "message": message}}


def _bad_request(e: BadRequest):
    if wants_json():
        return jsonify(error_body(e.code, e.message)), 400
    return pages.error_page(400, e.message)


def _unavailable(e: IndexUnavailable):
    message = f"L’index n’est pas disponible : {e}"
    if wants_json():
        return jsonify(error_body("index_unavailable", message)), 503
    return pages.error_page(503, message)


def _http_error(e: HTTPException):
    code = e.code or 500
    messages = {404: "Page introuvable.", 405: "Méthode non permise.",
                500: "Erreur interne du serveur."}
    message = messages.get(code, e.description or e.name)
    # Keep the exception's headers: a 405 must say which methods are allowed.
    headers = [(k, v) for k, v in e.get_headers() if k.lower() != "content-type"]
    if wants_json():
        return jsonify(error_body(e.name.lower().replace(" ", "_"), message)), code, headers
    body, status = pages.error_page(code, message)
    return body, status, headers


def _security_headers(response: Response) -> Response:
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


# Imported last: the blueprints use service() and error_body() from this module.
from newssearch.web import api, pages  # noqa: E402
