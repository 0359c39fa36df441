"""Running a plan: the exact sequence first if it has one, then all the words, then some.

What counts as a result is decided here, over any backend's snapshot; the
snapshot evaluates each clause and ranks (backend.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from newssearch import schema
from newssearch.query.parse import Filter
from newssearch.query.plan import Plan, Planner
from newssearch.query.rank import Ranked
from newssearch.query.tree import Clause, MatchAny
from newssearch.records import SearchRequest

# The partial matches of a query are ranked from this many beyond a page of the looser query.
PARTIAL_EXTRA = 20


@dataclass(frozen=True)
class Outcome:
    """A ranking, and when partial matches fill the page, how many articles have every word."""

    ranked: Ranked
    complete: int | None = None


def allowed(snapshot, request: SearchRequest, plan: Plan, planner: Planner,
            notices: list[str]) -> object | None:
    """The articles the query's and the request's filters and dates allow (None: all).

    The request's sections are any of them, its sources too; both apply.
    """
    chosen: dict[str, Clause] = {}
    for fieldname, values in ((schema.SECTION, request.sections),
                              (schema.SOURCE, request.sources)):
        if values:
            unknown = Plan()
            clauses = tuple(planner.filter_query(Filter(fieldname, v), unknown) for v in values)
            chosen[fieldname] = clauses[0] if len(clauses) == 1 else MatchAny(clauses)
            notices.extend(unknown.notices)
    return snapshot.allowed(list(plan.filters), request.date_from, request.date_to, chosen)


def run(snapshot, plan: Plan, allowed: object | None, request: SearchRequest) -> Outcome:
    """Rank a plan's results for one request."""
    by_date = request.sort != "relevance"

    def ranked(clause, limit: int | None = None) -> Ranked:
        want = request.per_page if limit else request.page * request.per_page
        return snapshot.rank(clause, allowed, by_date=by_date, collapse=request.collapse,
                             want=want, limit=limit, proximity=plan.proximity,
                             ascending=request.sort == "date_asc")

    if plan.sequence is not None:
        # La Poste: the articles with the exact sequence, if there are any.
        found = ranked(plan.query(strict=True))
        if found.total:
            return Outcome(found)
    found = ranked(plan.query())
    if found.total < request.per_page and len(plan.required) > 1 and not plan.long:
        # Fewer articles than a page have every word: those with some follow them,
        # on this one page, ranked from the top of the looser query.
        loose = ranked(plan.query(loose=True), limit=request.per_page + PARTIAL_EXTRA)
        if loose.total > found.total:
            return Outcome(loose, found.total)
    return Outcome(found)
