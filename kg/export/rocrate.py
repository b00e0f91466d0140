"""A GIDE search-profile RO-Crate for any study, written from the unified graph.

The crate holds the study's statements as its source graph has them (the study, its own `#local` nodes,
and every described node they reach: people and their affiliations, the publisher, samples, protocols,
taxa, terms, publications), shaped as the published GIDE crates are so that gide-search's
`ROCrateIndexTransformer` indexes it: the licence and size units as strings, dates as plain ISO strings,
sizes as JSON numbers, one value on a shared node where the profile has one, a type and a name on every
referenced term. Harvesting the crate again gives back the same statements (tests check every study).

The JSON is written directly from the graph's terms: one query per source graph for a whole export
(seconds for every study), one bounded query for a single crate.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox

from ..jsonld_contexts import context_terms
from ..namespaces import GRAPH, KG, RDFS, SCHEMA
from ..study_nodes import NOT_FOLLOWED, ORDER_LISTS, RDF_TYPE, GraphNodes, key

RO_CRATE = "https://w3id.org/ro/crate/1.2/context"
GIDE_PROFILE = "https://www.gide-project.org/ro-crate/search/1.0/profile"
XSD = "http://www.w3.org/2001/XMLSchema#"
OBO = "http://purl.obolibrary.org/obo/"
GIDE_TERMS = {
    "obo": OBO,
    "dwc": "http://rs.tdwg.org/dwc/terms/",
    "dwciri": "http://rs.tdwg.org/dwc/iri/",
    "bao": "http://www.bioassayontology.org/bao#",
    "xsd": XSD,
    "kg": "https://w3id.org/gide-kg/vocab#",
    "vernacularName": {"@id": "dwc:vernacularName"},
    "scientificName": {"@id": "dwc:scientificName"},
    "hasCellLine": {"@id": "bao:BAO_0002004"},
    "measurementMethod": {"@id": "dwciri:measurementMethod"},
    "BioSample": {"@id": "http://schema.org/BioSample"},
    "LabProtocol": {"@id": "http://schema.org/LabProtocol"},
    "labEquipment": {"@id": "http://schema.org/labEquipment"},
    "taxonomicRange": {"@id": "http://schema.org/taxonomicRange"},
}
TYPE_PRIORITY = {
    t: i for i, t in enumerate(["BioSample", "Taxon", "LabProtocol", "DefinedTerm", "Person", "Organization"])
}
PREFIXES = {v: k for k, v in GIDE_TERMS.items() if isinstance(v, str)}
# properties the GIDE index model reads as one string (schema_search_object.py)
SINGLE = {
    SCHEMA + p
    for p in (
        "name",
        "description",
        "datePublished",
        "license",
        "identifier",
        "email",
        "labEquipment",
        "url",
        "address",
        "unitText",
        "unitCode",
        "value",
    )
} | {GIDE_TERMS["dwc"] + "scientificName", GIDE_TERMS["dwc"] + "vernacularName"}
AS_STRING = NOT_FOLLOWED  # IRIs the GIDE crates write as plain strings (licence, unit code)
DATES = {XSD + "date", XSD + "gYear", XSD + "gYearMonth", XSD + "dateTime"}
# what gide-search types a referenced term as, by the property that references it
TERM_TYPES = {
    SCHEMA + "about": "DefinedTerm",
    GIDE_TERMS["dwciri"] + "measurementMethod": "DefinedTerm",
    SCHEMA + "measurementTechnique": "DefinedTerm",
    GIDE_TERMS["bao"] + "BAO_0002004": "DefinedTerm",
    SCHEMA + "taxonomicRange": "Taxon",
}
# Sources that are not GIDE crates (IDR's study files, SSBD's RDF) state a study's organism and imaging
# method only with our own kg:organism / kg:imagingMethod; the profile (and gide-search's model) wants them
# on the root as `about` / `measurementMethod`, so a root without those gets them from these.
PROFILE_FROM_OWN = {"about": (KG + "organism", "Taxon"), "measurementMethod": (KG + "imagingMethod", "DefinedTerm")}


@lru_cache(maxsize=1)
def _terms() -> dict[str, str]:
    """IRI → the short name a crate uses for it (RO-Crate 1.2 context, then the GIDE terms)."""
    out: dict[str, str] = {}
    for term, iri in sorted(context_terms(RO_CRATE).items(), key=lambda kv: (len(kv[0]), kv[0])):
        if (
            isinstance(iri, str)
            and not term.startswith("@")
            and iri not in out
            and iri.rsplit("/", 1)[-1].rsplit("#", 1)[-1] == term
        ):
            out[iri] = term
    for term, v in GIDE_TERMS.items():
        if isinstance(v, dict):
            out[
                v["@id"]
                .replace("dwc:", GIDE_TERMS["dwc"])
                .replace("dwciri:", GIDE_TERMS["dwciri"])
                .replace("bao:", GIDE_TERMS["bao"])
            ] = term
    out["http://rs.tdwg.org/dwc/terms/Taxon"] = "Taxon"  # the harvest types taxa dwc:Taxon; the crates write Taxon
    # publications as rdf:seeAlso, the property gide-search's frame reads into `seeAlso` (the harvest
    # turns rdf:seeAlso back into schema:citation)
    out[SCHEMA + "citation"] = "rdf:seeAlso"
    return out


@lru_cache(maxsize=1)
def _iris() -> dict[str, str]:
    """Short name → IRI for the properties that reference terms (the reverse of _terms for those)."""
    return {t: iri for iri, t in _terms().items() if iri in TERM_TYPES}


def _short(iri: str) -> str:
    t = _terms().get(iri)
    if t:
        return t
    for ns, prefix in PREFIXES.items():
        if iri.startswith(ns) and iri[len(ns) :].replace("_", "").replace("-", "").isalnum():
            return f"{prefix}:{iri[len(ns) :]}"
    return iri


def _value(pred: str, term) -> object:
    if isinstance(term, ox.Literal):
        dt = term.datatype.value if term.datatype else ""
        if term.language:
            return {"@value": term.value, "@language": term.language}
        if dt in ("", XSD + "string") or (dt in DATES and pred == SCHEMA + "datePublished"):
            return term.value  # RO-Crate writes dates as plain ISO 8601 strings; the harvest types them again
        if dt == XSD + "integer" and term.value.lstrip("-").isdigit() and len(term.value) < 16:
            return int(term.value)
        return {"@value": term.value, "@type": _short(dt)}
    if pred in AS_STRING and isinstance(term, ox.NamedNode):
        return term.value
    return {"@id": key(term)}


def _node(nodes: GraphNodes, iri: str, own: bool, study: str) -> dict:
    out: dict = {"@id": iri}
    types = [_short(t) for t in nodes.types(iri)]
    if (
        len(types) > 1 and not own
    ):  # a shared term typed differently by different crates: the type gide-search dispatches on first
        types = [min(types, key=lambda t: TYPE_PRIORITY.get(t, len(TYPE_PRIORITY)))]
    if types:
        out["@type"] = types[0] if len(types) == 1 else types
    elif iri != study:  # RO-Crate wants a type on every entity; a term a source left untyped is a DefinedTerm
        out["@type"] = "DefinedTerm" if iri.startswith((OBO, "http://www.ebi.ac.uk/")) else "Thing"
    for pred, objs in nodes.nodes.get(iri, {}).items():
        if pred == RDF_TYPE or pred in ORDER_LISTS:  # the order lists: the arrays below are written in that order
            continue
        objs = nodes.values(iri, pred)
        if pred in SINGLE and not own and len(objs) > 1:  # a shared node merged from several crates: one value
            objs = [min(objs, key=lambda o: (len(o.value), o.value))]
        values = [_value(pred, o) for o in objs]
        out[_short(pred)] = values[0] if len(values) == 1 else values
    return out


def _described(crate_nodes: list[dict], nodes: GraphNodes, labels: dict[str, str]) -> list[dict]:
    """Nodes for the terms a crate references but its source graph does not describe (a type and a name)."""
    have = {n["@id"] for n in crate_nodes}
    extra: dict[str, dict] = {}
    for n in crate_nodes:
        for k, v in n.items():
            pred = _iris().get(k, k)
            for item in v if isinstance(v, list) else [v]:
                ref = item.get("@id") if isinstance(item, dict) and len(item) == 1 else None
                if ref and ref not in have and ref not in extra and pred in TERM_TYPES and "://" in ref:
                    kind = "Taxon" if ref.startswith(OBO + "NCBITaxon_") else TERM_TYPES[pred]
                    # the ontology's label; else the term's own id stands as its name
                    name = labels.get(ref) or ref.rstrip("/").rsplit("/", 1)[-1].replace("_", ":", 1)
                    extra[ref] = {"@id": ref, "@type": kind, ("scientificName" if kind == "Taxon" else "name"): name}
    return list(extra.values())


def _labels(store, iris: set[str], pred: str = RDFS + "label") -> dict[str, str]:
    """Ontology labels of terms, or another naming property's values, in any graph (one query for a batch)."""
    if not iris:
        return {}
    values = " ".join(f"<{i}>" for i in sorted(iris) if "<" not in i and ">" not in i and " " not in i)
    rows = store.query(f"""SELECT ?t (MIN(STR(?l)) AS ?label) WHERE {{ VALUES ?t {{ {values} }}
                            ?t <{pred}> ?l }} GROUP BY ?t""")
    return {r["t"].value: r["label"].value for r in rows if r["label"] is not None}


