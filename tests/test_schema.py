"""The schema: its fields, the folding of facet names, and the Whoosh it needs."""

from __future__ import annotations

import pytest

from newssearch import schema
from newssearch.articles import Article


def test_every_field_name_constant_is_a_field_of_the_schema():
    names = {getattr(schema, n) for n in ("ID", "TITLE", "LEDE", "BODY", "URL", "TAGS", "TEXT",
                                          "TITLE_EXACT", "TEXT_EXACT", "DATE", "DAY", "YEAR",
                                          "SECTION", "SOURCE", "TITLE_KEY", "FINGERPRINT",
                                          "ORIGIN")}
    assert names == set(schema.build_schema().names())


@pytest.mark.parametrize(("typed", "key"), [
    ("Société", "societe"), ("societe", "societe"), ("  SOCIÉTÉ ", "societe"),
    ("L'Opinion", "opinion"), ("l’Opinion", "opinion"), ("Le Parisien", "le parisien"),
    ("France 24", "france 24"), ("6Médias", "6medias"),
])
def test_facet_names_fold_as_a_filter_types_them(typed, key):
    assert schema.facet_key(typed) == key


def test_a_document_stores_what_stored_article_reads_back():
    from datetime import date
    article = Article(id="a1", title="Un titre", body="Le corps.", lede="Le chapeau.",
                      date=date(2024, 1, 5), url="https://example.org/a1", source="AFP",
                      section="monde", tags=("un", "deux"))
    doc = schema.document(article, "/tmp/a.jsonl")
    stored = {k: v for k, v in doc.items() if k in schema.build_schema().stored_names()}
    assert schema.stored_article(stored) == article
    assert doc[schema.ORIGIN] == "/tmp/a.jsonl"


def test_another_whoosh_is_refused_with_a_clear_error(monkeypatch):
    import whoosh
    monkeypatch.setattr(whoosh, "__version__", (2, 7, 4))
    monkeypatch.setattr(whoosh, "versionstring", lambda: "2.7.4")
    with pytest.raises(ImportError, match=r"needs Whoosh-Reloaded 2\.7\.5, found 2\.7\.4"):
        schema.require_whoosh()
