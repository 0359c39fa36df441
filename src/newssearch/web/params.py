"""Reading request parameters into SearchRequest, with French 400 messages."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from newssearch import dates
from newssearch.records import MAX_PAGE, MAX_PER_PAGE, BadRequest, SearchRequest

# The French names of the date fields, as the form labels them.
_DATE_LABELS = {"from": "Du", "to": "Au"}


def _int(args: MultiDict, name: str, default: int, high: int) -> int:
    raw = args.get(name, "").strip()
    if not raw:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 6:
        raise BadRequest(f"bad_{name}", f"« {name} » doit être un entier entre 1 et {high}.")
    return int(raw)


def _date(args: MultiDict, name: str, end: bool):
    raw = args.get(name, "").strip()
    try:
        return dates.parse(raw, end=end)
    except ValueError:
        raise BadRequest(f"bad_{name}", dates.bad_date(_DATE_LABELS[name], raw)) from None


def _values(args: MultiDict, name: str) -> tuple[str, ...]:
    """Every non-empty value of a repeated parameter: ``section=a&section=b``."""
    return tuple(v.strip() for v in args.getlist(name) if v.strip())[:20]


def search_request(args: MultiDict, per_page: int = 10) -> SearchRequest:
    """Build a SearchRequest from query-string parameters; raises BadRequest."""
    date_from, date_to = _date(args, "from", end=False), _date(args, "to", end=True)
    swapped = bool(date_from and date_to and date_from > date_to)
    if swapped:  # « du 2023 au 2019 »: from the start of 2019 to the end of 2023
        date_from, date_to = _date(args, "to", end=False), _date(args, "from", end=True)
    preset = args.get("period", "").strip()
    if preset:
        if preset not in dates.PRESETS:
            raise BadRequest("bad_period", dates.bad_preset(preset))
        date_from, date_to = dates.preset(preset), None
    return SearchRequest(
        q=args.get("q", ""),
        page=_int(args, "page", 1, MAX_PAGE),
        per_page=_int(args, "per_page", per_page, MAX_PER_PAGE),
        sort=args.get("sort", "").strip() or "relevance",
        date_from=date_from,
        date_to=date_to,
        sections=_values(args, "section"),
        sources=_values(args, "source"),
        verbatim=args.get("verbatim", "") == "1",
        dates_swapped=swapped,
    )
