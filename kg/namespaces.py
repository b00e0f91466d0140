"""IRIs shared by every stage (harvest, mapping, store, serve).

Kept in one small module so that `serve` never has to import `mapping` or `harvest`
just to know what a graph or a predicate is called.
"""

KG_BASE = "https://w3id.org/gide-kg/"
KG = KG_BASE + "vocab#"
GRAPH = KG_BASE + "graph/"
RECORD = KG_BASE + "record/"
RUN = KG_BASE + "run/"
MAPPING = KG_BASE + "mapping/"

PROVENANCE_GRAPH = GRAPH + "provenance"
ONTOLOGY_GRAPH = GRAPH + "ontology/"
CLOSURE_GRAPH = GRAPH + "closure"  # kg:subClassOfOrSelf, the reflexive-transitive rdfs:subClassOf of the ontologies
STAGING_PREFIX = "urn:kg:staging:"

SCHEMA = "http://schema.org/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
OWL = "http://www.w3.org/2002/07/owl#"
PROV = "http://www.w3.org/ns/prov#"
DCT = "http://purl.org/dc/terms/"
DWC = "http://rs.tdwg.org/dwc/terms/"
DWCIRI = "http://rs.tdwg.org/dwc/iri/"
OBO = "http://purl.obolibrary.org/obo/"
BAO = "http://www.bioassayontology.org/bao#"
SKOS = "http://www.w3.org/2004/02/skos/core#"

PREFIXES = {
    "kg": KG,
    "schema": SCHEMA,
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
    "owl": OWL,
    "prov": PROV,
    "dct": DCT,
    "dwc": DWC,
    "dwciri": DWCIRI,
    "obo": OBO,
    "bao": BAO,
    "skos": SKOS,
}


def source_graph(source: str) -> str:
    """Named graph that holds the studies of one harvest source."""
    return GRAPH + source


def record_iri(source: str, name: str) -> str:
    """Provenance entity for one raw record (one crate file) of a source."""
    from urllib.parse import quote

    return f"{RECORD}{source}/{quote(name, safe='-._~')}"


def sparql_prefixes() -> str:
    return "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())


def compact(iri: str) -> str:
    """Shorten an IRI with the known prefixes, for display."""
    best = ""
    for p, ns in PREFIXES.items():
        if iri.startswith(ns) and len(ns) > len(best):
            best, pref = ns, p
    if best:
        local = iri[len(best) :]
        if local and all(c.isalnum() or c in "_-." for c in local):
            return f"{pref}:{local}"
    return iri


def term_namespaces() -> list[dict[str, str]]:
    """The ontology term namespaces of ontologies/namespaces.tsv (one row each: prefix, namespace,
    ontology, ontology_iri, kind), the single source of which namespace is which ontology."""
    from .config import ONTOLOGIES

    return _read_term_namespaces(str(ONTOLOGIES / "namespaces.tsv"))


def _read_term_namespaces(path: str) -> list[dict[str, str]]:
    if path not in _TERM_NAMESPACES:
        from pathlib import Path

        columns = ("prefix", "namespace", "ontology", "ontology_iri", "kind")
        rows = []
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                cells = line.split("\t")
                if len(cells) != len(columns):
                    raise ValueError(f"{path}: expected {len(columns)} tab-separated columns, got {line!r}")
                rows.append(dict(zip(columns, cells, strict=True)))
        _TERM_NAMESPACES[path] = rows
    return _TERM_NAMESPACES[path]


_TERM_NAMESPACES: dict[str, list[dict[str, str]]] = {}
