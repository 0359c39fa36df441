"""The Whoosh schema, its version, and the document an article becomes."""

from __future__ import annotations

from datetime import datetime

from whoosh import fields
from whoosh.fields import Schema

from newssearch.analysis import (
    ANALYSIS_VERSION,
    FrenchPositions,
    exact_analyzer,
    stemmed_analyzer,
    terms,
)
from newssearch.articles import Article

# postings.py, columns.py and segments.py use internals of exactly this release.
WHOOSH_VERSION = (2, 7, 5)


def require_whoosh() -> None:
    """Refuse to run over another Whoosh than the one whose internals newssearch mirrors."""
    import whoosh

    found = tuple(whoosh.__version__[:3])
    if found != WHOOSH_VERSION:
        raise ImportError(
            f"newssearch needs Whoosh-Reloaded {'.'.join(map(str, WHOOSH_VERSION))}, found "
            f"{whoosh.versionstring()}: its segment reader and writer use that release's "
            "internals. Install it with: pip install 'Whoosh-Reloaded==2.7.5'")


# The index's field names, written here only.
ID, TITLE, LEDE, BODY, URL, TAGS = "id", "title", "lede", "body", "url", "tags"
TEXT = "text"  # the lede and the body, stemmed
TITLE_EXACT, TEXT_EXACT = "title_exact", "text_exact"  # folded, unstemmed, stop words kept
DATE, DAY, YEAR = "date", "day", "year"
SECTION, SOURCE = "section", "source"
TITLE_KEY, FINGERPRINT, ORIGIN = "title_key", "fingerprint", "origin"
STEMMED_FIELDS = (TITLE, TEXT)
EXACT_FIELDS = (TITLE_EXACT, TEXT_EXACT)
TEXT_FIELDS = (*STEMMED_FIELDS, *EXACT_FIELDS)  # scored, with lengths and positions
TITLE_FIELDS = (TITLE, TITLE_EXACT)
FACET_FIELDS = (SECTION, SOURCE)  # filtered by name

# Bump the revision when fields change; analysis changes bump ANALYSIS_VERSION.
SCHEMA_VERSION = ANALYSIS_VERSION * 100 + 8  # 8: positions as 7-bit gaps


def build_schema() -> Schema:
    """Return the schema: stemmed fields for ranking, exact-form copies, facets."""
    stemmed, exact = stemmed_analyzer(), exact_analyzer()
    schema = Schema(**{
        ID: fields.ID(unique=True, stored=True, sortable=True),
        TITLE: fields.TEXT(analyzer=stemmed, stored=True),
        LEDE: fields.STORED(),
        BODY: fields.STORED(),
        # Lede and body, searched as one text: they weighed the same as two fields.
        TEXT: fields.TEXT(analyzer=stemmed),
        # Folded but unstemmed, every word kept: exact forms, stop-word phrases, spelling.
        TITLE_EXACT: fields.TEXT(analyzer=exact),
        TEXT_EXACT: fields.TEXT(analyzer=exact),
        DATE: fields.DATETIME(stored=True),
        # Sort and facet columns. Every document gets a value, "" when it has none:
        # Whoosh 2.7 drops the trailing empty entries of a column, and reading them
        # then fails (an update of one undated article did).
        DAY: fields.ID(sortable=True),
        YEAR: fields.ID(sortable=True),
        # Facets keep the names as written; filters map a typed name onto them (facet_key).
        SECTION: fields.ID(stored=True, sortable=True),
        SOURCE: fields.ID(stored=True, sortable=True),
        URL: fields.STORED(),
        TAGS: fields.KEYWORD(stored=True, commas=True, lowercase=True),
        # Wire copies share a headline: collapse on it.
        TITLE_KEY: fields.ID(sortable=True),
        FINGERPRINT: fields.ID(sortable=True),
        # The file an article was read from: what gives an update the right to remove it.
        ORIGIN: fields.ID(sortable=True),
    })
    for name in TEXT_FIELDS:
        schema[name].format = FrenchPositions(field_boost=schema[name].format.field_boost)
    return schema


def facet_key(name: str) -> str:
    """Fold a section or source name as a filter types it: ``Société`` and ``societe`` match."""
    return " ".join(terms(name, stemmed=False))


def title_key(title: str) -> str:
    """Normalise a headline, so that republished wire copies share one key."""
    return facet_key(title)


def full_text(lede: str | None, body: str | None) -> str:
    """The text searched and shown under the headline: the lede, then the body."""
    return "\n\n".join(p for p in (lede, body) if p)


def document(article: Article, origin: str = "") -> dict[str, object]:
    """Return the Whoosh document of an article read from the file ``origin``."""
    # The same string objects for the stemmed and exact fields: analysed once for both.
    text = full_text(article.lede, article.body)
    doc: dict[str, object] = {
        ID: article.id, TITLE: article.title, LEDE: article.lede, BODY: article.body,
        TEXT: text, TITLE_EXACT: article.title, TEXT_EXACT: text,
        URL: article.url, TITLE_KEY: title_key(article.title) or article.id,
        FINGERPRINT: article.fingerprint(), ORIGIN: origin,
        SECTION: article.section, SOURCE: article.source, DAY: "", YEAR: "",
    }
    if article.date is not None:
        doc[DATE] = datetime(article.date.year, article.date.month, article.date.day)
        doc[DAY], doc[YEAR] = article.date.isoformat(), str(article.date.year)
    if article.tags:
        doc[TAGS] = ",".join(article.tags)
    return doc


def stored_article(fields: dict) -> Article:
    """The article a document's stored fields hold: what document() stored of it."""
    day = fields.get(DATE)
    return Article(
        id=fields[ID], title=fields.get(TITLE) or "",
        body=fields.get(BODY) or "", lede=fields.get(LEDE) or "",
        date=day.date() if day else None, url=fields.get(URL) or "",
        source=fields.get(SOURCE) or "", section=fields.get(SECTION) or "",
        tags=tuple(t for t in (fields.get(TAGS) or "").split(",") if t))
