"""Links across repositories, derived from the whole graph by the CONSTRUCT rules in mappings/links/.

Each link is a direct triple (`kg:relatedStudy`, `kg:sameDataAs`) plus a `kg:StudyLink` node saying
which rule produced it and on what evidence (the shared DOI, ORCID or accession).
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from ..config import MAPPINGS
from ..namespaces import GRAPH

LINKS_GRAPH = GRAPH + "links"


def derive_links(store, folder: Path | None = None) -> list[ox.Triple]:
    """Run every links rule over the union of the public graphs (the links graph itself excluded)."""
    graphs = [g.value for g in store.public_graphs() if g.value != LINKS_GRAPH]
    triples: set[ox.Triple] = set()
    for rule in sorted((folder or MAPPINGS / "links").glob("*.rq")):
        triples.update(store.query(rule.read_text(encoding="utf-8"), default_graph=graphs, named_graphs=graphs))
    return sorted(triples, key=str)
