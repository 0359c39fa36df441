"""The app's shared objects, as views reach them."""

from __future__ import annotations

from flask import current_app

from newssearch.search import SearchService


def service() -> SearchService:
    """Return the app's SearchService, built once by create_app."""
    return current_app.extensions["newssearch"]
