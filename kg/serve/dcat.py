"""The DCAT catalogue served at /catalog, from one CONSTRUCT (queries/internal/dcat/catalog.rq).

The shape of the catalogue is data (a query file anyone can read and run at /sparql); this module only hands
it the rows that live outside the graph: the sources of the configuration (sources.toml) and the dump files of
the manifest (dumps.json).
"""

from __future__ import annotations

import pyoxigraph as ox

from ..config import QUERIES
from ..namespaces import GRAPH
from .queries import bind_iri, bind_values, internal_queries

PLACEHOLDER = "<urn:gide-kg:bind:base>"
FORMATS = ("application/n-quads", "text/turtle")  # the per-source dumps offered as distributions


def dcat_triples(store, base: str, sources: dict, dumps: dict | None) -> list[ox.Triple]:
    """DCAT triples for a server at `base` (e.g. http://127.0.0.1:8000)."""
    query = internal_queries(QUERIES / "internal" / "dcat")["catalog"].text
    query = bind_values(
        query,
        ("name", "title", "kind", "publisher", "landing"),
        [
            (name, s.label, s.kind, ox.NamedNode(s.publisher), ox.NamedNode(s.landing or s.publisher))
            for name, s in sources.items()
        ],
    )
    files = [d for d in (dumps or {}).get("dumps", []) if d.get("graph") and d["format"] in FORMATS]
    query = bind_values(
        query,
        ("g", "file", "format", "bytes", "sha256"),
        [
            (ox.NamedNode(d["graph"]), d["file"], d["format"], int(d["bytes"]), d["sha256"])
            for d in files
            if d["graph"].startswith(GRAPH)
        ],
    )
    return list(store.query(bind_iri(query, base, PLACEHOLDER)))
