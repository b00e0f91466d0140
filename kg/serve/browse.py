"""Human pages with machine twins: home, search, study pages, any-IRI browse pages, named queries.

Every resource page negotiates: HTML for browsers; Turtle, JSON-LD, N-Triples, RDF/XML by Accept or
`?format=ttl|jsonld|nt|rdfxml`; the page data as JSON by `?format=json`.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pyoxigraph as ox
from flask import Blueprint, Response, abort, current_app, jsonify, redirect, render_template, request, url_for

from ..config import QUERIES
from ..formats import serialize
from ..namespaces import source_graph
from ..store.stats import collect_stats
from . import describe
from .negotiation import page_representation
from .queries import named_queries

bp = Blueprint("browse", __name__)


def _store():
    return current_app.config["KG_STORE"]


def _sources():
    return current_app.config["KG_SOURCES"]


def _representation():
    """'html', 'json' or the RdfFormat asked for, by ?format= or the Accept header."""
    return page_representation(json_twin=True)


def _rdf_response(iri: str, fmt) -> Response:
    body, ctype = serialize(describe.describe_graph(_store(), iri), fmt)
    resp = Response(body, content_type=ctype)
    resp.headers["Vary"] = "Accept"
    return resp


def _alternates(base: str) -> list[tuple[str, str]]:
    sep = "&" if "?" in base else "?"
    return [(label, f"{base}{sep}format={fmt}") for label, fmt in (("Turtle", "ttl"), ("JSON-LD", "jsonld"), ("N-Triples", "nt"), ("JSON", "json"))]


def study_url(graph: str, accession: str) -> str | None:
    for name in _sources():
        if source_graph(name) == graph:
            return url_for("browse.study", source=name, accession=accession)
    return None


@bp.app_template_filter("browse")
def browse_link(iri: str) -> str:
    return url_for("browse.resource", iri=iri)


@bp.route("/")
def home():
    store = _store()
    stats = collect_stats(store, _sources())
    data = {
        "sources": stats["sources"],
        "studies": stats["studies"],
        "triples": sum(stats["graphs"].values()),
        "graphs": stats["graphs"],
        "queries": [{"name": q.name, "title": q.title, "answers": q.answers} for q in named_queries(QUERIES)],
    }
    if _representation() == "json":
        return jsonify(data)
    return render_template("home.html", **data)


@bp.route("/study/<source>/<path:accession>")
def study(source: str, accession: str):
    if source not in _sources():
        abort(404, description=f"unknown repository {source!r}; known: {', '.join(_sources())}")
    store = _store()
    iri = describe.find_study(store, source_graph(source), accession)
    if iri is None:
        abort(404, description=f"no study {accession!r} in {_sources()[source].label}")
    rep = _representation()
    if rep not in ("html", "json"):
        return _rdf_response(iri, rep)
    summary = describe.study_summary(store, iri)
    from .portal import studies, study_path

    index = studies()
    summary["similar"] = [
        {"iri": d.iri, "name": d.name, "repository": d.publisher_name, "page": study_path(d), "score": round(score, 3), "shared": shared}
        for d, score, shared in index.similar(iri)
    ]
    if rep == "json":
        return jsonify(summary)
    return render_template(
        "study.html", s=summary, source=_sources()[source], alternates=_alternates(request.path),
        jsonld=schema_org(summary),
    )


def schema_org(s: dict) -> dict:
    """schema.org Dataset markup for dataset search engines (Google Dataset Search and the like)."""
    data = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "@id": s["iri"],
        "url": s["iri"],
        "identifier": s.get("identifier"),
        "name": s.get("name"),
        "description": (s.get("description") or s.get("name") or "")[:5000],
        "datePublished": s.get("date"),
        "license": s.get("license"),
        "keywords": s.get("keywords") or None,
        "creator": [{"@type": "Person", "name": a["name"], **({"sameAs": a["orcid"]} if a.get("orcid") else {})} for a in s.get("authors", []) if a.get("name")],
        "publisher": {"@type": "Organization", "@id": s.get("publisher"), "name": s.get("publisherName")},
        "includedInDataCatalog": {"@type": "DataCatalog", "name": s.get("publisherName"), "url": s.get("publisher")},
        "about": [{"@type": "Taxon", "@id": o["term"], "name": o.get("label") or o.get("sourceLabel")} for o in s.get("organisms", [])]
                 + [{"@type": "DefinedTerm", "@id": m["term"], "name": m.get("label") or m.get("sourceLabel")} for m in s.get("methods", [])],
        "measurementTechnique": [m.get("label") or m.get("sourceLabel") or m["term"] for m in s.get("methods", [])] or None,
        "citation": [p["publication"] for p in s.get("publications", [])] or None,
        "thumbnailUrl": (s.get("thumbnails") or [None])[0],
    }
    return {k: v for k, v in data.items() if v not in (None, [], "")}


@bp.route("/study/<source>/<path:accession>/ro-crate-metadata.json")
def study_crate(source: str, accession: str):
    """The study as a GIDE search-profile RO-Crate (from its crate source graph)."""
    from ..export.rocrate import crate_for

    if source not in _sources():
        abort(404, description=f"unknown repository {source!r}")
    iri = describe.find_study(_store(), source_graph(source), accession)
    if iri is None:
        abort(404, description=f"no study {accession!r} in {_sources()[source].label}")
    crate = crate_for(_store(), iri, source_graph(source))
    resp = Response(json.dumps(crate, indent=1, ensure_ascii=False), content_type="application/ld+json; charset=utf-8")
    resp.headers["Content-Disposition"] = f'inline; filename="{accession}-ro-crate-metadata.json"'
    return resp


@bp.route("/resource")
def resource():
    iri = request.args.get("iri", "").strip()
    if not iri:
        abort(400, description="give the resource as ?iri=<absolute IRI>")
    try:
        ox.NamedNode(iri)
    except ValueError:
        abort(400, description=f"not a valid IRI: {iri!r}")
    if "://" not in iri and not iri.startswith("urn:"):
        abort(400, description=f"not an absolute IRI: {iri!r}")
    store = _store()
    rep = _representation()
    st = describe.study_source(store, iri)
    if rep == "html" and st and request.args.get("raw") is None:
        target = study_url(*st)
        if target:
            return redirect(target, code=303)
    if rep not in ("html", "json"):
        return _rdf_response(iri, rep)
    data = describe.statements(store, iri)
    if not data["outgoing"] and not data["incoming"]:
        abort(404, description=f"nothing in the graph mentions {iri}")
    if rep == "json":
        return jsonify(data)
    return render_template("resource.html", d=data, alternates=_alternates(f"{request.path}?iri={quote(iri, safe='')}"))


@bp.route("/queries")
def queries():
    qs = named_queries(QUERIES)
    if _representation() == "json":
        return jsonify([q.__dict__ for q in qs])
    return render_template("queries.html", queries=qs)
