"""/openapi.json is generated from the app's routes and kg/serve/api_params.toml; these tests keep the
declaration true: every GET route declared, every query parameter a view reads declared for its route,
no declared route that is gone, and every declared integer bound the one the view enforces.

The views' reads are observed, not guessed: the app runs with a request class whose `args` note each
name a view asks for (get, getlist, [], in) while the view function runs (the error handlers, which
look at `format` on every route, are outside that window).
"""

from __future__ import annotations

import contextvars
from urllib.parse import quote, urlencode

import pytest
from flask import Request
from werkzeug.datastructures import ImmutableMultiDict

from kg.serve.app import create_app
from kg.serve.openapi import (
    DECLARATIONS,
    accepted_names,
    declarations,
    get_rules,
    openapi_path,
    path_variables,
    query_params,
)

TOML = f"kg/serve/{DECLARATIONS.name}"
_reads: contextvars.ContextVar[set | None] = contextvars.ContextVar("reads", default=None)


class RecordingArgs(ImmutableMultiDict):
    """Query arguments that note which names are asked for while a view runs."""

    def _note(self, key):
        seen = _reads.get()
        if seen is not None:
            seen.add(key)

    def __getitem__(self, key):
        self._note(key)
        return super().__getitem__(key)

    def get(self, key, default=None, type=None):
        self._note(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):
        self._note(key)
        return super().getlist(key, type)

    def __contains__(self, key):
        self._note(key)
        return super().__contains__(key)


class RecordingRequest(Request):
    parameter_storage_class = RecordingArgs


@pytest.fixture(scope="module")
def app(full_store):
    app = create_app(full_store)
    app.request_class = RecordingRequest
    app.config["READS"] = reads = {}
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if getattr(view, "_recording", False):
            continue

        def recording(*args, _view=view, **kwargs):
            from flask import request

            seen = reads.setdefault(request.url_rule.rule, set())
            token = _reads.set(seen)
            try:
                return _view(*args, **kwargs)
            finally:
                _reads.reset(token)

        recording._recording = True
        app.view_functions[rule.endpoint] = recording
    return app


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


def example_path(rule: str) -> str:
    """The rule with each path variable replaced by its declared example (URL-encoded once)."""
    path = openapi_path(rule)
    declared = declarations()["routes"].get(rule, {}).get("path", {})
    for name, _ in path_variables(rule):
        path = path.replace("{" + name + "}", quote(str(declared.get(name, {}).get("example", "x")), safe=""))
    return path


