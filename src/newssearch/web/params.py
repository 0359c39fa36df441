"""Reading request parameters into SearchRequest, with French 400 messages."""

from __future__ import annotations

import re
from datetime import date

from werkzeug.datastructures import MultiDict

from newssearch.records import MAX_PAGE, MAX_PER_PAGE, BadRequest, SearchRequest

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def _int(args: MultiDict, name: str, default: int, high: int) -> int:
    raw = args.get(name, "").strip()
    if not raw:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 6:
        raise BadRequest(f"bad_{name}", f"« {name} » doit être un entier entre 1 et {high}.")
    return int(raw)


def _date(args: MultiDict, name: str) -> date | None:
    raw = args.get(name, "").strip()
    if not raw:
        return None
    try:
        if not _DATE.fullmatch(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"bad_{name}",
                         f"« {name} » doit être une date AAAA-MM-JJ (reçu « {raw[:20]} »).") \
            from None


def search_request(args: MultiDict, per_page: int = 10) -> SearchRequest:
    """Build a SearchRequest from query-string parameters; raises BadRequest."""
    return SearchRequest(
        q=args.get("q", ""),
        page=_int(args, "page", 1, MAX_PAGE),
        per_page=_int(args, "per_page", per_page, MAX_PER_PAGE),
        sort=args.get("sort", "").strip() or "relevance",
        date_from=_date(args, "from"),
        date_to=_date(args, "to"),
        section=args.get("section", "").strip() or None,
        source=args.get("source", "").strip() or None,
    )