def _names(store, nodes: GraphNodes, closures: list[list[str]]) -> dict[str, str]:
    """Labels of the terms the crates reference, and the names of publishers their source graph does not
    describe (another source names them: IDR's study files reference the IDR publisher the IDR crates describe)."""
    labels = _labels(store, set().union(*(_referenced(nodes, c) for c in closures)))
    publishers = {
        o.value
        for c in closures
        for o in nodes.nodes.get(c[0], {}).get(SCHEMA + "publisher", ())
        if isinstance(o, ox.NamedNode) and o.value not in nodes.nodes
    }
    return labels | _labels(store, publishers, SCHEMA + "name")


def _referenced(nodes: GraphNodes, closure: list[str]) -> set[str]:
    out = set()
    for s in closure:
        for pred, objs in nodes.nodes.get(s, {}).items():
            if pred in TERM_TYPES:
                out.update(o.value for o in objs if isinstance(o, ox.NamedNode) and o.value not in nodes.nodes)
    study = nodes.nodes.get(closure[0], {}) if closure else {}
    for pred, _ in PROFILE_FROM_OWN.values():  # named whether or not the source describes them
        out.update(o.value for o in study.get(pred, ()) if isinstance(o, ox.NamedNode))
    return out


def _profile_fields(body: list[dict], nodes: GraphNodes, study: str, labels: dict[str, str]) -> None:
    """Give a root that lacks them the profile's `about` / `measurementMethod` (from kg:organism /
    kg:imagingMethod, as Taxon / DefinedTerm nodes with their ontology names) and a publisher node with its
    name, so gide-search indexes crates of the sources that are not GIDE crates too. Crate sources always
    have all three, so their crates (and their round trip) are unchanged."""
    by_id = {n["@id"]: n for n in body}
    root = by_id[study]
    for prop, (pred, kind) in PROFILE_FROM_OWN.items():
        terms = [o.value for o in nodes.nodes.get(study, {}).get(pred, ()) if isinstance(o, ox.NamedNode)]
        if prop in root or not terms:
            continue
        root[prop] = [{"@id": t} for t in terms]
        for t in terms:
            node = by_id.get(t)
            if node is None:  # undescribed: _described adds it with its label
                continue
            node["@type"] = kind  # one type, the one gide-search dispatches on
            name = labels.get(t) or t.rstrip("/").rsplit("/", 1)[-1].replace("_", ":", 1)
            node.setdefault("scientificName" if kind == "Taxon" else "name", name)
    publisher = root.get("publisher")
    ref = publisher.get("@id") if isinstance(publisher, dict) else None
    if ref and ref not in by_id and ref in labels:
        body.append({"@id": ref, "@type": "Organization", "name": labels[ref]})
    for prop in PROFILE_FROM_OWN:  # a term the source describes with rdfs:label only (SSBD's RDF) gets its name
        for item in root.get(prop, []) if isinstance(root.get(prop), list) else [root.get(prop)]:
            node = by_id.get(item.get("@id")) if isinstance(item, dict) else None
            label = node.get(RDFS + "label") if node else None
            texts = [
                v.get("@value") if isinstance(v, dict) else v for v in (label if isinstance(label, list) else [label])
            ]
            texts = [t for t in texts if isinstance(t, str) and t]
            if texts and not ({"name", "scientificName"} & set(node)):
                name = min(texts, key=lambda v: (len(v), v))
                node["scientificName" if node.get("@type") == "Taxon" else "name"] = name


