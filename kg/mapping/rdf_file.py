"""A native RDF file (Turtle, RDF/XML) as one record: parsed as is; SPARQL rules do the mapping.

Such a record can describe many studies (SSBD's RDF holds every project), so it has no single root.
"""

from __future__ import annotations

import pyoxigraph as ox

from .rocrate import CrateError, ParsedCrate


def parse_turtle(content: bytes, graph_name: ox.NamedNode | None = None, fix_iri=None) -> ParsedCrate:
    try:
        triples = ox.parse(content, format=ox.RdfFormat.TURTLE)
        g = graph_name or ox.DefaultGraph()
        quads = [ox.Quad(t.subject, t.predicate, t.object, g) for t in triples]
    except SyntaxError as e:
        raise CrateError(f"Turtle error: {e}") from e
    if not quads:
        raise CrateError("file holds no triples")
    return ParsedCrate(root=None, publisher=None, quads=quads)
