"""OLS4-compatible term API under /api (the v1 REST shapes), so OLS clients work with our base URL.

Paths, parameters and JSON follow EBI OLS4's v1 controllers: HAL pages (`_embedded`, `_links`, `page`),
term objects with `iri, label, description[], synonyms[], obo_id, short_form, has_children, is_root …`,
Solr-like `/search`, `/select` and `/suggest`, and `{error, message, path, status, timestamp}` errors.
Plus `/api/annotate` (ZOOMA-like grounding of free text). Backed by the in-memory TermIndex.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from urllib.parse import quote, unquote

from flask import Blueprint, abort, jsonify, request

from ..terms import Term, TermIndex
from ..terms.ground import candidates, decide

bp = Blueprint("ols", __name__, url_prefix="/api")

RELATIONS = (
    "parents",
    "children",
    "ancestors",
    "descendants",
    "hierarchicalParents",
    "hierarchicalChildren",
    "hierarchicalAncestors",
    "hierarchicalDescendants",
)
MAX_PAGE_SIZE = 500
MAX_ROWS = 1000
DEFAULT_FIELDS = [
    "id",
    "iri",
    "ontology_name",
    "label",
    "description",
    "short_form",
    "obo_id",
    "type",
    "ontology_prefix",
]


def index() -> TermIndex:
    from .app import indexes

    return indexes().terms


def ols_error(status: int, message: str, error: str):
    resp = jsonify(
        error=error,
        message=message,
        path=request.path,
        status=status,
        timestamp=datetime.now(UTC).isoformat(timespec="milliseconds"),
    )
    resp.status_code = status
    return resp


def _bool(name: str, default: bool = False) -> bool:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    abort(ols_error(400, f"parameter {name} must be true or false, not {raw!r}", "Bad Request"))


def _int(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        abort(ols_error(400, f"parameter {name} must be a whole number, not {raw!r}", "Bad Request"))
    if not low <= value <= high:
        abort(ols_error(400, f"parameter {name} must be between {low} and {high}, not {value}", "Bad Request"))
    return value


def _list(name: str) -> list[str]:
    return [v.strip() for raw in request.args.getlist(name) for v in raw.split(",") if v.strip()]


def _base() -> str:
    return request.url_root.rstrip("/") + "/api"


def _enc(iri: str) -> str:
    return quote(quote(iri, safe=""), safe="")


def term_json(t: Term, idx: TermIndex) -> dict:
    onto = idx.ontologies[t.ontology]
    href = f"{_base()}/ontologies/{t.ontology}/terms/{_enc(t.iri)}"
    links = {"self": {"href": href}}
    if t.parents:
        for rel in ("parents", "ancestors", "hierarchicalParents", "hierarchicalAncestors"):
            links[rel] = {"href": f"{href}/{rel}"}
        links["jstree"] = {"href": f"{href}/jstree"}
    if t.children:
        for rel in ("children", "descendants", "hierarchicalChildren", "hierarchicalDescendants"):
            links[rel] = {"href": f"{href}/{rel}"}
    links["graph"] = {"href": f"{href}/graph"}
    defining = idx.defining(t.iri)
    # OLS puts the annotations it has no field for here, by property label
    annotation: dict[str, list[str]] = {}
    if t.equivalent_to:
        annotation["equivalent class"] = idx.equivalent_text(t)
    if t.inferred_parents:
        annotation["inferred parent"] = sorted(t.inferred_parents)
        annotation["inference note"] = sorted(set(t.inferred_parents.values()))
    if t.rank:
        annotation["taxon rank"] = [t.rank]
    return {
        "iri": t.iri,
        "lang": "en",
        "label": t.label,
        "description": list(t.description),
        "synonyms": list(t.synonyms),
        "annotation": annotation,
        "ontology_name": t.ontology,
        "ontology_prefix": onto.prefix,
        "ontology_iri": onto.iri or f"{_base()}/ontologies/{onto.id}",
        "is_obsolete": t.obsolete,
        "term_replaced_by": t.replaced_by[0] if t.replaced_by else None,
        "is_defining_ontology": defining is not None and defining.ontology == t.ontology,
        "has_children": bool(t.children),
        "is_root": not t.parents,
        "short_form": t.short_form,
        "obo_id": t.obo_id,
        "in_subset": None,
        "obo_definition_citation": None,
        "obo_xref": None,
        "obo_synonym": [
            {"name": s, "scope": t.synonym_scopes.get(s) or "hasExactSynonym", "type": None, "xrefs": []}
            for s in t.synonyms
        ]
        or None,
        "is_preferred_root": False,
        "_links": links,
    }


def page(items: list, key: str, render) -> dict:
    """A HAL page of `items` as OLS returns it (0-based `page`, default size 20)."""
    size = _int("size", 20, 1, MAX_PAGE_SIZE)
    number = _int("page", 0, 0, 10**6)
    total = len(items)
    pages = (total + size - 1) // size
    chunk = items[number * size : (number + 1) * size]

    def link(n: int) -> dict:
        args = request.args.to_dict(flat=True)
        args.update(page=str(n), size=str(size))
        return {"href": request.base_url + "?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in args.items())}

    links = {"self": link(number), "first": link(0)}
    if number > 0:
        links["prev"] = link(number - 1)
    if number + 1 < pages:
        links["next"] = link(number + 1)
    links["last"] = link(max(pages - 1, 0))
    body: dict = {}
    if chunk:
        body["_embedded"] = {key: [render(x) for x in chunk]}
    body["_links"] = links
    body["page"] = {"size": size, "totalElements": total, "totalPages": pages, "number": number}
    return body


def ontology_json(oid: str) -> dict:
    idx = index()
    o = idx.ontologies[oid]
    href = f"{_base()}/ontologies/{oid}"
    loaded = datetime.now(UTC).isoformat(timespec="seconds")
    return {
        "languages": ["en"],
        "lang": "en",
        "ontologyId": oid,
        "loaded": loaded,
        "updated": loaded,
        "status": "LOADED",
        "message": "",
        "version": o.version or None,
        "fileHash": None,
        "loadAttempts": 1,
        "numberOfTerms": len(o.terms),
        "numberOfProperties": 0,
        "numberOfIndividuals": 0,
        "config": {
            "id": oid,
            "versionIri": None,
            "namespace": oid,
            "preferredPrefix": o.prefix,
            "title": o.title,
            "description": o.description,
            "homepage": None,
            "version": o.version or None,
            "mailingList": None,
            "tracker": None,
            "logo": None,
            "creators": [],
            "annotations": {
                "source": [o.source] if o.source else [],
                "licence": [o.licence] if o.licence else [],
                "harvested_subset": ["true" if o.harvested_subset else "false"],
            },
            "fileLocation": o.iri,
            "oboSlims": False,
            "labelProperty": "http://www.w3.org/2000/01/rdf-schema#label",
            "definitionProperties": ["http://purl.obolibrary.org/obo/IAO_0000115"],
            "synonymProperties": [],
            "hierarchicalProperties": [],
            "baseUris": [],
            "hiddenProperties": [],
            "preferredRootTerms": [],
            "isSkos": False,
            "allowDownload": False,
        },
        "_links": {
            "self": {"href": href},
            "terms": {"href": f"{href}/terms"},
            "properties": {"href": f"{href}/properties"},
            "individuals": {"href": f"{href}/individuals"},
        },
    }


def _ontology(oid: str):
    if oid not in index().ontologies:
        abort(ols_error(404, f"ontology {oid!r} not found; see {_base()}/ontologies", "Not Found"))
    return index().ontologies[oid]


def _term(oid: str, iri: str) -> Term:
    _ontology(oid)
    iri = unquote(iri) if "%" in iri else iri
    t = index().get(iri, oid)
    if t is None:
        abort(ols_error(404, f"term {iri!r} not found in ontology {oid!r}", "Not Found"))
    return t


def _relatives(t: Term, relation: str) -> list[Term]:
    idx = index()
    base = relation.replace("hierarchical", "").lower()
    return {
        "parents": idx.parents,
        "children": idx.children,
        "ancestors": idx.ancestors,
        "descendants": idx.descendants,
    }[base](t)


@bp.route("", strict_slashes=False)
def root():
    b = _base()
    return jsonify(
        _links={k: {"href": f"{b}/{k}"} for k in ("ontologies", "individuals", "terms", "properties")}
        | {"profile": {"href": f"{b}/profile"}}
    )


@bp.route("/profile")
def profile():
    """Spring Data REST's profile root, as OLS4 serves it: links to each collection's profile."""
    b = _base()
    return jsonify(
        _links={"self": {"href": f"{b}/profile"}}
        | {k: {"href": f"{b}/profile/{k}"} for k in ("ontologies", "terms", "properties", "individuals")}
    )


@bp.route("/properties")
@bp.route("/individuals")
def no_entities():
    """We hold classes only: OLS4's empty HAL page for properties and individuals (no `_embedded`)."""
    return jsonify(page([], request.path.rsplit("/", 1)[-1], lambda x: x))