def _crate(nodes: GraphNodes, study: str, file_name: str, labels: dict[str, str]) -> dict:
    closure = nodes.closure(study)
    body = [_node(nodes, s, own=s == study or s.startswith((study + "#", "_:")), study=study) for s in closure]
    _profile_fields(body, nodes, study, labels)
    body += _described(body, nodes, labels)
    body.sort(key=lambda n: (n["@id"] != study, n["@id"]))
    descriptor = {
        "@id": file_name,
        "@type": "CreativeWork",
        "conformsTo": [{"@id": "https://w3id.org/ro/crate/1.2"}, {"@id": GIDE_PROFILE}],
        "about": {"@id": study},
    }
    return {"@context": [RO_CRATE, GIDE_TERMS], "@graph": [descriptor] + body}


def study_triples(store, study: str, graph: str):
    """The study's statements and those of what it reaches within three links, in one source graph, and
    the cells of its order lists (of any length)."""
    s = ox.NamedNode(study)
    step = "!<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
    lists = (
        "(" + "|".join(f"<{p}>" for p in sorted(ORDER_LISTS)) + ")/<http://www.w3.org/1999/02/22-rdf-syntax-ns#rest>*"
    )
    return store.query(
        f"""CONSTRUCT {{ ?x ?p ?o }} WHERE {{ GRAPH <{graph}> {{
              {{ BIND({s} AS ?x) }} UNION {{ {s} {step} ?x }} UNION {{ {s} {step}/{step} ?x }} UNION {{ {s} {step}/{step}/{step} ?x }}
              UNION {{ {s} {lists} ?x }}
              ?x ?p ?o }} }}"""
    )


