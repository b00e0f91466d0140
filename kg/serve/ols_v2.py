"""OLS4's v2 term API under /api/v2: ontologies, classes and entities with OLS4's JSON shapes.

Follows EBISPOT/ols4's v2 controllers (V2OntologyController, V2ClassController, V2EntityController) and the
entity documents its dataload writes: pages are `{page, numElements, totalPages, totalElements, elements}`
(+ `facetFieldsToCounts` on searches); entities use camelCase keys (`iri, ontologyId, label, synonym,
definition, curie, shortForm, type, isObsolete, isDefiningOntology, hasDirectParents, directParent,
hierarchicalAncestor, linkedEntities …`) next to the raw predicate IRIs (`rdfs:label`, `IAO_0000115`,
`oboInOwl:hasExactSynonym` …). Searches take `search`, `searchFields` / `boostFields` with weights,
`exactMatch`, `includeObsoleteEntities`, and filters named after entity fields (`definedBy=fbbi`).

Where we choose: multi-valued fields are always JSON arrays (OLS4 writes a lone value as a scalar; its
clients read both), and `resolveReferences=true` turns the IRIs in `directParent`, `hierarchicalParent`,
`directAncestor`, `hierarchicalAncestor` and the replaced-by / inferred-parent fields into
`{iri, label, curie}` objects (gide-search reads `hierarchicalAncestor[].iri`). We hold classes only:
properties and individuals are served as empty pages.
"""

from __future__ import annotations

from urllib.parse import unquote

from flask import Blueprint, abort, jsonify, request

from ..namespaces import KG, OBO, RDFS
from ..terms import Term, TermIndex
from ..terms.fields import (
    FLAGS,
    BadFields,
    curie,
    field_index,
    field_values,
    parse_boosts,
    parse_fields,
)
from ..terms.index import OIO, SYNONYM_SCOPES
from .ols import index as term_index
from .ols import ols_error

bp = Blueprint("ols_v2", __name__, url_prefix="/api/v2")

MAX_SIZE = 500
OPTIONS = {
    "lang",
    "search",
    "searchFields",
    "boostFields",
    "facetFields",
    "exactMatch",
    "includeObsoleteEntities",
    "page",
    "size",
    "resolveReferences",
    "manchesterSyntax",
    "sort",
}
# fields an entity filter may name (any other parameter is refused with 400)
FILTERS = {"definedBy", "appearsIn", "ontologyId", "iri", "curie", "shortForm", "type", "label"} | FLAGS
RELATIONS = ("ancestors", "children", "hierarchicalAncestors", "hierarchicalChildren")
REFERENCE_FIELDS = (
    "directParent",
    "hierarchicalParent",
    "directAncestor",
    "hierarchicalAncestor",
    OBO + "IAO_0100001",
    KG + "inferredParent",
)
DEFINITION_PROPERTY = OBO + "IAO_0000115"


def _bool(name: str, default: bool = False) -> bool:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    abort(ols_error(400, f"parameter {name} must be true or false, not {raw!r}", "Bad Request"))


def _int(name: str, default: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) > high:
        abort(ols_error(400, f"parameter {name} must be a whole number from 0 to {high}, not {raw!r}", "Bad Request"))
    return int(raw)


def paged(items: list, render, facets: dict | None = None) -> dict:
    """One page of `items` in OLS4's V2PagedResponse shape (V2PagedAndFacetedResponse with `facets`)."""
    size = _int("size", 20, MAX_SIZE) or 20
    number = _int("page", 0, 10**6)
    chunk = items[number * size : (number + 1) * size]
    body = {
        "page": number,
        "numElements": len(chunk),
        "totalPages": (len(items) + size - 1) // size,
        "totalElements": len(items),
        "elements": [render(x) for x in chunk],
    }
    if facets is not None:
        body["facetFieldsToCounts"] = facets
    return body


# -- documents -------------------------------------------------------------------------------------


def ontology_doc(idx: TermIndex, oid: str) -> dict:
    o = idx.ontologies[oid]
    classes = len(o.terms)
    return {
        "ontologyId": oid,
        "iri": o.iri,
        "title": o.title,
        "description": o.description,
        "preferredPrefix": o.prefix,
        "type": ["ontology"],
        "language": ["en"],
        "isObsolete": False,
        "imported": False,
        "numberOfClasses": str(classes),
        "numberOfProperties": "0",
        "numberOfIndividuals": "0",
        "numberOfEntities": str(classes),
        "version": o.version or None,
        "license": {"label": o.licence} if o.licence else None,
        "source": o.source or None,
        "harvestedSubset": o.harvested_subset,
        "hasPreferredRoot": [],
    }


def _ref(idx: TermIndex, iri: str) -> dict:
    t = idx.defining(iri)
    return {"iri": iri, "label": idx.label_of(iri), "curie": curie(t, idx.ontologies[t.ontology].prefix) if t else None}


