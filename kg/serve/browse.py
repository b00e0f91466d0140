"""Human pages with machine twins: home, search, study pages, any-IRI browse pages, named queries.

Every resource page negotiates: HTML for browsers; Turtle, JSON-LD, N-Triples, RDF/XML by Accept or
`?format=ttl|jsonld|nt|rdfxml`; the page data as JSON by `?format=json`.
"""

from __future__ import annotations

import json
import string
from functools import lru_cache
from urllib.parse import quote

import pyoxigraph as ox
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from markupsafe import Markup, escape

from ..config import QUERIES
from ..formats import serialize
from ..namespaces import source_graph
from ..store.stats import collect_stats
from . import describe, term_page
from .generation_cache import cached, current_generation
from .links import ext_link, is_iri, safe_href
from .negotiation import page_representation
from .queries import named_queries
from .study_view import study_view
from .templating import url_for_memo

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
    return [
        (label, f"{base}{sep}format={fmt}")
        for label, fmt in (("Turtle", "ttl"), ("JSON-LD", "jsonld"), ("N-Triples", "nt"), ("JSON", "json"))
    ]


def repository_source(publisher: str) -> str | None:
    """The source a repository's canonical study pages are named by: the first configured source that
    the publisher harvests (its crates), so /study/idr/… whether the crate or the study file said it."""
    return next((name for name, src in _sources().items() if src.publisher == publisher), None)


def canonical_study_path(publisher: str, accession: str) -> str | None:
    source = repository_source(publisher)
    return url_for_memo("browse.study", source=source, accession=accession) if source else None


# urllib's quote(s, safe="") of an ASCII string, as one str.translate (quote walks it byte by byte)
_PERCENT = {c: f"%{c:02X}" for c in range(128) if chr(c) not in string.ascii_letters + string.digits + "_.-~"}


@lru_cache(maxsize=8192)  # predicates and terms recur on every study page
def quote_all(value: str) -> str:
    """`quote(value, safe="")`: every character but letters, digits and `_.-~` percent-encoded."""
    return value.translate(_PERCENT) if value.isascii() else quote(value, safe="")


@bp.app_template_filter("browse")
def browse_link(iri: str, root: str | None = None) -> str:
    """The browse page of an IRI (built directly: url_for costs 0.4 ms a link on term-heavy pages).
    `root`: the request's script root, if the caller has it already."""
    return f"{request.script_root if root is None else root}/resource?iri={quote_all(iri)}"


def iri_link(value, text=None, root: str | None = None) -> Markup:
    """An IRI as a link to its browse page (titled with the IRI), shown as `text` or itself; plain
    text stays text. The templates' `iri_link` (a Python function: cheaper than a Jinja macro).
    `root`: the request's script root, if the caller has it already."""
    label = escape(text or value)
    if is_iri(value):
        href = browse_link(value, root)
        return Markup(f'<a href="{escape(href)}" title="{escape(value)}">{label}</a>')
    return label


@bp.app_template_global()
def statement_rows(statements: list[dict]) -> Markup:
    """The rows of a study page's "What each source says" table (study_view.by_source's statements): the
    predicate linked to its browse page; the value as `iri_link`, an `ext` link when safe, else text.
    Built in Python: a page has dozens of rows, and Jinja's per-row attribute and filter calls cost
    more than the rest of the page."""
    root = request.script_root
    rows = []
    for st in statements:
        value = st["value"]
        if st["is_iri"]:
            cell = iri_link(value, st["value_label"], root)
        elif safe_href(value):
            cell = ext_link(value)
        else:
            cell = escape(value)
        href = escape(browse_link(st["predicate"], root))
        rows.append(f'<tr><td><a href="{href}">{escape(st["predicate_label"])}</a></td><td>{cell}</td></tr>')
    return Markup("".join(rows))


bp.add_app_template_filter(safe_href, "safe_href")
bp.add_app_template_filter(is_iri, "is_iri")
bp.add_app_template_global(ext_link, "ext")
bp.add_app_template_global(iri_link, "iri_link")


