"""The French search page and the article page."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from flask import Blueprint, abort, render_template, request

from newssearch.web.context import service
from newssearch.web.params import search_request

bp = Blueprint("pages", __name__)

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")
KEPT = ("q", "sort", "from", "to", "section", "source", "per_page")


@bp.app_template_filter("date_fr")
def date_fr(value: date | None) -> str:
    """13 septembre 2023; 1er for the first of the month."""
    if value is None:
        return ""
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {MONTHS[value.month - 1]} {value.year}"


@bp.app_template_filter("number_fr")
def number_fr(value: int) -> str:
    """12 345, with a narrow no-break space between thousands."""
    return f"{value:,}".replace(",", "\u202f")


@bp.app_template_global()
def url_with(**changes: object) -> str:
    """The current search's URL with some parameters changed (None removes one)."""
    args = {k: request.args.get(k, "") for k in KEPT}
    if "page" not in changes:
        args.pop("page", None)
    args.update({k: "" if v is None else str(v) for k, v in changes.items()})
    return "?" + urlencode({k: v for k, v in args.items() if v})


def page_numbers(current: int, last: int, width: int = 2) -> list[int | None]:
    """1 … 4 5 [6] 7 8 … 20: the page links to show, None for a gap."""
    shown = {1, last, *range(max(1, current - width), min(last, current + width) + 1)}
    numbers: list[int | None] = []
    for n in sorted(shown):
        if numbers and n - (numbers[-1] or 0) > 1:
            numbers.append(None)
        numbers.append(n)
    return numbers


@bp.get("/")
def home():
    search = search_request(request.args)
    results = service().search(search) if search.q.strip() or search.section \
        or search.source else None
    if results is not None and results.pages and search.page > results.pages:
        abort(404)
    return render_template(
        "search.html", search=search, results=results,
        pages=page_numbers(search.page, results.pages) if results and results.pages else [],
        api_url="/api/search?" + urlencode({k: v for k, v in request.args.items() if v}))


@bp.get("/articles/<article_id>")
def article(article_id: str):
    q = request.args.get("q", "")
    view = service().article(article_id, q)
    if view is None:
        abort(404)
    return render_template("article.html", article=view, q=q,
                           related=service().related(article_id))

