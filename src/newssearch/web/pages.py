"""The French search page and the article page."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from flask import Blueprint, abort, render_template, request

from newssearch import dates, timeline
from newssearch.schema import facet_key
from newssearch.sections import section_label
from newssearch.typography import french_spaces
from newssearch.web.context import service
from newssearch.web.params import search_request

bp = Blueprint("pages", __name__)

# The search's parameters, in the order links write them; page comes last.
KEPT = ("q", "sort", "from", "to", "period", "section", "source", "per_page", "verbatim")
MULTI = ("section", "source")
NBSP = "\u00a0"


@bp.app_template_filter("date_fr")
def date_fr(value: date | None) -> str:
    """13 septembre 2023, never broken across lines; 1er for the first of the month."""
    return dates.french(value).replace(" ", NBSP)


@bp.app_template_filter("number_fr")
def number_fr(value: int) -> str:
    """12 345, with a narrow no-break space between thousands."""
    return f"{value:,}".replace(",", "\u202f")


@bp.app_template_filter("seconds_fr")
def seconds_fr(ms: float) -> str:
    """0,008 s: a decimal comma, and the unit kept with its number."""
    return f"{ms / 1000:.3f}".replace(".", ",") + NBSP + "s"


bp.add_app_template_filter(french_spaces, "typographie")
bp.add_app_template_global(section_label)
bp.add_app_template_global(timeline.bars, "timeline_bars")


def _current() -> dict[str, list[str]]:
    return {k: [v for v in request.args.getlist(k) if v.strip()] if k in MULTI
            else [request.args.get(k, "")] for k in KEPT}


def _query(args: dict[str, list[str]]) -> str:
    return urlencode([(k, v) for k, values in args.items() for v in values if v])


@bp.app_template_global()
def url_with(**changes: object) -> str:
    """The current search's URL with some parameters changed (None removes one)."""
    args = _current()
    for k, v in changes.items():
        args[k] = [] if v is None else [str(x) for x in v] if isinstance(v, list) else [str(v)]
    return "?" + _query(args)


def _chosen(name: str, value: str) -> bool:
    return facet_key(value) in {facet_key(v) for v in _current()[name]}


@bp.app_template_global()
def toggled(name: str, value: str) -> str:
    """The search with one more value of a facet, or one less if it was chosen."""
    values = _current()[name]
    kept = [v for v in values if facet_key(v) != facet_key(value)]
    return url_with(**{name: kept if len(kept) < len(values) else [*values, value]})


bp.add_app_template_global(_chosen, "chosen")


@bp.app_template_global()
def chips(search) -> list[tuple[str, str]]:
    """The active filters of a SearchRequest as (label, URL without it)."""
    found = [(section_label(v), toggled("section", v)) for v in _current()["section"]]
    found += [(v, toggled("source", v)) for v in _current()["source"]]
    period = request.args.get("period", "")
    if period in dates.PRESETS:
        found.append((dates.PRESETS[period][1], url_with(period=None)))
    elif search.date_from or search.date_to:
        found.append((dates.period_label(search.date_from, search.date_to),
                      url_with(**{"from": None, "to": None})))
    return found


def search_args() -> str:
    """The search's parameters, for the feed, the exports and the article's way back."""
    return _query({k: v for k, v in _current().items()})


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
    asked = search.q.strip() or search.sections or search.sources or search.date_from \
        or search.date_to
    results = service().search(search) if asked else None
    beyond = bool(results and results.pages and search.page > results.pages)
    back = search_args() + (f"&page={search.page}" if search.page > 1 else "")
    return render_template(
        "search.html", search=search, results=results, beyond=beyond, back=back,
        pages=page_numbers(search.page, results.pages) if results and results.pages else [],
        args=search_args(), presets=dates.PRESETS,
        api_url="/api/search?" + urlencode({k: v for k, v in request.args.items() if v})
    ), 404 if beyond else 200


@bp.get("/articles/<article_id>")
def article(article_id: str):
    q = request.args.get("q", "")
    view = service().article(article_id, q)
    if view is None:
        abort(404)
    back = urlencode([(k, v) for k, v in request.args.items(multi=True)
                      if v and (k in KEPT or k == "page")])
    return render_template("article.html", article=view, q=q, back=back,
                           related=service().related(article_id))
