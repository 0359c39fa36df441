"""Fixtures chaining tiny French corpora to real indexes on disk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newssearch import indexer

ARTICLES = [
    {"id": "elysee-reforme", "title": "L’Élysée défend la réforme des retraites",
     "lede": "Le président de la République a reçu les syndicats à l’Élysée.",
     "body": "Les manifestations se poursuivent à Paris et à Saint-Denis.\n\n"
             "Le gouvernement promet des annonces cet été.",
     "date": "2023-01-12", "url": "https://example.org/elysee", "section": "politique",
     "source": "AFP", "tags": ["retraites"]},
    {"id": "kim-poutine", "title": "Kim Jong-un et Vladimir Poutine se rencontrent",
     "lede": "Le dirigeant nord-coréen est arrivé au cosmodrome de Vostotchny.",
     "body": "Les deux hommes ont parlé de satellites et de la guerre en Ukraine.",
     "published_time": "2023-09-13T10:00:00+02:00", "url": "https://example.org/kim",
     "section": "monde", "source": "Reuters"},
    {"id": "ecole-noel", "title": "Les élèves de l’école fêtent Noël",
     "lede": "Un spectacle à Saint-Denis pour les vacances.",
     "body": "Les élèves ont chanté devant leurs parents. Le maire était présent.",
     "date": "2019-12-20", "section": "societe", "source": "AFP"},
    {"id": "porte-avions", "title": "Le porte-avions Charles-de-Gaulle appareille",
     "lede": "Le navire quitte Toulon pour la Méditerranée.",
     "body": "Les avions de chasse sont à bord. L’équipage compte 2 000 marins.",
     "date": "2020-03-02", "section": "france", "source": "6Medias"},
]


@pytest.fixture
def articles() -> list[dict]:
    """A handful of French news articles as JSON records."""
    return [dict(a) for a in ARTICLES]


@pytest.fixture
def corpus_dir(tmp_path: Path, articles: list[dict]) -> Path:
    """A directory holding the articles as a JSONL file."""
    directory = tmp_path / "articles"
    directory.mkdir()
    with open(directory / "news.jsonl", "w", encoding="utf-8") as f:
        for a in articles:
            f.write(json.dumps(a, ensure_ascii=False) + "\n")
    return directory


@pytest.fixture
def index_dir(tmp_path: Path, corpus_dir: Path) -> Path:
    """A real index of the corpus, built by the indexer."""
    directory = tmp_path / "index"
    indexer.rebuild([corpus_dir], directory)
    return directory


@pytest.fixture
def app(index_dir: Path):
    """The Flask app over the test index."""
    from newssearch.web import create_app

    return create_app({"TESTING": True, "INDEX_DIR": str(index_dir)})


@pytest.fixture
def client(app):
    """A test client of the app."""
    return app.test_client()


@pytest.fixture(scope="session")
def osmem_server():
    """One OpenSearch-speaking server on loopback for the wire tests (osmem's plugin fixture,
    whose close() leaves its stdout pipe open: a ResourceWarning, an error here)."""
    from osmem_server import OsmemServer

    server = OsmemServer.start()
    yield server
    server.close()
    server.process.stdout.close()

