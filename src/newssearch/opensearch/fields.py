"""An article as an OpenSearch document, and the schema's fields as OpenSearch paths.

The field names are schema.py's; the exact-form copies are sub-fields (``title.exact``)
of the stemmed ones, as OpenSearch writes multi-fields. The mapping (mapping.py),
the query translation and the response parsing all go through ``path``.
"""

from __future__ import annotations

from datetime import date

from newssearch import schema
from newssearch.articles import Article

# Schema field -> OpenSearch field path, for every field a query clause can name.
PATHS = {
    schema.TITLE: "title", schema.TEXT: "text",
    schema.TITLE_EXACT: "title.exact", schema.TEXT_EXACT: "text.exact",
}
# Facet names folded as filters type them (schema.facet_key), beside the names as written.
FACET_KEYS = {schema.SECTION: "section_key", schema.SOURCE: "source_key"}


def path(field: str) -> str:
    """The OpenSearch path of a schema field: ``title_exact`` -> ``title.exact``."""
    return PATHS.get(field, field)


def source(article: Article, origin: str = "") -> dict[str, object]:
    """The ``_source`` of an article read from the file ``origin`` (as schema.document)."""
    doc: dict[str, object] = {
        schema.ID: article.id, schema.TITLE: article.title, schema.LEDE: article.lede,
        schema.BODY: article.body, schema.TEXT: schema.full_text(article.lede, article.body),
        schema.URL: article.url, schema.SECTION: article.section, schema.SOURCE: article.source,
        FACET_KEYS[schema.SECTION]: schema.facet_key(article.section),
        FACET_KEYS[schema.SOURCE]: schema.facet_key(article.source),
        schema.TAGS: list(article.tags),
        schema.TITLE_KEY: schema.title_key(article.title) or article.id,
        schema.FINGERPRINT: article.fingerprint(), schema.ORIGIN: origin,
        schema.DATE: None, schema.DAY: "", schema.YEAR: "",
    }
    if article.date is not None:
        doc[schema.DATE] = doc[schema.DAY] = article.date.isoformat()
        doc[schema.YEAR] = str(article.date.year)
    return doc


def article(doc: dict) -> Article:
    """The article an OpenSearch ``_source`` holds: the inverse of ``source``."""
    day = doc.get(schema.DATE)
    return Article(
        id=doc[schema.ID], title=doc.get(schema.TITLE) or "", body=doc.get(schema.BODY) or "",
        lede=doc.get(schema.LEDE) or "", date=date.fromisoformat(day[:10]) if day else None,
        url=doc.get(schema.URL) or "", source=doc.get(schema.SOURCE) or "",
        section=doc.get(schema.SECTION) or "", tags=tuple(doc.get(schema.TAGS) or ()))
