"""The Flask application: the search page and the JSON API over SearchService."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.exceptions import HTTPException

from newssearch.apikeys import ApiKeys
from newssearch.ingest import WriteBusy
from newssearch.opensearch import connection
from newssearch.opensearch.connection import Location
from newssearch.records import BadRequest
from newssearch.search import SearchService
from newssearch.store import IndexUnavailable
from newssearch.submissions import BadBody, Publisher
from newssearch.web import api, errors, feeds, headers, pages, writes

MAX_BODY_BYTES = 10 * 1024 * 1024  # a body larger than this gets 413


def index_target(value: str | Path | Location) -> Path | Location:
    """The index the setting names: a directory, or ``opensearch+http(s)://…/NAME``."""
    if isinstance(value, Path | Location):
        return value
    return connection.parse(value) if connection.is_location(value) else Path(value)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then NEWSSEARCH_* environment variables, then test config.

    The index is NEWSSEARCH_INDEX, as for the CLI, so that any WSGI server serves it:
    ``gunicorn 'newssearch.web:create_app()'``; a directory or a cluster location.
    """
    app = Flask(__name__)
    app.config.from_mapping(INDEX_DIR=os.environ.get("NEWSSEARCH_INDEX") or "index",
                            JSON_AS_ASCII=False)
    app.config.from_prefixed_env("NEWSSEARCH")
    if test_config:
        app.config.from_mapping(test_config)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    target = index_target(app.config["INDEX_DIR"])
    service = app.extensions["newssearch"] = SearchService(target)

    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(feeds.bp)
    if app.config.get("API_KEY_FILE"):
        # Writes exist only behind a key: without one, PUT and DELETE get 405 as before.
        app.extensions["newssearch.keys"] = ApiKeys(Path(app.config["API_KEY_FILE"]))
        app.extensions["newssearch.publisher"] = Publisher(
            service, float(app.config.get("WRITE_WAIT", 10.0)), target)
        if app.config.get("MAX_CONTENT_LENGTH") is None:
            app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
        app.register_blueprint(writes.bp)
        app.register_error_handler(BadBody, errors.bad_body)
        app.register_error_handler(WriteBusy, errors.write_busy)
    app.register_error_handler(BadRequest, errors.bad_request)
    app.register_error_handler(IndexUnavailable, errors.index_unavailable)
    app.register_error_handler(HTTPException, errors.http_error)
    app.after_request(headers.security_headers)
    return app
