"""Errors: one JSON shape on the API paths, the French error page elsewhere."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import jsonify, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from newssearch.ingest import WriteBusy
from newssearch.records import ApiError, BadRequest
from newssearch.store import IndexUnavailable
from newssearch.submissions import BadBody

_TITLES = {400: "Requête invalide", 404: "Page introuvable", 503: "Index indisponible"}
_MESSAGES = {404: "Page introuvable.", 405: "Méthode non permise.",
             413: "Requête trop volumineuse : 10 Mo au plus.",
             500: "Erreur interne du serveur."}
# The page's heading already says « Page introuvable »: its text says what to do.
_PAGE_MESSAGES = {"Page introuvable.": "Aucune page à cette adresse : l’article a peut-être "
                                       "été retiré de l’index, ou le lien est incomplet."}


def is_json_path(path: str) -> bool:
    """Whether errors on this path are JSON bodies rather than pages."""
    return path.startswith("/api/") or path == "/health"


def error_response(error: ApiError, headers: list[tuple[str, str]] | None = None,
                   back: str = "/") -> ResponseReturnValue:
    """Answer with ``error``: its JSON body on the API, the error page elsewhere.

    The page keeps the query in the search box and links ``back`` to the search.
    """
    if is_json_path(request.path):
        body = jsonify(error.to_json())
    else:
        body = render_template("error.html", code=error.status,
                               title=_TITLES.get(error.status, "Erreur"),
                               message=_PAGE_MESSAGES.get(error.message, error.message),
                               q=request.args.get("q", "")[:1000], back=back)
    return body, error.status, headers or []


def bad_request(e: BadRequest) -> ResponseReturnValue:
    # The same search without the parameter at fault: « bad_from » names « from ».
    wrong = e.code.removeprefix("bad_")
    kept = urlencode([(k, v) for k, v in request.args.items(multi=True)
                      if k != wrong and k != "page"])
    return error_response(ApiError(400, e.code, e.message), back="/?" + kept if kept else "/")


def index_unavailable(e: IndexUnavailable) -> ResponseReturnValue:
    return error_response(ApiError(503, "index_unavailable",
                                   f"L’index n’est pas disponible : {e}"))


def http_error(e: HTTPException) -> ResponseReturnValue:
    status = e.code or 500
    message = _MESSAGES.get(status, e.description or e.name)
    # Keep the exception's headers: a 405 must say which methods are allowed.
    headers = [(k, v) for k, v in e.get_headers() if k.lower() != "content-type"]
    return error_response(ApiError(status, e.name.lower().replace(" ", "_"), message), headers)


def bad_body(e: BadBody) -> ResponseReturnValue:
    return error_response(ApiError(e.status, e.code, e.message))


def write_busy(e: WriteBusy) -> ResponseReturnValue:
    return error_response(ApiError(503, "index_busy",
                                   "Un autre indexeur écrit dans l’index (une reconstruction ?) : "
                                   "rien n’a été enregistré, réessayez."),
                          [("Retry-After", str(e.retry_after))])
