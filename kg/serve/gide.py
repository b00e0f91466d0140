"""gide-search's API under /gide: /search, /api/entry/{id}, /health, /openapi.json and /docs.

Defaults follow gide-search (BioImage-Archive/gide-search `search/api.py`, `search/indexer.py`) so its
portal and clients work unchanged: exact-IRI filters and facets on the values each entry lists (its index's
taxon_ids / imaging_method_ids, licence, datePublished year), aggregated as its Elasticsearch
aggregations are (over the whole result, top 10 publishers / 200 organisms / 70 methods / 50 licences,
a yearly histogram newest first with empty years inside the range), publisher ids with their final
slash, hits whose `entry` is its `Dataset` document, and FastAPI's 422 `{detail: [{loc, msg, type}]}`
for bad parameters. Our extensions are opt-in: `expand=true`, `extras=true` (our facets, the expansion
used, per-entry links) and our own filters.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request

from ..search import SearchQuery, StudyIndex
from ..search.entries import index_fields, publisher_id
from ..search.facets import facets, gide_publisher_name
from .search_params import ParamError, openapi_parameters, parse_search

bp = Blueprint("gide", __name__)

# gide-search's terms-aggregation sizes (search/indexer.py)
BUCKETS = {"repository": 10, "organism": 200, "imaging_method": 70, "license": 50}


def _studies() -> StudyIndex:
    from .portal import studies

    return studies()


def licence_label(iri: str) -> str | None:
    """gide-search's licence label (`map_licence`): CC0, or "CC BY NC SA 3.0" from a Creative Commons URL."""
    prefix = "https://creativecommons.org/"
    if not iri.startswith(prefix):
        return None
    path = iri[len(prefix) - 1 :]
    if path == "/publicdomain/zero/1.0/":
        return "CC0"
    parts = path.split("/")
    if len(parts) < 4:
        return None
    return f"CC {parts[2].replace('-', ' ').upper()} {parts[3]}"


def _years(buckets: list[dict]) -> list[dict]:
    """A yearly histogram as Elasticsearch's date_histogram gives it: newest first, empty years kept."""
    counts = {int(b["key"]): b["count"] for b in buckets if b["key"].isdigit()}
    if not counts:
        return []
    return [{"key": str(y), "count": counts.get(y, 0), "label": None} for y in range(max(counts), min(counts) - 1, -1)]


def gide_facets(result, idx: StudyIndex, extras: bool) -> dict:
    out: dict[str, list[dict]] = {}
    for f in facets().values():
        buckets = result.facets.get(f.name, [])
        if f.name == "year":
            out[f.gide] = _years(buckets)
        elif f.name == "repository":
            out[f.gide] = [
                {"key": publisher_id(b["key"]), "count": b["count"], "label": gide_publisher_name(b["key"])}
                for b in buckets[: BUCKETS[f.name]]
            ]
        elif f.name == "license":
            out[f.gide] = [
                {"key": b["key"], "count": b["count"], "label": licence_label(b["key"])}
                for b in buckets[: BUCKETS[f.name]]
            ]
        elif f.gide:
            out[f.gide] = buckets[: BUCKETS[f.name]]
        elif extras:
            out[f.param] = buckets
    return out


def our_facets(result) -> dict:
    """Every facet, keyed by its URL parameter (`year_published` for the year), for /search's JSON."""
    return {
        ("year_published" if f.name == "year" else f.param): result.facets.get(f.name, []) for f in facets().values()
    }


def entry(doc, extras: bool, index_extras: bool = False) -> dict:
    """The study's Dataset document; gide-search's index fields for /api/entry; our links with extras."""
    out = dict(doc.entry)
    if index_extras:
        out.update(index_fields(doc.entry))
    if extras:
        from .portal import study_path

        out["size_bytes"] = doc.size_bytes or None
        out["study_page"] = request.url_root.rstrip("/") + study_path(doc)
    return out