def repository_counts(store) -> list[dict]:
    """Studies per repository: the one definition every page uses. A study counts once, for the
    repository that publishes it (schema:publisher), whichever source graphs describe it — the named
    query queries/studies-per-repository.rq, the same rule as /search's Repository facet."""
    q = next(q for q in named_queries(QUERIES) if q.name == "studies-per-repository")
    out = []
    for r in store.query(q.text):
        pub = r["repository"].value
        source = repository_source(pub)
        out.append(
            {
                "repository": pub,
                "name": r["name"].value,
                "studies": int(r["studies"].value),
                "source": source,
                "search": url_for("portal.search", publisher=pub),
            }
        )
    return out


@bp.route("/")
def home():
    store = _store()

    def build() -> dict:
        stats = collect_stats(store, _sources())
        return {
            "repositories": repository_counts(store),
            "sources": stats["sources"],
            "studies": stats["studies"],
            "triples": sum(stats["graphs"].values()),
            "graphs": stats["graphs"],
            "queries": [{"name": q.name, "title": q.title, "answers": q.answers} for q in named_queries(QUERIES)],
        }

    data = cached("home", "", build)
    if _representation() == "json":
        return jsonify(data)
    return render_template("home.html", **data)


@bp.route("/study/<source>/<path:accession>")
def study(source: str, accession: str):
    """One page per study, named by its repository and accession; the page shows what every source
    graph says. Other sources' paths (/study/idr-study/idr0003) redirect here permanently."""
    if source not in _sources():
        abort(404, description=f"unknown repository {source!r}; known: {', '.join(_sources())}")
    store = _store()
    publisher = _sources()[source].publisher
    iri = cached("study-iri", (publisher, accession), lambda: study_iri(store, accession, publisher))
    if iri is None:
        abort(404, description=f"no study {accession!r} in {_sources()[source].label}")
    canonical = repository_source(publisher)
    if canonical != source:
        target = url_for("browse.study", source=canonical, accession=accession)
        return redirect(target + ("?" + request.query_string.decode() if request.query_string else ""), code=301)
    rep = _representation()
    if rep not in ("html", "json"):
        return _rdf_response(iri, rep)
    summary, labels = cached("study", iri, lambda: study_data(store, iri))
    if rep == "json":
        return jsonify(summary)
    # the rendered page too is kept per generation (and host): a later visit costs the generation check
    return cached(
        "study-html",
        (iri, request.url_root),
        lambda: render_template(
            "study.html",
            s=study_view(summary, _sources(), store, labels),
            source=_sources()[source],
            alternates=_alternates(request.path),
            jsonld=schema_org(summary),
            canonical=request.url_root.rstrip("/") + request.path,
        ),
    )


def _current_summaries():
    """The indexes when they hold the study records (kg/indexes.py) of the generation being served."""
    from .app import indexes

    idx = indexes()
    if idx.summaries is not None and idx.generation == current_generation().partition("+")[0]:
        return idx
    return None


def study_iri(store, accession: str, publisher: str) -> str | None:
    """The study a page shows (describe.find_study): looked up in the indexes of this generation when
    they hold every study's key, else asked of the store."""
    idx = _current_summaries()
    if idx is None:
        return describe.find_study(store, accession, publisher)
    return idx.summaries.pages.get((publisher, accession))


def study_data(store, iri: str) -> tuple[dict, dict[str, str] | None]:
    """The study's page summary with its similar studies, and the labels of its statements: read from
    its record computed with the indexes of this generation (kg/indexes.py), so a first visit neither
    runs the page's ~20 queries nor ranks the other studies; queried and ranked when there is none
    (labels None: study_view asks for them)."""
    idx = _current_summaries()
    record = idx.summaries.record(iri) if idx is not None else None
    if record is None:
        return dict(describe.study_summary(store, iri), similar=similar_studies(iri)), None
    summary, labels, similar = record
    by_iri = idx.studies.by_iri
    return dict(summary, similar=[_similar_entry(by_iri[o], score, shared) for o, score, shared in similar]), labels


def similar_studies(iri: str) -> list[dict]:
    from .app import indexes

    return [_similar_entry(d, score, shared) for d, score, shared in indexes().studies.similar(iri)]


