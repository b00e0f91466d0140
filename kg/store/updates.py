"""SPARQL Update text both stores send: the atomic swap of a source's graph and provenance, and quad blocks
for INSERT DATA / DELETE DATA. Shared here so neither store imports the other."""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox

from ..namespaces import KG, PROV, PROVENANCE_GRAPH


def swap_update(data_stage: str | None, graph: str, prov_stage: str, source_key: str) -> str:
    """One SPARQL Update that moves a staged graph over the served one (unless `data_stage` is None) and
    replaces the source's provenance with the staged provenance; harvest runs (activities) are kept."""
    move = f"MOVE SILENT GRAPH <{data_stage}> TO GRAPH <{graph}> ;" if data_stage else ""
    return f"""PREFIX kg: <{KG}>
        PREFIX prov: <{PROV}>
        {move}
        DELETE {{ GRAPH <{PROVENANCE_GRAPH}> {{ ?s ?p ?o }} }}
        WHERE {{ GRAPH <{PROVENANCE_GRAPH}> {{
            ?s kg:harvestSource {ox.Literal(source_key)} ; ?p ?o
            FILTER NOT EXISTS {{ ?s a prov:Activity }} }} }} ;
        ADD SILENT GRAPH <{prov_stage}> TO GRAPH <{PROVENANCE_GRAPH}> ;
        DROP SILENT GRAPH <{prov_stage}>"""


def quad_block(quads: Iterable[ox.Quad]) -> str:
    """Quads as the body of INSERT DATA / DELETE DATA, grouped by graph."""
    by_graph: dict[str, list[str]] = {}
    for q in quads:
        by_graph.setdefault(str(q.graph_name), []).append(f"{q.subject} {q.predicate} {q.object} .")
    return "\n".join(f"GRAPH {g} {{\n" + "\n".join(ts) + "\n}" for g, ts in by_graph.items())
