"""/openapi.json: an OpenAPI 3 description of the public GET endpoints (for fuzzers and client generators),
generated from the app's routes (`url_map`) and the parameter declarations in `api_params.toml`.

Every GET route of the app appears, declared or not (an undeclared one is marked `x-undeclared`, and
tests/test_openapi.py fails on it), so the description cannot silently lose a route.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request

bp = Blueprint("openapi", __name__)

DECLARATIONS = Path(__file__).with_name("api_params.toml")
_VARIABLE = re.compile(r"<(?:(?P<converter>[a-zA-Z_]+)(?:\([^)]*\))?:)?(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)>")
_TYPES = {"string", "integer", "boolean"}
_RESPONSES = {
    "303": {"description": "See Other"},
    "400": {"description": "Bad request, with a message"},
    "403": {"description": "Forbidden"},
    "404": {"description": "Not found"},
    "406": {"description": "No acceptable representation"},
}


@cache
def declarations() -> dict[str, Any]:
    """The parsed declaration file: {"groups": {...}, "routes": {rule: {...}}} (read once per process)."""
    with DECLARATIONS.open("rb") as f:
        data = tomllib.load(f)
    return {"groups": data.get("groups", {}), "routes": data.get("routes", {})}


def get_rules(app: Flask) -> list:
    """The app's routes answering GET, in rule order (HEAD and OPTIONS come with them)."""
    return sorted((r for r in app.url_map.iter_rules() if "GET" in (r.methods or ())), key=lambda r: r.rule)


def openapi_path(rule: str) -> str:
    """`/study/<source>/<path:accession>` → `/study/{source}/{accession}`."""
    return _VARIABLE.sub(lambda m: "{" + m.group("name") + "}", rule)


def path_variables(rule: str) -> list[tuple[str, str]]:
    """(name, converter) of each variable in a rule."""
    return [(m.group("name"), m.group("converter") or "default") for m in _VARIABLE.finditer(rule)]


def query_params(rule: str) -> dict[str, dict]:
    """A declared route's query parameters: its groups' in order, then its own (own ones win)."""
    decl = declarations()
    route = decl["routes"].get(rule, {})
    merged: dict[str, dict] = {}
    for group in route.get("groups", []):
        merged.update(decl["groups"][group])
    merged.update(route.get("params", {}))
    return merged


def accepted_names(rule: str) -> set[str]:
    """Every query-parameter name a declared route accepts, aliases included."""
    return {n for name, p in query_params(rule).items() for n in (name, *p.get("aliases", ()))}


def _schema(p: dict) -> dict:
    kind = p.get("type", "string")
    if kind not in _TYPES:
        raise ValueError(f"{DECLARATIONS.name}: type {kind!r} is not one of {sorted(_TYPES)}")
    schema: dict[str, Any] = {"type": kind}
    for bound in ("minimum", "maximum"):
        if bound in p:
            schema[bound] = p[bound]
    return {"type": "array", "items": schema} if p.get("repeat") else schema


def _parameter(name: str, where: str, p: dict, required: bool = False) -> dict:
    out = {"name": name, "in": where, "required": required or bool(p.get("required")), "schema": _schema(p)}
    if p.get("description"):
        out["description"] = p["description"]
    if "example" in p:
        out["example"] = [p["example"]] if p.get("repeat") else p["example"]
    if p.get("repeat"):
        out["style"], out["explode"] = "form", True
    return out


def operation(rule: str) -> dict:
    """The OpenAPI GET operation of one rule."""
    route = declarations()["routes"].get(rule)
    params = [
        _parameter(name, "path", (route or {}).get("path", {}).get(name, {}), required=True)
        for name, _ in path_variables(rule)
    ]
    for name, p in query_params(rule).items():
        params.append(_parameter(name, "query", p))
        for alias in p.get("aliases", ()):
            params.append(_parameter(alias, "query", {**p, "description": f"same as {name}", "required": False}))
    media = (route or {}).get("media", ["application/json"])
    op: dict[str, Any] = {
        "summary": (route or {}).get("summary", "undeclared route: add it to kg/serve/api_params.toml"),
        "operationId": "get_" + re.sub(r"[^A-Za-z0-9]+", "_", openapi_path(rule)).strip("_")
        if rule != "/"
        else "get_home",
        "parameters": params,
        "responses": {"200": {"description": "OK", "content": {m: {"schema": {}} for m in media}}, **_RESPONSES},
    }
    if route is None:
        op["x-undeclared"] = True
    return {"get": op}


def spec(app: Flask, base: str) -> dict:
    """The whole description for an app served at `base`."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "GIDE knowledge graph",
            "version": "0.1.0",
            "description": "SPARQL, search, study pages, OLS4-compatible term API and exchange formats.",
        },
        "servers": [{"url": base}],
        "paths": {openapi_path(r.rule): operation(r.rule) for r in get_rules(app)},
    }


@bp.route("/openapi.json")
def openapi():
    return jsonify(spec(current_app, request.url_root.rstrip("/")))