def _similar_entry(doc, score: float, shared: list[str]) -> dict:
    return {
        "iri": doc.iri,
        "name": doc.name,
        "repository": doc.publisher_name,
        "page": study_path(doc),
        "score": round(score, 3),
        "shared": shared,
    }


def study_path(doc) -> str:
    """The canonical page of a study in the search index."""
    return (
        canonical_study_path(doc.publisher, doc.identifier)
        if doc.publisher and doc.identifier
        else url_for("browse.resource", iri=doc.iri)
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
        "creator": [
            {"@type": "Person", "name": a["name"], **({"sameAs": a["orcid"]} if a.get("orcid") else {})}
            for a in s.get("authors", [])
            if a.get("name")
        ],
        "publisher": {"@type": "Organization", "@id": s.get("publisher"), "name": s.get("publisherName")},
        "includedInDataCatalog": {"@type": "DataCatalog", "name": s.get("publisherName"), "url": s.get("publisher")},
        "about": [
            {"@type": "Taxon", "@id": o["term"], "name": o.get("label") or o.get("sourceLabel")}
            for o in s.get("organisms", [])
        ]
        + [
            {"@type": "DefinedTerm", "@id": m["term"], "name": m.get("label") or m.get("sourceLabel")}
            for m in s.get("methods", [])
        ],
        "measurementTechnique": [m.get("label") or m.get("sourceLabel") or m["term"] for m in s.get("methods", [])]
        or None,
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
    iri = describe.find_study(_store(), accession, _sources()[source].publisher)
    if iri is None:
        abort(404, description=f"no study {accession!r} in {_sources()[source].label}")
    graphs = describe.study_graphs(_store(), iri)
    crate = crate_for(_store(), iri, source_graph(source) if source_graph(source) in graphs else graphs[0])
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
    key = describe.study_key(store, iri)
    if rep == "html" and key and request.args.get("raw") is None:
        target = canonical_study_path(*key)
        if target:
            return redirect(target, code=303)
    if rep not in ("html", "json"):
        return _rdf_response(iri, rep)
    data = dict(cached("statements", iri, lambda: describe.statements(store, iri)))
    data["term"] = cached("term", iri, lambda: term_details(store, iri))
    term = data["term"]
    if not data["outgoing"] and not data["incoming"] and not term["used"] and not term["vocabulary"]:
        abort(404, description=f"nothing in the graph mentions {iri}")
    data["label"] = data["label"] or (term["ontology"] or {}).get("label") or (term["vocabulary"] or {}).get("label")
    if rep == "json":
        return jsonify(data)
    return render_template(
        "resource.html", d=data, t=term, alternates=_alternates(f"{request.path}?iri={quote(iri, safe='')}")
    )


DEFINITION_PREDICATES = (
    "http://purl.obolibrary.org/obo/IAO_0000115",
    "http://www.w3.org/2004/02/skos/core#definition",
    "http://www.w3.org/2000/01/rdf-schema#comment",
)


def term_details(store, iri: str) -> dict:
    """A term's meaning and use: vocabulary entry, definition, usage counts, ontology panel."""
    from .app import indexes
    from .portal import FACET_PARAMS

    use = term_page.usage(store, iri)
    idx = indexes()
    onto = term_page.ontology_term(iri, idx.terms, idx.studies, FACET_PARAMS)
    defs = [
        r["o"].value
        for r in store.query(
            f"SELECT ?o WHERE {{ VALUES ?p {{ {' '.join(f'<{p}>' for p in DEFINITION_PREDICATES)} }} {describe._iri(iri)} ?p ?o FILTER(isLiteral(?o)) }} LIMIT 3"
        )
    ]
    vocab = term_page.vocabulary_entry(iri)
    definition = (
        (onto or {}).get("definition") or defs or ([vocab["definition"]] if vocab and vocab.get("definition") else [])
    )
    return {
        "vocabulary": vocab,
        "definition": definition,
        "usage": use,
        "used": bool(use["as_predicate"] or use["as_class"]),
        "ontology": onto,
    }


@bp.route("/queries")
def queries():
    qs = named_queries(QUERIES)
    if _representation() == "json":
        return jsonify([q.__dict__ for q in qs])
    return render_template("queries.html", queries=qs)