@bp.route("/ontologies/<oid>/properties")
@bp.route("/ontologies/<oid>/individuals")
def no_ontology_entities(oid: str):
    _ontology(oid)
    return no_entities()


@bp.route("/ontologies")
def ontologies():
    idx = index()
    return jsonify(page(sorted(idx.ontologies), "ontologies", ontology_json))


@bp.route("/ontologies/<oid>", strict_slashes=False)
def ontology(oid: str):
    _ontology(oid)
    return jsonify(ontology_json(oid))


@bp.route("/ontologies/<oid>/terms")
def terms(oid: str):
    o = _ontology(oid)
    a = request.args
    if any(a.get(k) for k in ("iri", "short_form", "obo_id", "id")):
        found = index().find(oid, a.get("iri"), a.get("short_form"), a.get("obo_id"), a.get("id"))
    else:
        found = sorted(o.terms.values(), key=lambda t: t.iri)
        if not _bool("obsoletes"):
            found = [t for t in found if not t.obsolete]
    idx = index()
    return jsonify(page(found, "terms", lambda t: term_json(t, idx)))


@bp.route("/ontologies/<oid>/terms/roots")
@bp.route("/ontologies/<oid>/terms/preferredRoots")
def roots(oid: str):
    o = _ontology(oid)
    idx = index()
    return jsonify(page(sorted(o.roots, key=lambda t: t.iri), "terms", lambda t: term_json(t, idx)))


