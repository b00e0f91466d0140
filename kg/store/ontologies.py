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
from ..namespaces import DCT, KG, ONTOLOGY_GRAPH, PROVENANCE_GRAPH, RDFS
from .oxigraph_store import OxigraphStore

FORMATS = {".owl": ox.RdfFormat.RDF_XML, ".rdf": ox.RdfFormat.RDF_XML, ".ttl": ox.RdfFormat.TURTLE, ".nt": ox.RdfFormat.N_TRIPLES}


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


def load_ontologies(store: OxigraphStore, folder: Path | None = None, force: bool = False) -> dict[str, int]:
    """(Re)load every ontology whose files changed; returns {name: triples} for those loaded."""
    folder = folder or ONTOLOGIES
    loaded = {}
    for name, entry in manifest(folder).items():
        graph = ONTOLOGY_GRAPH + name
        files = [folder / f for f in entry["files"]]
        digest = hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()
        g = ox.NamedNode(graph)
        sha_p = ox.NamedNode(KG + "sha256")
        current = [q.object.value for q in store.store.quads_for_pattern(g, sha_p, None, ox.NamedNode(PROVENANCE_GRAPH))]
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
        store.store.remove(ox.Quad(g, sha_p, ox.Literal(current[0]), pg)) if current else None
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
    return loaded
