"""Downloads, VoID and DCAT: /downloads (+ files), /.well-known/void, /catalog — content-negotiated."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, send_from_directory

from ..formats import serialize
from ..store.dumps import read_manifest, verified
from .dcat import dcat_triples
from .generation_cache import cached
from .negotiation import json_twin_requested, page_representation
from .void import void_triples

bp = Blueprint("exchange", __name__)

PREFIXES = {
    "void": "http://rdfs.org/ns/void#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "kg": "https://w3id.org/gide-kg/vocab#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


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
    return _rdf(
        cached("void", base, lambda: void_triples(store, base, current_app.config["KG_SOURCES"])), "VoID description"
    )


@bp.route("/catalog")
def catalog():
    store = current_app.config["KG_STORE"]
    return _rdf(
        dcat_triples(store, _base(), current_app.config["KG_SOURCES"], read_manifest(_dumps_dir())), "DCAT catalogue"
    )


def _served_manifest() -> tuple[dict | None, str]:
    """The manifest with only the files whose checksum matches it, and a note on what is still being
    written (the harvest's follow-up runs in the background under `kg up`)."""
    folder = _dumps_dir()
    manifest = read_manifest(folder)
    background = current_app.config.get("KG_BACKGROUND")
    note = background.note("dumps") if background is not None else ""
    if manifest is None:
        return None, note
    whole = [d for d in manifest.get("dumps", []) if verified(folder, d)]
    left_out = len(manifest.get("dumps", [])) - len(whole)
    if left_out and not note:
        note = f"{left_out} dump file(s) do not match their checksum in dumps.json (being rewritten, or damaged) and are not offered"
    return {**manifest, "dumps": whole}, note


@bp.route("/downloads")
def downloads():
    manifest, note = _served_manifest()
    if json_twin_requested():
        if manifest is None:
            message = note or "no dumps have been written yet (kg harvest writes them)"
            return jsonify(error="Not Found", status=404, message=message), 404
        return jsonify({**manifest, "note": note} if note else manifest)
    return render_template("downloads.html", manifest=manifest, note=note)


@bp.route("/downloads/<name>")
def download(name: str):
    folder = _dumps_dir()
    manifest = read_manifest(folder)
    entry = next((d for d in (manifest or {}).get("dumps", []) if d["file"] == name), None)
    if entry is None:  # only files the manifest lists: no path traversal, no stray files
        abort(404, description=f"no dump named {name!r}")
    if not verified(folder, entry):  # a download tool gets JSON it can log, and when to retry
        resp = jsonify(
            error="Service Unavailable",
            status=503,
            message=f"{name} does not match its checksum in dumps.json: "
            "it is being rewritten (or was damaged); try again after the harvest has finished",
        )
        resp.status_code = 503
        resp.headers["Retry-After"] = "30"
        return resp
    return send_from_directory(folder, name, mimetype="application/gzip", as_attachment=True)
