"""Ontology graphs (FBbi, NCBITaxon subset, EDAM-bioimaging, our own), one named graph each.

Loaded from the files listed in ontologies/manifest.toml; a graph is reloaded only when its files'
hash changes (kept as `kg:sha256` on the graph in the provenance graph), so `kg harvest` stays cheap.
"""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

import pyoxigraph as ox

from ..config import ONTOLOGIES
from ..namespaces import CLOSURE_GRAPH, DCT, KG, ONTOLOGY_GRAPH, OWL, PROVENANCE_GRAPH, RDFS
from .interface import Store

FORMATS = {
    ".owl": ox.RdfFormat.RDF_XML,
    ".rdf": ox.RdfFormat.RDF_XML,
    ".ttl": ox.RdfFormat.TURTLE,
    ".nt": ox.RdfFormat.N_TRIPLES,
}


def manifest(folder: Path | None = None) -> dict:
    """The bundled ontologies (manifest.toml) and the harvested subsets (harvested/manifest.toml)."""
    folder = folder or ONTOLOGIES
    with open(folder / "manifest.toml", "rb") as f:
        entries = tomllib.load(f)
    harvested = folder / "harvested" / "manifest.toml"
    if harvested.exists():
        with open(harvested, "rb") as f:
            for name, entry in tomllib.load(f).items():
                entries.setdefault(name, entry)
    return entries


def load_ontologies(store: Store, folder: Path | None = None, force: bool = False) -> dict[str, int]:
    """(Re)load every ontology whose files changed; returns {name: triples} for those loaded."""
    folder = folder or ONTOLOGIES
    loaded = {}
    for name, entry in manifest(folder).items():
        graph = ONTOLOGY_GRAPH + name
        files = [folder / f for f in entry["files"]]
        digest = hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()
        g = ox.NamedNode(graph)
        sha_p = ox.NamedNode(KG + "sha256")
        current = [q.object.value for q in store.quads_for_pattern(g, sha_p, None, PROVENANCE_GRAPH)]
        if not force and current == [digest] and store.has_graph(graph):
            continue
        quads = []
        for f in files:
            fmt = FORMATS.get(f.suffix.lower())
            if fmt is None:
                raise ValueError(f"ontology file {f}: unknown format")
            quads.extend(ox.parse(path=str(f), format=fmt, base_iri=f"file://{f.name}"))
        store.replace_graph(graph, quads)
        pg = ox.NamedNode(PROVENANCE_GRAPH)
        store.remove([ox.Quad(g, sha_p, ox.Literal(current[0]), pg)] if current else [])
        store.append(
            [
                ox.Quad(g, sha_p, ox.Literal(digest), pg),
                ox.Quad(g, ox.NamedNode(RDFS + "label"), ox.Literal(entry.get("label", name)), pg),
                ox.Quad(g, ox.NamedNode(DCT + "source"), ox.Literal(entry.get("source", "")), pg),
                ox.Quad(g, ox.NamedNode(KG + "version"), ox.Literal(entry.get("version", "")), pg),
                ox.Quad(g, ox.NamedNode(DCT + "license"), ox.Literal(entry.get("licence", "")), pg),
            ]
        )
        loaded[name] = len({(q.subject, q.predicate, q.object) for q in quads})  # distinct triples
    if loaded or not store.has_graph(CLOSURE_GRAPH):
        rebuild_closure(store)
    return loaded


def rebuild_closure(store: Store) -> int:
    """Materialise `?class kg:subClassOfOrSelf ?ancestor` (rdfs:subClassOf*, reflexive) over all ontologies,
    plus `?t kg:subClassOfOrSelf ?t` for organism / method terms of the studies that no ontology holds
    (so that it answers like the zero-length path).

    Hierarchy questions then are one join instead of a property path evaluated per row: 10-100x faster in
    pyoxigraph on a large graph, and portable to servers whose path support is weak (Virtuoso 7.2
    returns no rows for `rdfs:subClassOf*` over several FROM graphs)."""
    rows = store.query(
        f"""SELECT ?c ?p WHERE {{ GRAPH ?g {{ {{ ?c <{RDFS}subClassOf> ?p }} UNION {{ ?c a <{OWL}Class> }} }}
            FILTER(STRSTARTS(STR(?g), "{ONTOLOGY_GRAPH}") && isIRI(?c)) }}"""
    )
    parents: dict[str, set[str]] = {}
    used = store.query(f"SELECT DISTINCT ?t WHERE {{ ?s <{KG}organism>|<{KG}imagingMethod> ?t FILTER(isIRI(?t)) }}")
    for r in used:
        parents.setdefault(r["t"].value, set())
    for r in rows:
        parents.setdefault(r["c"].value, set())
        p = r["p"]
        if isinstance(p, ox.NamedNode):
            parents[r["c"].value].add(p.value)
            parents.setdefault(p.value, set())
    ancestors: dict[str, set[str]] = {}

    def up(c: str, seen: frozenset = frozenset()) -> set[str]:
        if c in ancestors:
            return ancestors[c]
        out = {c}
        for p in parents.get(c, ()):
            if p not in seen:  # tolerate cycles in harvested ontologies
                out |= up(p, seen | {c})
        ancestors[c] = out
        return out

    g, pred = ox.NamedNode(CLOSURE_GRAPH), ox.NamedNode(KG + "subClassOfOrSelf")
    quads = [ox.Quad(ox.NamedNode(c), pred, ox.NamedNode(a), g) for c in sorted(parents) for a in sorted(up(c))]
    store.replace_graph(CLOSURE_GRAPH, quads)
    return len(quads)
