"""A GIDE search-profile RO-Crate for any study, written from the unified graph.

The crate holds the study's statements as the source graph has them (the study, its own `#local`
nodes, and the people, organisations, taxa, terms and publications it links to), compacted with pyld
against the RO-Crate 1.2 context plus the GIDE terms, with a metadata descriptor. Harvesting the crate
again gives back the same statements (tests check every bundled study).
"""

from __future__ import annotations

import json

import pyoxigraph as ox
from pyld import jsonld

from ..jsonld_contexts import context_terms, pyld_document_loader
from ..namespaces import GRAPH, SCHEMA

RO_CRATE = "https://w3id.org/ro/crate/1.2/context"
GIDE_TERMS = {
    "obo": "http://purl.obolibrary.org/obo/",
    "dwc": "http://rs.tdwg.org/dwc/terms/",
    "dwciri": "http://rs.tdwg.org/dwc/iri/",
    "bao": "http://www.bioassayontology.org/bao#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
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


def study_triples(store, study: str, graph: str) -> list[ox.Triple]:
    """The study's statements in one source graph: its own, its #local nodes', and those of what it links to."""
    s = ox.NamedNode(study)
    rows = store.query(
        f"""CONSTRUCT {{ ?x ?p ?o }} WHERE {{ GRAPH <{graph}> {{
              {{ BIND({s} AS ?x) ?x ?p ?o }}
              UNION {{ ?x ?p ?o FILTER(isIRI(?x) && STRSTARTS(STR(?x), CONCAT(STR({s}), "#"))) }}
              UNION {{ {{ {s} ?l ?x }} UNION {{ {s} ?l0 ?local . ?local ?l ?x FILTER(STRSTARTS(STR(?local), CONCAT(STR({s}), "#"))) }}
                      FILTER(isIRI(?x) && !STRSTARTS(STR(?x), CONCAT(STR({s}), "#"))) ?x ?p ?o }} }} }}"""
    )
    return list(rows)


def _compaction_context(remote: dict, expanded: list) -> dict:
    """Only the RO-Crate terms whose IRIs occur (keys and @type values): compaction stays fast, the
    result is the same as with the whole context."""
    iris: set[str] = set()
    for node in expanded:
        iris.update(k for k in node if not k.startswith("@"))
        iris.update(t for t in node.get("@type", []))
    by_iri = {v: k for k, v in remote.items() if isinstance(v, str) and v in iris}
    ctx = {term: iri for iri, term in by_iri.items()}
    for prefix in ("schema", "rdf", "rdfs", "dct"):
        if prefix in remote:
            ctx[prefix] = remote[prefix]
    ctx.update(GIDE_TERMS)
    return ctx


def crate_for(store, study: str, graph: str, file_name: str = "ro-crate-metadata.json") -> dict:
    triples = study_triples(store, study, graph)
    if not triples:
        raise KeyError(f"no statements about {study} in {graph}")
    rdf_type = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
    merged: dict[str, dict] = {}  # pyoxigraph streams one object per statement group: one object per @id here
    for node in json.loads(ox.serialize(triples, format=ox.RdfFormat.JSON_LD)):
        target = merged.setdefault(node["@id"], {"@id": node["@id"]})
        for key, values in node.items():
            if key == "@id":
                continue
            if key == rdf_type:  # types as @type, so they compact to "Dataset", "Person" … as crates write them
                key, values = "@type", [v["@id"] for v in values if "@id" in v]
            bucket = target.setdefault(key, [])
            bucket.extend(v for v in values if v not in bucket)
    expanded = list(merged.values())
    for node in expanded:  # RO-Crate wants a type on every entity; a term a source left untyped is a DefinedTerm
        if "@type" not in node and node["@id"] != study:
            node["@type"] = [SCHEMA + "DefinedTerm" if node["@id"].startswith(("http://purl.obolibrary.org/obo/", "http://www.ebi.ac.uk/"))
                             else SCHEMA + "Thing"]
    ctx = _compaction_context(context_terms(RO_CRATE), expanded)
    compacted = jsonld.compact({"@graph": expanded}, ctx, options={"documentLoader": pyld_document_loader, "graph": True})
    nodes = compacted.get("@graph", [])
    for node in nodes:  # RO-Crate wants dates as plain ISO 8601 strings; the harvest types them again
        value = node.get("datePublished")
        if isinstance(value, dict) and "@value" in value:
            node["datePublished"] = value["@value"]
    nodes.sort(key=lambda n: (n.get("@id") != study, n.get("@id", "")))
    descriptor = {
        "@id": file_name,
        "@type": "CreativeWork",
        "conformsTo": [{"@id": "https://w3id.org/ro/crate/1.2"}, {"@id": "https://www.gide-project.org/ro-crate/search/1.0/profile"}],
        "about": {"@id": study},
    }
    return {"@context": [RO_CRATE, GIDE_TERMS], "@graph": [descriptor] + nodes}


def studies_of(store, graph: str) -> list[tuple[str, str]]:
    """(study IRI, identifier) of every study in a source graph."""
    rows = store.query(f"SELECT ?s ?id WHERE {{ GRAPH <{graph}> {{ ?s a <{SCHEMA}Dataset> ; <{SCHEMA}identifier> ?id }} }} ORDER BY ?id")
    return [(r["s"].value, r["id"].value) for r in rows]


def export_source(store, source: str, folder) -> int:
    """Write `<identifier>-ro-crate-metadata.json` for every study of a source; returns how many."""
    from pathlib import Path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    for study, ident in studies_of(store, GRAPH + source):
        name = f"{ident}-ro-crate-metadata.json"
        (folder / name).write_text(json.dumps(crate_for(store, study, GRAPH + source, name), indent=1, ensure_ascii=False), encoding="utf-8")
        n += 1
    return n
