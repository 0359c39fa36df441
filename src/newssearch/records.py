"""The plain records SearchService returns; the web page, the API and the CLI render them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date

# "date" is newest first (its name since the first API); "date_asc" oldest first.
SORTS = ("relevance", "date", "date_asc")
MAX_PER_PAGE = 100
MAX_PAGE = 1000


class BadRequest(ValueError):
    """A request parameter is invalid; the message says which and why (in French)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class SearchRequest:
    """What a user asked for."""

    q: str
    page: int = 1
    per_page: int = 10
    sort: str = "relevance"
    date_from: date | None = None
    date_to: date | None = None
    section: str | None = None
    source: str | None = None
    collapse: bool = True
    highlight: bool = True  # off for evaluation runs, which only need the ranking
    facets: bool = True
    # Several sections or sources: any of them (OR); sections and sources both apply (AND).
    # ``section`` and ``source`` are folded into these.
    sections: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    verbatim: bool = False  # search the words as typed, never a correction
    dates_swapped: bool = False  # set when "from" came after "to" and the two were swapped

    def __post_init__(self) -> None:
        for single, many in (("section", "sections"), ("source", "sources")):
            value = getattr(self, single)
            values = tuple(dict.fromkeys(v for v in (value, *getattr(self, many)) if v))
            object.__setattr__(self, many, values)
            object.__setattr__(self, single, values[0] if values else None)
        if self.date_from and self.date_to and self.date_from > self.date_to:
            # A period typed backwards means the same period: search it, and say so.
            early, late = self.date_to, self.date_from
            object.__setattr__(self, "date_from", early)
            object.__setattr__(self, "date_to", late)
            object.__setattr__(self, "dates_swapped", True)
        if not 1 <= self.page <= MAX_PAGE:
            raise BadRequest("bad_page", f"« page » doit être entre 1 et {MAX_PAGE}.")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise BadRequest("bad_per_page",
                             f"« per_page » doit être entre 1 et {MAX_PER_PAGE}.")
        if self.sort not in SORTS:
            raise BadRequest("bad_sort",
                             "« sort » vaut « relevance », « date » ou « date_asc ».")


@dataclass(frozen=True)
class Hit:
    """One result, with its title and snippet already escaped and marked."""

    id: str
    title: str
    title_html: str
    snippet_html: str
    url: str
    date: date | None
    source: str
    section: str
    score: float
    duplicates: int = 0


@dataclass(frozen=True)
class Suggestion:
    """A corrected query, in the index's own spelling, and how many results it has."""

    text: str
    html: str
    total: int


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int
    label: str = ""  # the name to show: « Société » for the section "societe"


@dataclass(frozen=True)
class Period:
    """A month (``2019-12``) or a year (``2019``) of the timeline, and its matches."""

    period: str
    count: int


@dataclass(frozen=True)
class SearchPage:
    """One page of results and everything the page around it shows."""

    query: str
    total: int
    page: int
    per_page: int
    pages: int
    sort: str
    took_ms: float
    hits: tuple[Hit, ...]
    suggestion: Suggestion | None = None
    notices: tuple[str, ...] = ()
    facets: dict[str, tuple[FacetValue, ...]] = field(default_factory=dict)
    histogram: tuple[Period, ...] = ()
    corrected_from: str | None = None  # the query as typed, when these results are a correction

    def to_json(self) -> dict:
        """Return the API's JSON body."""
        data = asdict(self)
        data["hits"] = list(data["hits"])
        for hit in data["hits"]:
            hit["date"] = hit["date"].isoformat() if hit["date"] else None
        data["notices"] = list(self.notices)
        data["facets"] = {k: [asdict(v) for v in vs] for k, vs in self.facets.items()}
        data["histogram"] = [asdict(p) for p in self.histogram]
        return data


@dataclass(frozen=True)
class ArticleView:
    """A whole article, as the article page shows it."""

    id: str
    title: str
    title_html: str
    lede_html: str
    body_html: str
    url: str
    date: date | None
    source: str
    section: str
    tags: tuple[str, ...]

    def to_json(self) -> dict:
        data = asdict(self)
        data["date"] = self.date.isoformat() if self.date else None
        data["tags"] = list(self.tags)
        return data


@dataclass(frozen=True)
class IndexInfo:
    """What /health reports."""

    documents: int
    schema_version: int
    built_at: str


@dataclass(frozen=True)
class Health:
    """The /health body: the index answers, and what it holds."""

    status: str
    documents: int
    schema_version: int
    built_at: str

    @classmethod
    def of(cls, info: IndexInfo) -> Health:
        return cls("ok", info.documents, info.schema_version, info.built_at)

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Completions:
    """The /api/suggest body: the query as received and its completions."""

    query: str
    suggestions: tuple[str, ...]

    def to_json(self) -> dict:
        return {"query": self.query, "suggestions": list(self.suggestions)}


@dataclass(frozen=True)
class ApiError:
    """An error of the JSON API: its HTTP status and the one body shape of every endpoint."""

    status: int
    code: str
    message: str

    def to_json(self) -> dict:
        # The status travels in the response line, not in the body.
        return {"error": {"code": self.code, "message": self.message}}


@dataclass(frozen=True)
class ArticleResult:
    """What became of one article of a pushed body."""

    position: int  # its place in the body: 1 for a single article, the line for JSON lines
    id: str | None
    status: str  # "accepted" or "rejected"
    reason: str = ""  # the reason code `newssearch index` reports (bad-json, no-text, …)
    message: str = ""

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class WriteReport:
    """The answer to a push: how many articles were stored, how many refused, and each one."""

    accepted: int
    rejected: int
    results: tuple[ArticleResult, ...]

    def to_json(self) -> dict:
        return {"accepted": self.accepted, "rejected": self.rejected,
                "results": [r.to_json() for r in self.results]}