def crate_for(store, study: str, graph: str, file_name: str = "ro-crate-metadata.json") -> dict:
    nodes = GraphNodes()
    nodes.add(study_triples(store, study, graph))
    if study not in nodes.nodes:
        raise KeyError(f"no statements about {study} in {graph}")
    return _crate(nodes, study, file_name, _names(store, nodes, [nodes.closure(study)]))


def studies_of(store, graph: str) -> list[tuple[str, str]]:
    """(study IRI, identifier) of every study in a source graph."""
    rows = store.query(
        f"SELECT ?s (MIN(?i) AS ?id) WHERE {{ GRAPH <{graph}> {{ ?s a <{SCHEMA}Dataset> ; <{SCHEMA}identifier> ?i }} }} GROUP BY ?s ORDER BY ?id"
    )
    return [(r["s"].value, r["id"].value) for r in rows]


def crates_of(store, source: str):
    """(identifier, crate) for every study of a source: one query for the graph, then Python."""
    graph = GRAPH + source
    nodes = GraphNodes.of(store, [graph])
    studies = studies_of(store, graph)
    closures = {s: nodes.closure(s) for s, _ in studies}
    labels = _names(store, nodes, list(closures.values()))
    for study, ident in studies:
        name = f"{ident}-ro-crate-metadata.json"
        yield ident, _crate(nodes, study, name, labels)


def export_source(store, source: str, folder) -> int:
    """Write `<identifier>-ro-crate-metadata.json` for every study of a source; returns how many."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    for ident, crate in crates_of(store, source):
        (folder / f"{ident}-ro-crate-metadata.json").write_text(
            json.dumps(crate, indent=1, ensure_ascii=False), encoding="utf-8"
        )
        n += 1
    return n