@bp.route("/ontologies/<oid>/terms/<path:rest>")
def term(oid: str, rest: str):
    idx = index()
    for rel in RELATIONS:
        if rest.endswith("/" + rel):
            t = _term(oid, rest[: -len(rel) - 1])
            return jsonify(page(_relatives(t, rel), "terms", lambda x: term_json(x, idx)))
    for suffix in ("/jstree", "/graph"):
        if rest.endswith(suffix):
            t = _term(oid, rest[: -len(suffix)])
            nodes = [t] + idx.parents(t) + idx.children(t)
            return jsonify(
                nodes=[{"iri": n.iri, "label": n.label} for n in nodes],
                edges=[{"source": t.iri, "target": p.iri, "label": "is a"} for p in idx.parents(t)]
                + [{"source": c.iri, "target": t.iri, "label": "is a"} for c in idx.children(t)],
            )
    return jsonify(term_json(_term(oid, rest), idx))


@bp.route("/ontologies/<oid>/<relation>")
def relation_by_id(oid: str, relation: str):
    if relation not in RELATIONS:
        abort(ols_error(404, f"no such resource {relation!r}; relations are {', '.join(RELATIONS)}", "Not Found"))
    _ontology(oid)
    key = request.args.get("id")
    if not key:
        abort(ols_error(400, "give the term as ?id=<IRI, short form or OBO id>", "Bad Request"))
    found = index().find(oid, id=key)
    if not found:
        abort(ols_error(404, f"term {key!r} not found in ontology {oid!r}", "Not Found"))
    idx = index()
    return jsonify(page(_relatives(found[0], relation), "terms", lambda x: term_json(x, idx)))


@bp.route("/terms")
def all_terms():
    a = request.args
    idx = index()
    if not any(a.get(k) for k in ("iri", "short_form", "obo_id", "id")):
        found = sorted(
            (t for o in idx.ontologies.values() for t in o.terms.values()), key=lambda t: (t.iri, t.ontology)
        )
    else:
        found = idx.find(None, a.get("iri"), a.get("short_form"), a.get("obo_id"), a.get("id"))
    return jsonify(page(found, "terms", lambda t: term_json(t, idx)))


@bp.route("/terms/findByIdAndIsDefiningOntology", defaults={"iri": None})
@bp.route("/terms/findByIdAndIsDefiningOntology/<path:iri>")
@bp.route("/terms/<path:iri>")
def defining_term(iri: str | None):
    idx = index()
    a = request.args
    if iri:
        iri = unquote(iri) if "%" in iri else iri
        found = idx.find(None, iri=iri)
    else:
        found = idx.find(None, a.get("iri"), a.get("short_form"), a.get("obo_id"), a.get("id"))
    defining = [t for t in found if idx.defining(t.iri) is t] or found[:1]
    return jsonify(page(defining, "terms", lambda t: term_json(t, idx)))