def response(sq: SearchQuery, result, idx: StudyIndex, gide: bool, extras: bool) -> dict:
    if gide and not sq.q:
        score = (
            0.0 if (sq.filters or sq.year_from or sq.year_to or sq.require_thumbnail) else 1.0
        )  # ES: filter context / match_all
    else:
        score = None
    body = {
        "total": result.total,
        "hits": [
            {
                "id": d.iri,
                "entry": entry(d, extras or not gide, index_extras=not gide),
                "score": score if score is not None else round(s, 4),
            }
            for d, s in result.hits
        ],
        "facets": gide_facets(result, idx, extras) if gide else our_facets(result),
    }
    if extras or not gide:
        body.update(offset=sq.offset, size=sq.size, expand=sq.expand, expanded=result.expanded)
        if sq.offset and sq.offset >= result.total:
            body["notice"] = f"offset {sq.offset} is past the last result ({result.total} results)"
    return body


def unprocessable(e: ParamError):
    resp = jsonify(detail=e.errors)
    resp.status_code = 422
    return resp


@bp.route("/gide/search")
def search():
    """gide-search's GET /search."""
    try:
        sq, opts = parse_search(request.query_string, request.args, "/gide/search")
    except ParamError as e:
        return unprocessable(e)
    idx = _studies()
    return jsonify(response(sq, idx.search(sq), idx, gide=True, extras=opts["extras"]))


@bp.route("/gide/api/entry/<path:entry_id>")
def api_entry(entry_id: str):
    """gide-search's GET /api/entry/{id}: the indexed document (Dataset + taxon_ids, imaging_method_ids)."""
    if len(entry_id) > 2048:
        return jsonify(
            detail=[
                {
                    "type": "string_too_long",
                    "loc": ["path", "entry_id"],
                    "msg": "String should have at most 2048 characters",
                    "input": None,
                }
            ]
        ), 422
    idx = _studies()
    doc = idx.by_iri.get(entry_id) or next((d for d in idx.docs if d.identifier == entry_id), None)
    if doc is None and entry_id.startswith("http"):
        doc = idx.by_iri.get(entry_id.rstrip("/") + "/") or idx.by_iri.get(entry_id.rstrip("/"))
    if doc is None:
        return jsonify(detail=f"no study {entry_id!r}"), 404
    return jsonify(entry(doc, extras=False, index_extras=True))


@bp.route("/gide/health")
def health():
    """gide-search's GET /health: 200 and status "healthy" when the store answers."""
    store = current_app.config["KG_STORE"]
    try:
        graphs = len(store.public_graphs())
    except Exception as e:  # noqa: BLE001 — a store that cannot answer is the one thing health reports
        return jsonify(status="degraded", store=f"unavailable: {type(e).__name__}"), 500
    return jsonify(status="healthy", store="connected", graphs=graphs)


def openapi() -> dict:
    """An OpenAPI 3.1 description of the /gide routes, from the parameter declaration the parser reads."""
    err = {
        "description": "Validation error",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "detail": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["loc", "msg", "type"],
                                "properties": {
                                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                                    "msg": {"type": "string"},
                                    "type": {"type": "string"},
                                },
                            },
                        }
                    },
                }
            }
        },
    }
    ok = {"description": "Successful Response", "content": {"application/json": {"schema": {"type": "object"}}}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "gide-kg: gide-search-compatible API",
            "version": "0.1.0",
            "description": "gide-search's search API (same parameters, response and errors) over the GIDE knowledge graph.",
        },
        "servers": [{"url": request.url_root.rstrip("/") + "/gide"}],
        "paths": {
            "/search": {
                "get": {
                    "summary": "Search",
                    "description": "Search studies with optional filters; facet counts over the result.",
                    "operationId": "search",
                    "parameters": openapi_parameters("/gide/search"),
                    "responses": {"200": ok, "422": err},
                }
            },
            "/api/entry/{entry_id}": {
                "get": {
                    "summary": "Get Entry",
                    "operationId": "get_entry",
                    "parameters": [{"name": "entry_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {"200": ok, "404": {"description": "Not Found"}},
                }
            },
            "/health": {
                "get": {"summary": "Health Check", "operationId": "health_check", "responses": {"200": ok, "500": ok}}
            },
        },
    }


@bp.route("/gide/openapi.json")
def openapi_json():
    return jsonify(openapi())


@bp.route("/gide/docs")
def docs():
    """The API description as a page (rendered here; no script or stylesheet from elsewhere)."""
    return render_template("gide_docs.html", api=openapi())
