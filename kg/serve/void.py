"""The VoID description served at /.well-known/void, from one CONSTRUCT (queries/internal/void/void.rq).

The counting is data (a query file anyone can run at /sparql); only the sources' titles, which live in
the configuration rather than the graph, are added here.
"""

from __future__ import annotations

import pyoxigraph as ox

from ..config import QUERIES
from ..namespaces import DCT, GRAPH, KG
from .queries import bind_iri, internal_queries

PLACEHOLDER = "<urn:gide-kg:bind:void>"


def void_triples(store, base: str, sources: dict) -> list[ox.Triple]:
    """VoID triples for a server at `base` (e.g. http://127.0.0.1:8000)."""
    query = internal_queries(QUERIES / "internal" / "void")["void"].text
    triples = list(store.query(bind_iri(query, base + "/.well-known/void#", PLACEHOLDER)))
    graph_of = {t.subject: t.object.value for t in triples if t.predicate.value == KG + "namedGraph"}
    titles = {GRAPH + name: src.label for name, src in sources.items()}
    triples += [
        ox.Triple(ds, ox.NamedNode(DCT + "title"), ox.Literal(titles[g]))
        for ds, g in sorted(graph_of.items(), key=lambda kv: kv[0].value)
        if g in titles and not ds.value.rsplit("#", 1)[-1].startswith("links-")
    ]
    return triples