def _search_docs(autocomplete: bool = False):
    started = time.perf_counter()
    q = request.args.get("q", "").strip()
    if not q:
        abort(ols_error(400, "parameter q (the text to search for) is required and may not be empty", "Bad Request"))
    idx = index()
    onts = [o.lower() for o in _list("ontology")]
    unknown = [o for o in onts if o not in idx.ontologies]
    if unknown:
        abort(ols_error(404, f"unknown ontology {', '.join(unknown)}; see {_base()}/ontologies", "Not Found"))
    types = _list("type") or ["class"]
    rows = _int("rows", 10, 0, MAX_ROWS)
    start = _int("start", 0, 0, 10**6)
    exact = _bool("exact")
    obsoletes = _bool("obsoletes")
    local = _bool("local")
    fields = _list("fieldList") or DEFAULT_FIELDS
    within: set[str] | None = None
    for param, _inclusive in (("childrenOf", False), ("allChildrenOf", False)):
        roots = _list(param)
        if roots:
            within = set()
            for r in roots:
                for t in idx.find(None, iri=r):
                    within.update(d.iri for d in (idx.children(t) if param == "childrenOf" else idx.descendants(t)))
                    if _bool("inclusive"):
                        within.add(t.iri)
    hits = (
        []
        if "class" not in types
        else idx.search(q, ontologies=onts or None, exact=exact, obsoletes=obsoletes, within=within)
    )
    if local:
        hits = [h for h in hits if idx.defining(h[0].iri) is h[0]]
    docs = []
    for t, score, reason in hits[start : start + rows]:
        onto = idx.ontologies[t.ontology]
        full = {
            "id": f"{t.ontology}:class:{t.iri}",
            "iri": t.iri,
            "ontology_name": t.ontology,
            "label": t.label,
            "description": list(t.description),
            "short_form": t.short_form,
            "obo_id": t.obo_id,
            "type": "class",
            "ontology_prefix": onto.prefix,
            "synonym": list(t.synonyms),
            "is_defining_ontology": idx.defining(t.iri) is t,
            "ontology_iri": onto.iri,
            "score": score,
            "match": reason,
            "has_children": bool(t.children),
            "is_obsolete": t.obsolete,
        }
        docs.append({k: full[k] for k in fields if k in full})
    facets: dict[str, int] = {}
    for t, _, _ in hits:
        facets[t.ontology] = facets.get(t.ontology, 0) + 1
    body = {
        "responseHeader": {
            "status": 0,
            "QTime": int((time.perf_counter() - started) * 1000),
            "params": {"q": q, "rows": str(rows), "start": str(start)},
        },
        "response": {"numFound": len(hits), "start": start, "docs": docs},
        "facet_counts": {
            "facet_fields": {
                "ontology_name": [x for kv in sorted(facets.items()) for x in kv],
                "type": ["class", len(hits)] if hits else [],
            }
        },
    }
    if autocomplete:
        body["highlighting"] = {
            d.get("id", str(i)): {"label_autosuggest": [d.get("label", "")]} for i, d in enumerate(docs)
        }
    return body


@bp.route("/search")
def search():
    return jsonify(_search_docs())


@bp.route("/select")
def select():
    return jsonify(_search_docs(autocomplete=True))


@bp.route("/suggest")
def suggest():
    q = request.args.get("q", "").strip()
    if not q:
        abort(ols_error(400, "parameter q is required and may not be empty", "Bad Request"))
    idx = index()
    onts = [o.lower() for o in _list("ontology")] or None
    rows = _int("rows", 10, 0, MAX_ROWS)
    start = _int("start", 0, 0, 10**6)
    labels: list[str] = []
    for t, _, _ in idx.search(q, ontologies=onts):
        if t.label not in labels:
            labels.append(t.label)
    return jsonify(
        responseHeader={"status": 0, "QTime": 0},
        response={
            "numFound": len(labels),
            "start": 0,
            "docs": [{"autosuggest": lbl} for lbl in labels[start : start + rows]],
        },
    )


@bp.route("/annotate")
def annotate():
    """Ground free text: candidate terms with a score and the reason, and the decision (if decisive)."""
    text = request.args.get("text", "").strip()
    if not text:
        abort(ols_error(400, "parameter text is required and may not be empty", "Bad Request"))
    if len(text) > 500:
        abort(ols_error(400, "text is longer than 500 characters", "Bad Request"))
    idx = index()
    onts = [o.lower() for o in _list("ontology")] or None
    unknown = [o for o in onts or [] if o not in idx.ontologies]
    if unknown:
        abort(ols_error(404, f"unknown ontology {', '.join(unknown)}", "Not Found"))
    cands = candidates(idx, text, onts, limit=_int("rows", 10, 1, 100))
    chosen = decide(cands)
    return jsonify(text=text, candidates=[c.as_dict() for c in cands], grounding=chosen.as_dict() if chosen else None)


@bp.route("/terms-expand")
def expand():
    """Our addition: a term and all its descendants' IRIs (for hierarchy-aware filters elsewhere)."""
    iri = request.args.get("iri", "").strip()
    if not iri:
        abort(ols_error(400, "give the term as ?iri=", "Bad Request"))
    if not index().find(None, iri=iri):
        abort(ols_error(404, f"term {iri!r} not found", "Not Found"))
    return jsonify(iri=iri, descendants_and_self=index().expand(iri))