def _linked(idx: TermIndex, iris: set[str]) -> dict:
    out = {}
    for iri in sorted(iris):
        holders = idx.holders(iri)
        t = idx.defining(iri)
        out[iri] = {
            "curie": curie(t, idx.ontologies[t.ontology].prefix) if t else None,
            "label": [idx.label_of(iri)],
            "type": ["class", "entity"] if holders else ["entity"],
            "hasLocalDefinition": t is not None,
            "numAppearsIn": len({h.ontology for h in holders}),
        }
    return out


def class_doc(idx: TermIndex, t: Term, resolve: bool = False) -> dict:
    onto = idx.ontologies[t.ontology]
    parents = [p.iri for p in idx.parents(t)]
    ancestors = [a.iri for a in idx.ancestors(t)]
    descendants = len(idx.descendants(t)) if t.children else 0
    defining = idx.defining(t.iri)
    doc: dict = {
        "iri": t.iri,
        "ontologyId": t.ontology,
        "ontologyIri": onto.iri,
        "ontologyPreferredPrefix": onto.prefix,
        "type": ["class", "entity"],
        "label": t.label,
        "synonym": list(t.synonyms),
        "definition": list(t.description),
        "curie": curie(t, onto.prefix),
        "shortForm": t.short_form,
        "isObsolete": t.obsolete,
        "isDefiningOntology": defining is t,
        "isPreferredRoot": False,
        "definedBy": [defining.ontology] if defining is not None else [],
        "appearsIn": sorted({h.ontology for h in idx.holders(t.iri)}),
        "hasDirectParents": bool(parents),
        "hasDirectChildren": bool(t.children),
        "hasHierarchicalParents": bool(parents),
        "hasHierarchicalChildren": bool(t.children),
        "directParent": parents,
        "hierarchicalParent": parents,
        "directAncestor": ancestors,
        "hierarchicalAncestor": ancestors,
        "numDescendants": descendants,
        "numHierarchicalDescendants": descendants,
        "hierarchicalProperty": RDFS + "subClassOf",
        RDFS + "label": t.label,
    }
    if t.description:
        doc["definitionProperty"] = DEFINITION_PROPERTY
        doc[DEFINITION_PROPERTY] = list(t.description)
    scopes = {v: k for k, v in SYNONYM_SCOPES.items()}
    if t.synonyms:
        doc["synonymProperty"] = sorted(
            {scopes.get(t.synonym_scopes.get(s, ""), OIO + "hasExactSynonym") for s in t.synonyms}
        )
        for s in t.synonyms:
            doc.setdefault(scopes.get(t.synonym_scopes.get(s, ""), OIO + "hasExactSynonym"), []).append(s)
    if parents:
        doc[RDFS + "subClassOf"] = parents
    if t.replaced_by:
        doc[OBO + "IAO_0100001"] = list(t.replaced_by)
    if t.inferred_parents:
        doc[KG + "inferredParent"] = sorted(t.inferred_parents)
        doc[KG + "inferenceNote"] = sorted(set(t.inferred_parents.values()))
    equivalents = idx.equivalent_text(t)
    if equivalents:
        doc["http://www.w3.org/2002/07/owl#equivalentClass"] = equivalents
    referenced = set(parents) | set(ancestors) | set(t.replaced_by) | set(t.inferred_parents)
    doc["linkedEntities"] = _linked(idx, referenced)
    if resolve:
        for key in REFERENCE_FIELDS:
            if key in doc:
                doc[key] = [_ref(idx, i) for i in doc[key]]
    return doc


# -- look-ups --------------------------------------------------------------------------------------


def _ontology(oid: str):
    idx = term_index()
    if oid not in idx.ontologies:
        abort(ols_error(404, f"ontology {oid!r} not found; see {request.url_root}api/v2/ontologies", "Not Found"))
    return idx.ontologies[oid]


def _class(oid: str, raw: str) -> Term:
    _ontology(oid)
    # the IRI comes double-encoded (OLS4's UI and clients; the router decoded it once); accept single-encoded
    # too, and an IRI that itself holds a %-escape: the first spelling that names a class wins
    once = unquote(raw)
    for iri in (once, unquote(once), raw):
        t = term_index().get(iri, oid)
        if t is not None:
            return t
    abort(ols_error(404, f"class {once!r} not found in ontology {oid!r}", "Not Found"))


def _filters() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key in request.args:
        if key in OPTIONS:
            continue
        if key not in FILTERS:
            abort(
                ols_error(
                    400,
                    f"unknown parameter {key!r}; filters are {', '.join(sorted(FILTERS))} and options "
                    f"{', '.join(sorted(OPTIONS))}",
                    "Bad Request",
                )
            )
        out[key] = [v for raw in request.args.getlist(key) for v in raw.split(",") if v]
    return out


