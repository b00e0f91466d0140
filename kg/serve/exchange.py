"""Downloads, VoID and DCAT: /downloads (+ files), /.well-known/void, /catalog — content-negotiated."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, send_from_directory

from ..formats import serialize
from ..store.dumps import dcat_catalog, read_manifest
from .generation_cache import cached
from .negotiation import json_twin_requested, page_representation
from .void import void_triples

bp = Blueprint("exchange", __name__)

PREFIXES = {"void": "http://rdfs.org/ns/void#", "dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/",
            "kg": "https://w3id.org/gide-kg/vocab#", "xsd": "http://www.w3.org/2001/XMLSchema#"}


def _dumps_dir() -> Path | None:
    d = current_app.config.get("KG_DUMPS")
    return Path(d) if d else None


def _rdf(triples: list, title: str):
    fmt = page_representation(json_twin=False, html_first=False)
    if fmt == "html":
        ttl = ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES).decode()
        return render_template("rdf_doc.html", title=title, turtle=ttl)
    body, ctype = serialize(triples, fmt, PREFIXES)
    resp = Response(body, content_type=ctype)
    resp.headers["Vary"] = "Accept"
    return resp


def _base() -> str:
    return request.url_root.rstrip("/")


@bp.route("/.well-known/void")
def void():
    store, base = current_app.config["KG_STORE"], _base()
    # counting every graph takes seconds: once per harvest generation (and base URL)
    return _rdf(cached("void", base, lambda: void_triples(store, base, current_app.config["KG_SOURCES"])), "VoID description")


@bp.route("/catalog")
def catalog():
    store = current_app.config["KG_STORE"]
    return _rdf(dcat_catalog(store, _base(), current_app.config["KG_SOURCES"], read_manifest(_dumps_dir())), "DCAT catalogue")


@bp.route("/downloads")
def downloads():
    manifest = read_manifest(_dumps_dir())
    if json_twin_requested():
        if manifest is None:
            return jsonify(error="Not Found", status=404, message="no dumps have been written yet (kg harvest writes them)"), 404
        return jsonify(manifest)
    return render_template("downloads.html", manifest=manifest)


@bp.route("/downloads/<name>")
def download(name: str):
    folder = _dumps_dir()
    manifest = read_manifest(folder)
    names = {d["file"] for d in (manifest or {}).get("dumps", [])}
    if name not in names:  # only files the manifest lists: no path traversal, no stray files
        abort(404, description=f"no dump named {name!r}")
    return send_from_directory(folder, name, mimetype="application/gzip", as_attachment=True)
