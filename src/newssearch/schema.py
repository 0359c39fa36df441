"""The Whoosh schema, its version, and the document an article becomes."""

from __future__ import annotations

from datetime import datetime

from whoosh.fields import DATETIME, ID, KEYWORD, STORED, TEXT, Schema

from newssearch.analysis import (
    ANALYSIS_VERSION,
    FrenchPositions,
    exact_analyzer,
    stemmed_analyzer,
    terms,
)
from newssearch.corpus import Article

# postings.py and segments.py use internals of exactly this release.
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


# Bump the revision when fields change; analysis changes bump ANALYSIS_VERSION.
SCHEMA_VERSION = ANALYSIS_VERSION * 100 + 5


def build_schema() -> Schema:
    """Return the schema: stemmed fields for ranking, exact-form copies, facets."""
    stemmed, exact = stemmed_analyzer(), exact_analyzer()
    schema = Schema(
        id=ID(unique=True, stored=True, sortable=True),
        title=TEXT(analyzer=stemmed, stored=True),
        lede=STORED(),
        body=STORED(),
        # Lede and body, searched as one text: they weighed the same as two fields.
        text=TEXT(analyzer=stemmed),
        # Folded but unstemmed, every word kept: exact forms, stop-word phrases, spelling.
        title_exact=TEXT(analyzer=exact),
        text_exact=TEXT(analyzer=exact),
        date=DATETIME(stored=True),
        # Sort and facet columns. Every document gets a value, "" when it has none:
        # Whoosh 2.7 drops the trailing empty entries of a column, and reading them
        # then fails (an update of one undated article did).
        day=ID(sortable=True),
        year=ID(sortable=True),
        # Facets keep the names as written; filters map a typed name onto them.
        section=ID(stored=True, sortable=True),
        source=ID(stored=True, sortable=True),
        url=STORED(),
        tags=KEYWORD(stored=True, commas=True, lowercase=True),
        # Wire copies share a headline: collapse on it.
        title_key=ID(sortable=True),
        fingerprint=ID(sortable=True),
        # The file an article was read from: what gives an update the right to remove it.
        origin=ID(sortable=True),
    )
    for name in ("title", "text", "title_exact", "text_exact"):
        schema[name].format = FrenchPositions(field_boost=schema[name].format.field_boost)
    return schema


def title_key(title: str) -> str:
    """Normalise a headline, so that republished wire copies share one key."""
    return " ".join(terms(title, stemmed=False))


def full_text(lede: str | None, body: str | None) -> str:
    """The text searched and shown under the headline: the lede, then the body."""
    return "\n\n".join(p for p in (lede, body) if p)


def document(article: Article, origin: str = "") -> dict[str, object]:
    """Return the Whoosh document of an article read from the file ``origin``."""
    # The same string objects for the stemmed and exact fields: analysed once for both.
    text = full_text(article.lede, article.body)
    doc: dict[str, object] = {
        "id": article.id, "title": article.title, "lede": article.lede, "body": article.body,
        "text": text, "title_exact": article.title, "text_exact": text,
        "url": article.url, "title_key": title_key(article.title) or article.id,
        "fingerprint": article.fingerprint(), "origin": origin,
    }
    doc["section"], doc["source"] = article.section, article.source
    doc["day"] = doc["year"] = ""
    if article.date is not None:
        doc["date"] = datetime(article.date.year, article.date.month, article.date.day)
        doc["day"], doc["year"] = article.date.isoformat(), str(article.date.year)
    if article.tags:
        doc["tags"] = ",".join(article.tags)
    return doc