def _passes(idx: TermIndex, t: Term, is_defining: bool, filters: dict[str, list[str]]) -> bool:
    for key, values in filters.items():
        if key in FLAGS:
            flag = {"isDefiningOntology": is_defining, "isObsolete": t.obsolete, "isPreferredRoot": False}.get(
                key, bool(t.parents) if "Parents" in key else bool(t.children)
            )
            if str(flag).lower() not in {v.lower() for v in values}:
                return False
        elif key == "definedBy":
            d = idx.defining(t.iri)
            if d is None or d.ontology not in values:
                return False
        elif key == "appearsIn":
            if not {h.ontology for h in idx.holders(t.iri)} & set(values):
                return False
        elif key == "type":
            if not {"class", "entity"} & set(values):
                return False
        elif _value(idx, t, key) not in values:
            return False
    return True


def _value(idx: TermIndex, t: Term, key: str) -> str:
    """The single value of a plain field a filter may name (ontologyId, iri, shortForm, curie, label)."""
    if key == "curie":
        return curie(t, idx.ontologies[t.ontology].prefix)
    return {"ontologyId": t.ontology, "iri": t.iri, "shortForm": t.short_form, "label": t.label}[key]


def _search(oid: str | None) -> dict:
    idx = term_index()
    fi = field_index(idx)
    filters = _filters()
    try:
        fields = parse_fields(
            request.args.get("searchFields"),
            {"label": 1, "synonym": 1, "curie": 1, "shortForm": 1, "oboId": 1, "iri": 1, "ontologyId": 1, "id": 1},
        )
        boosts = parse_boosts(request.args.get("boostFields"))
        facet_fields = parse_fields(request.args.get("facetFields"), {}) if request.args.get("facetFields") else {}
    except BadFields as e:
        abort(ols_error(400, str(e), "Bad Request"))
    if not _bool("includeObsoleteEntities"):
        filters.setdefault("isObsolete", ["false"])
    text = request.args.get("search", "")
    if len(text) > 500:
        abort(ols_error(400, "search text is longer than 500 characters", "Bad Request"))
    resolve = _bool("resolveReferences")
    within = fi.by_ontology.get(oid, set()) if oid is not None else None
    hits = fi.search(text, fields, boosts, exact=_bool("exactMatch"), within=within)
    items = [fi.terms[i] for i, _ in hits if _passes(idx, fi.terms[i], fi.defining[i], filters)]
    facets: dict[str, dict[str, int]] = {}
    for f in facet_fields:
        counts: dict[str, int] = {}
        for t in items:
            for v in field_values(t, f, idx.ontologies[t.ontology].prefix):
                counts[v] = counts.get(v, 0) + 1
        facets[f] = counts
    return paged(items, lambda t: class_doc(idx, t, resolve), facets)


# -- routes ----------------------------------------------------------------------------------------


@bp.route("/ontologies")
def ontologies():
    idx = term_index()
    text = request.args.get("search", "").lower().strip()
    ids = [
        o
        for o in sorted(idx.ontologies)
        if not text or text in o or text in idx.ontologies[o].title.lower() or text in idx.ontologies[o].prefix.lower()
    ]
    return jsonify(paged(ids, lambda o: ontology_doc(idx, o), {}))


@bp.route("/ontologies/<oid>")
def ontology(oid: str):
    _ontology(oid)
    return jsonify(ontology_doc(term_index(), oid))


@bp.route("/classes")
@bp.route("/entities")
def all_classes():
    return jsonify(_search(None))


@bp.route("/ontologies/<oid>/classes")
@bp.route("/ontologies/<oid>/entities")
def classes(oid: str):
    _ontology(oid)
    return jsonify(_search(oid))


@bp.route("/properties")
@bp.route("/individuals")
def no_entities():
    """We hold no OWL properties or individuals: an empty page, as OLS4 gives for an ontology without them."""
    _filters()
    return jsonify(paged([], lambda x: x, {}))


@bp.route("/ontologies/<oid>/properties")
@bp.route("/ontologies/<oid>/individuals")
def no_ontology_entities(oid: str):
    _ontology(oid)
    return no_entities()


@bp.route("/ontologies/<oid>/classes/<path:rest>")
@bp.route("/ontologies/<oid>/entities/<path:rest>")
def one_class(oid: str, rest: str):
    idx = term_index()
    resolve = _bool("resolveReferences")
    for rel in RELATIONS:
        if rest.endswith("/" + rel):
            t = _class(oid, rest[: -len(rel) - 1])
            related = idx.ancestors(t) if rel.endswith("ncestors") else idx.children(t)
            return jsonify(paged(related, lambda x: class_doc(idx, x, resolve)))
    return jsonify(class_doc(idx, _class(oid, rest), resolve))
