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
    """Run every links rule over the union of the public graphs.

    The rules read studies' own statements (type, author, publisher, citation, accession) and never what
    a rule writes (`kg:relatedStudy`, `kg:sameDataAs`, `kg:StudyLink` nodes; tests/test_links.py checks it),
    so the links graph being in the union changes no answer, and the store's default union is 10-20x
    faster on the embedded store than the same union listed graph by graph (6.5 s -> 0.4 s on the
    bundled data, a third of a whole harvest)."""
    triples: set[ox.Triple] = set()
    for rule in sorted((folder or MAPPINGS / "links").glob("*.rq")):
        triples.update(store.query(rule.read_text(encoding="utf-8")))
    return sorted(triples, key=str)
