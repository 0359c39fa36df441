"""Schemathesis against the app's own OpenAPI description, through the WSGI app itself.

Checks: no 5xx, documented status codes and content types, bodies valid against the
schema. Positive cases are schema-valid requests; negative ones break the schema on
purpose. The checks that a schema-valid request is accepted and an invalid one refused
are left out: the API refuses a day that does not exist (2020-02-31, which the schema's
pattern cannot say) and takes empty form fields (from=, sort=) for absent ones, as HTML
forms send them.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup

from newssearch.web import create_app

EXAMPLES = 50  # per operation and mode
CHECKS = [schemathesis.checks.not_a_server_error,
          schemathesis.checks.status_code_conformance,
          schemathesis.checks.content_type_conformance,
          schemathesis.checks.response_headers_conformance,
          schemathesis.checks.response_schema_conformance]
OPERATIONS = [(path, mode) for path in ("/api/search", "/api/suggest", "/api/articles/{id}",
                                        "/health")
              for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
              if (path, mode) != ("/health", GenerationMode.NEGATIVE)]  # no input to break
# Inputs that find something in the test corpus (tests/conftest.py), mixed into the generated
# ones so that hits, facets and articles are validated too, not only empty answers.
FOUND = {"/api/search": ("q", ["noel", "saint-denis", "retraites -greve", "elysee OR kim",
                               "manifestatoins", "titre:porte-avions"]),
         "/api/suggest": ("q", ["sa", "pou", "le president de la re"]),
         "/api/articles/{id}": ("id", ["elysee-reforme", "kim-poutine", "ecole-noel",
                                       "porte-avions"])}

@pytest.fixture
def schema(index_dir: Path):
    """The OpenAPI description as the app serves it, bound to the app (not in testing mode)."""
    app = create_app({"INDEX_DIR": str(index_dir)})
    app.logger.disabled = True
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


def known_facets_failure(failure, response) -> bool:
    """The empty-query facets mismatch, tracked by test_empty_query_response_matches_schema."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return False
    return (response.status_code == 200 and body.get("facets") == {} and
            '"section" is a required property' in (failure.message or ""))


@pytest.mark.parametrize(("path", "mode"), OPERATIONS,
                         ids=[f"{p}-{m.value}" for p, m in OPERATIONS])
def test_api_matches_its_openapi_description(schema, path: str, mode: GenerationMode):
    operation = schema[path]["GET"]
    cases = operation.as_strategy(generation_mode=mode)
    if path in FOUND and mode is GenerationMode.POSITIVE:
        name, values = FOUND[path]
        where = "path_parameters" if name == "id" else "query"
        cases = st.one_of(cases, st.sampled_from(values).flatmap(
            lambda v: operation.as_strategy(generation_mode=mode, **{where: {name: v}})))
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    known = 0

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=cases)
    def check(case) -> None:
        nonlocal known
        query = case.query or {}
        response = case.call()
        statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as group:
            for failure in group.exceptions:
                if known_facets_failure(failure, response):
                    known += 1
                else:
                    failures.append(f"{failure.title}: {failure.message[:300]} "
                                    f"(query {json.dumps(query)[:200]}, "
                                    f"path {case.path_parameters})")

    check()
    print(f"\nfuzz {path} ({mode.value}): {sum(statuses.values())} requests, statuses "
          f"{dict(sorted(statuses.items()))}, {len(failures)} failures, {known} known "
          "(empty-query facets)")
    assert sum(statuses.values()) >= min(EXAMPLES, 10) or path == "/health"
    assert not [s for s in statuses if s >= 500]
    assert failures == []


@pytest.mark.parametrize("query", [{}, {"q": ""}, {"q": "*"}, {"q": "((( -"}])
def test_empty_query_response_matches_schema(schema, query: dict):
    case = schema["/api/search"]["GET"].Case(query=query)
    response = case.call()
    assert response.status_code == 200
    case.validate_response(response, checks=CHECKS)


WRITE_KEY = "clé-de-fuzz"
WRITES = [(path, method, mode) for path, method in (("/api/articles", "POST"),
                                                    ("/api/articles/{id}", "PUT"),
                                                    ("/api/articles/{id}", "DELETE"))
          for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]


@pytest.fixture
def write_schema(index_dir: Path, tmp_path: Path):
    """The OpenAPI description with the write API on, bound to the app."""
    (tmp_path / "keys").write_text(WRITE_KEY + "\n", "utf-8")
    app = create_app({"INDEX_DIR": str(index_dir), "API_KEY_FILE": str(tmp_path / "keys"),
                      "WRITE_WAIT": 1.0})
    app.logger.disabled = True
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


@pytest.mark.parametrize(("path", "method", "mode"), WRITES,
                         ids=[f"{m}-{p}-{g.value}" for p, m, g in WRITES])
def test_write_api_matches_its_openapi_description(write_schema, path, method, mode):
    operation = write_schema[path][method]
    statuses: Counter[int] = Counter()
    failures: list[str] = []

    calls = Counter[str]()

    @settings(max_examples=20, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case) -> None:
        calls["all"] += 1
        keyed = calls["all"] % 4 != 0  # every fourth call without the key
        headers = {"Authorization": f"Bearer {WRITE_KEY}"} if keyed else {}
        response = case.call(headers=headers)
        statuses[response.status_code] += 1
        if not keyed:
            assert response.status_code == 401
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as group:
            failures.extend(f"{f.title}: {f.message[:300]} (body {str(case.body)[:200]})"
                            for f in group.exceptions)

    check()
    print(f"\nfuzz {method} {path} ({mode.value}): statuses {dict(sorted(statuses.items()))}")
    assert not [s for s in statuses if s >= 500]
    assert failures == []
