"""/openapi.json: an OpenAPI 3 description of the public GET endpoints (used by fuzzers and client generators)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

bp = Blueprint("openapi", __name__)


def _p(name: str, where: str = "query", required: bool = False, schema: dict | None = None, desc: str = "") -> dict:
    return {"name": name, "in": where, "required": required or where == "path", "schema": schema or {"type": "string"}, "description": desc}


def _op(summary: str, params: list[dict], media: tuple[str, ...] = ("application/json",)) -> dict:
    content = {m: {"schema": {}} for m in media}
    return {"get": {"summary": summary, "parameters": params,
                    "responses": {"200": {"description": "OK", "content": content},
                                  "303": {"description": "See Other"},
                                  "400": {"description": "Bad request, with a message"},
                                  "403": {"description": "Forbidden"},
                                  "404": {"description": "Not found"},
                                  "406": {"description": "No acceptable representation"}}}}


def spec(base: str) -> dict:
    integer = {"type": "integer"}
    search_params = [_p("q"), _p("publisher"), _p("organism"), _p("imaging_method"), _p("license"), _p("cell_line"),
                     _p("study_type"), _p("ome_zarr"), _p("year_from", schema=integer), _p("year_to", schema=integer),
                     _p("size", schema=integer), _p("offset", schema=integer), _p("page", schema=integer),
                     _p("sort"), _p("expand"), _p("require_thumbnail")]
    html = ("text/html", "application/json")
    return {
        "openapi": "3.0.3",
        "info": {"title": "GIDE knowledge graph", "version": "0.1.0",
                 "description": "SPARQL, search, study pages, OLS4-compatible term API and exchange formats."},
        "servers": [{"url": base}],
        "paths": {
            "/sparql": _op("SPARQL 1.1 query (GET form)", [_p("query"), _p("format"), _p("default-graph-uri"), _p("named-graph-uri")],
                           ("application/sparql-results+json", "text/turtle", "text/html")),
            "/search": _op("Search studies (HTML or JSON)", search_params + [_p("format")], html),
            "/gide/search": _op("GIDE-search-compatible search", search_params),
            "/gide/api/entry/{entry_id}": _op("One study (GIDE entry shape)", [_p("entry_id", "path")]),
            "/study/{source}/{accession}": _op("Study page", [_p("source", "path"), _p("accession", "path"), _p("format")], html),
            "/resource": _op("Any IRI in the graph", [_p("iri", required=True), _p("format"), _p("raw")], html),
            "/queries": _op("Named queries", [_p("format")], html),
            "/stats": _op("Statistics", [_p("format")], html),
            "/quality": _op("Metadata quality", [_p("format")], html),
            "/provenance": _op("Harvest provenance", [_p("format")], html),
            "/health": _op("Health", []),
            "/.well-known/void": _op("VoID", [_p("format")], ("text/turtle", "text/html")),
            "/catalog": _op("DCAT catalogue", [_p("format")], ("text/turtle", "text/html")),
            "/api/ontologies": _op("Ontologies (OLS4)", [_p("page", schema=integer), _p("size", schema=integer)]),
            "/api/ontologies/{onto}": _op("One ontology (OLS4)", [_p("onto", "path")]),
            "/api/ontologies/{onto}/terms": _op("Terms (OLS4)", [_p("onto", "path"), _p("iri"), _p("short_form"), _p("obo_id"),
                                                                 _p("page", schema=integer), _p("size", schema=integer)]),
            "/api/search": _op("Term search (OLS4)", [_p("q"), _p("ontology"), _p("exact"), _p("rows", schema=integer),
                                                      _p("start", schema=integer), _p("fieldList"), _p("childrenOf"), _p("allChildrenOf")]),
            "/api/select": _op("Autocomplete (OLS4)", [_p("q"), _p("ontology"), _p("rows", schema=integer)]),
            "/api/suggest": _op("Suggestions (OLS4)", [_p("q"), _p("ontology"), _p("rows", schema=integer)]),
            "/api/annotate": _op("Ground free text", [_p("text"), _p("ontology"), _p("rows", schema=integer)]),
            "/api/terms-expand": _op("A term and its descendants", [_p("iri")]),
        },
    }


@bp.route("/openapi.json")
def openapi():
    return jsonify(spec(request.url_root.rstrip("/")))
