"""The Flask application: the search page and the JSON API over SearchService."""

from __future__ import annotations

from typing import Any

from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then NEWSSEARCH_* environment variables, then test config."""
    app = Flask(__name__)
    app.config.from_mapping(INDEX_DIR="index")
    app.config.from_prefixed_env("NEWSSEARCH")
    if test_config:
        app.config.from_mapping(test_config)

    @app.get("/")
    def home() -> str:
        return "<!doctype html><html lang=fr><title>newssearch</title><p>newssearch</p></html>"

    return app
