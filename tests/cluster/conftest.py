"""The cluster suite: the API and CLI tests over both backends.

The OpenSearch half runs when ``NEWSSEARCH_TEST_OPENSEARCH`` names a cluster
(``http(s)://[user:password@]host:port``, with ``?analysis=builtin`` for one that
cannot run our chain) and is skipped, saying so, otherwise. Each test gets its own
alias, loaded with the same conftest articles as the Whoosh index, and deleted after.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from newssearch import indexer
from newssearch.opensearch import cluster, connection

ENV = "NEWSSEARCH_TEST_OPENSEARCH"


def cluster_location(name: str) -> str | None:
    """A location on the test cluster for the alias ``name`` (None: no cluster named)."""
    url = os.environ.get(ENV, "").strip()
    if not url:
        return None
    base, _, query = url.partition("?")
    return f"opensearch+{base.rstrip('/')}/{name}" + (f"?{query}" if query else "")


@pytest.fixture(params=["whoosh", "opensearch"])
def backend(request) -> str:
    """Which backend the test runs on."""
    if request.param == "opensearch" and cluster_location("x") is None:
        pytest.skip(f"no cluster: set {ENV}=http://host:9200 to run the cluster suite")
    return request.param


@pytest.fixture
def empty_index(backend, tmp_path):
    """Where a test may build an index: a new directory, or a new alias on the cluster."""
    if backend == "whoosh":
        yield tmp_path / "ix"
        return
    where = cluster_location(f"newssearch-test-{uuid.uuid4().hex[:12]}")
    yield where
    location = connection.parse(where)
    client = connection.client(location)
    # Only this test's own indexes: NAME-<timestamp>, the alias's builds.
    for index in client.indices.get(index=f"{location.alias}-*", ignore_unavailable=True):
        if cluster.aliases.is_ours(location, index):
            client.indices.delete(index=index)


@pytest.fixture
def index_dir(empty_index, corpus_dir):
    """The conftest articles, indexed on the backend (a Path, or a location's text)."""
    if isinstance(empty_index, Path):
        indexer.rebuild([corpus_dir], empty_index)
    else:
        cluster.rebuild([corpus_dir], connection.parse(empty_index))
    return empty_index