def _text(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def example_query(rule: str, only_required: bool = False) -> dict[str, str]:
    return {
        n: _text(p["example"])
        for n, p in query_params(rule).items()
        if "example" in p and (p.get("required") or not only_required)
    }


def _snippet(rule: str) -> str:
    lines = [
        f'[routes."{rule}"]',
        'summary = "…"  # one line: what it answers',
        'media = ["application/json"]  # its 200 media types',
    ]
    lines += [f'path.{name} = {{ description = "…", example = "…" }}' for name, _ in path_variables(rule)]
    return "\n".join(lines)


def test_every_get_route_is_declared(app):
    missing = [r.rule for r in get_rules(app) if r.rule not in declarations()["routes"]]
    assert not missing, (
        f"{len(missing)} GET route(s) of the app are not declared in {TOML}; add (and a `params.NAME = {{…}}` "
        "line per query parameter the view reads):\n\n" + "\n\n".join(_snippet(r) for r in missing)
    )


def test_no_declared_route_is_gone_and_groups_exist(app):
    rules = {r.rule for r in get_rules(app)}
    gone = sorted(set(declarations()["routes"]) - rules)
    assert not gone, f'{TOML} declares routes the app no longer has; remove [routes."…"] for: {", ".join(gone)}'
    groups = declarations()["groups"]
    unknown = sorted(
        {(rule, g) for rule, r in declarations()["routes"].items() for g in r.get("groups", []) if g not in groups}
    )
    assert not unknown, f"{TOML}: routes name groups that are not declared under [groups.…]: {unknown}"


def test_openapi_json_lists_every_route_and_parameter(app, client):
    doc = client.get("/openapi.json").get_json()
    assert doc["openapi"] == "3.0.3" and doc["servers"] == [{"url": "http://localhost"}]
    paths = doc["paths"]
    rules = get_rules(app)
    assert sorted(paths) == sorted(openapi_path(r.rule) for r in rules)
    assert len(paths) == len(rules) == len(declarations()["routes"])  # no two rules share a path
    for r in rules:
        op = paths[openapi_path(r.rule)]["get"]
        assert "x-undeclared" not in op, f"{r.rule} is not declared in {TOML}"
        names = {(p["name"], p["in"]) for p in op["parameters"]}
        assert {(n, "path") for n, _ in path_variables(r.rule)} <= names
        assert {(n, "query") for n in query_params(r.rule)} <= names
    search = {p["name"]: p for p in paths["/search"]["get"]["parameters"]}
    assert {"anatomy", "biological_process", "year", "cell_line", "publisher[]"} <= set(search)
    assert search["size"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 100}
    assert (
        search["organism"]["schema"] == {"type": "array", "items": {"type": "string"}} and search["organism"]["explode"]
    )
    term = {p["name"]: p for p in paths["/api/ontologies/{oid}/terms/{rest}"]["get"]["parameters"]}
    assert term["rest"]["in"] == "path" and term["rest"]["required"] is True


def test_views_read_only_declared_parameters(app, client):
    """Each route is asked without parameters and with every declared example, for HTML and for JSON."""
    for r in get_rules(app):
        path = example_path(r.rule)
        for query in ({}, example_query(r.rule)):
            url = path + ("?" + urlencode(query) if query else "")
            for accept in ("text/html", "application/json"):
                assert client.get(url, headers={"Accept": accept}).status_code < 500, url
    reads = app.config["READS"]
    assert len(reads) == len(get_rules(app))  # every view ran
    undeclared = {
        rule: sorted(names - accepted_names(rule)) for rule, names in reads.items() if names - accepted_names(rule)
    }
    assert not undeclared, (
        f"views read query parameters that {TOML} does not declare; add under each route:\n\n"
        + "\n\n".join(
            f'[routes."{rule}"]\n' + "\n".join(f'params.{n} = {{ description = "…", example = "…" }}' for n in names)
            for rule, names in undeclared.items()
        )
    )
    assert {"anatomy", "biological_process", "year", "publisher[]"} <= reads["/search"]
    assert {"query", "default-graph-uri", "named-graph-uri", "format", "example", "update"} <= reads["/sparql"]
    assert {"q", "childrenOf", "allChildrenOf", "inclusive", "fieldList", "rows", "start"} <= reads["/api/search"]


def bounded_params(app) -> list[tuple[str, str, dict]]:
    return [
        (r.rule, name, p)
        for r in get_rules(app)
        for name, p in query_params(r.rule).items()
        if p.get("type") == "integer" and ("minimum" in p or "maximum" in p)
    ]


def test_declared_integer_bounds_are_the_views(app, client):
    """At a declared bound the view answers; one past it, a 400 with a message (so the fuzzer's ranges are real)."""
    checked = 0
    for rule, name, p in bounded_params(app):
        base = example_query(rule, only_required=True)
        for bound, step in (("minimum", -1), ("maximum", 1)):
            if bound not in p:
                continue
            edge = p[bound]
            ok = client.get(
                example_path(rule) + "?" + urlencode({**base, name: edge}), headers={"Accept": "application/json"}
            )
            past = client.get(
                example_path(rule) + "?" + urlencode({**base, name: edge + step}),
                headers={"Accept": "application/json"},
            )
            assert ok.status_code != 400, (
                f"{rule}?{name}={edge} is refused, but {TOML} declares {bound} = {edge}: {ok.get_data(as_text=True)[:200]}"
            )
            refused = 422 if rule.startswith("/gide/") else 400  # /gide answers as FastAPI does
            assert past.status_code == refused, (
                f"{rule}?{name}={edge + step} answers {past.status_code}, but {TOML} declares {bound} = {edge}"
            )
            assert name in past.get_data(as_text=True)
            checked += 1
    assert checked == 2 * len(bounded_params(app))
