"""Cluster locations: what the --index option and NEWSSEARCH_INDEX accept."""

import pytest

from newssearch.opensearch import connection
from newssearch.opensearch.connection import BUILTIN, CUSTOM, Location

CASES = [
    ("opensearch+http://localhost:9200/news",
     Location("http://localhost:9200", "news", None, None, CUSTOM)),
    ("opensearch+https://search.example.org/archive",
     Location("https://search.example.org:443", "archive", None, None, CUSTOM)),
    ("opensearch+http://admin:s%40cret@10.0.0.5:9201/news?analysis=builtin",
     Location("http://10.0.0.5:9201", "news", "admin", "s@cret", BUILTIN)),
    ("opensearch+http://[::1]:9200/news", Location("http://[::1]:9200", "news")),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_a_location_reads_as_typed(text, expected):
    assert connection.parse(text) == expected


@pytest.mark.parametrize("text", [
    "opensearch+ftp://host/news", "opensearch+http:///news", "opensearch+http://host:9200/",
    "opensearch+http://host:9200/News", "opensearch+http://host:9200/a/b",
    "opensearch+http://host:9200/news?analysis=english", "index",
])
def test_a_bad_location_is_refused_saying_why(text):
    with pytest.raises(ValueError, match="opensearch|NAME|analysis|OpenSearch"):
        connection.parse(text)


def test_a_location_shows_without_its_password():
    location = connection.parse("opensearch+http://admin:secret@host:9200/news")
    assert str(location) == "opensearch+http://admin@host:9200/news"
    assert "secret" not in repr(location)


def test_directories_are_not_locations():
    assert not connection.is_location("index")
    assert not connection.is_location("/srv/opensearch+http/index")
    assert connection.is_location("opensearch+http://h:1/x")


def test_an_article_survives_the_trip_through_an_opensearch_document():
    from datetime import date

    from newssearch.articles import Article
    from newssearch.opensearch import fields

    article = Article("a1", "Réforme des retraites", "Le texte.", "Le chapeau.",
                      date(2020, 1, 9), "https://x/1", "L'Opinion", "Société", ("retraites",))
    doc = fields.source(article, "/data/a.jsonl")
    assert fields.article(doc) == article
    assert doc["section_key"] == "societe" and doc["title_key"] == "reforme des retraites"
    assert doc["text"] == "Le chapeau.\n\nLe texte." and doc["year"] == "2020"
    undated = fields.source(Article("a2", "Sans date", "x"))
    assert fields.article(undated).date is None and undated["day"] == ""
    assert fields.path("title_exact") == "title.exact" and fields.path("source") == "source"
