"""Hostile and random input: schemathesis generates requests from /openapi.json; no answer may be a 5xx.

A bounded run is part of the test suite (KG_FUZZ_EXAMPLES examples per endpoint, 15 by default); the long
run is `KG_FUZZ_EXAMPLES=500 .venv/bin/python -m pytest -q tests/test_fuzz_api.py` (17,500 requests).
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from kg.serve.app import create_app
from kg.serve.openapi import get_rules, openapi_path

EXAMPLES = int(os.environ.get("KG_FUZZ_EXAMPLES", "15"))


@pytest.fixture(scope="module")
def app(full_store):
    return create_app(full_store)


def operations(app):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_no_server_errors(app):
    ops = operations(app)
    # every GET route of the app is fuzzed (the description is generated from url_map; tests/test_openapi.py
    # checks that each route and the parameters its view reads are declared in kg/serve/api_params.toml);
    # schemathesis leaves out the route serving the description itself (it takes no parameters)
    assert sorted(op.path for op in ops) == sorted(
        openapi_path(r.rule) for r in get_rules(app) if r.rule != "/openapi.json"
    )
    seen = {"requests": 0}
    for op in ops:

        @given(case=op.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case):
            response = case.call()
            seen["requests"] += 1
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path} {case.query} -> {response.status_code}: {response.text[:300]}"
            )

        run()
    assert seen["requests"] >= len(ops)


@pytest.mark.parametrize(
    "path",
    [
        "/search?q=%3Cscript%3Ealert(1)%3C/script%3E",
        "/resource?iri=javascript:alert(1)",
        "/resource?iri=http://x/%3Cscript%3E",
        "/study/idr/..%2F..%2Fetc%2Fpasswd",
        "/downloads/..%2F..%2Fetc%2Fpasswd",
        "/api/annotate?text=%3Cimg%20src=x%20onerror=alert(1)%3E",
        "/gide/api/entry/%3Cscript%3E",
    ],
)
def test_hostile_paths_are_escaped_or_refused(app, path):
    r = app.test_client().get(path, headers={"Accept": "text/html"})
    assert r.status_code < 500
    body = r.get_data(as_text=True)
    if r.content_type.startswith("text/html"):
        assert "<script>alert(1)</script>" not in body and "<img src=x onerror=alert(1)>" not in body
    else:  # JSON echoes the text as data, never as a page (and browsers are told not to sniff)
        assert r.content_type.startswith("application/json") and r.headers["X-Content-Type-Options"] == "nosniff"
