"""The marker that links, closure and grounding lag behind the swapped-in sources.

A source's swap and the rebuild of the derived graphs are separate writes: a harvest killed between them
would leave links and grounding that describe the previous sources. So the load phase states
`kg:Harvester kg:derivedGraphsStale <time>` in the provenance graph before the first swap and removes it
once the derived graphs are rebuilt; `kg harvest`, `kg up` and `kg serve` finding it repair first
(kg/pipeline.py). A module of its own so that `kg serve` checks it without importing the harvester.
"""

from __future__ import annotations

import pyoxigraph as ox

from .namespaces import KG, PROVENANCE_GRAPH, XSD
from .records import utcnow

_HARVESTER = ox.NamedNode(KG + "Harvester")
_STALE = ox.NamedNode(KG + "derivedGraphsStale")
_PROV = ox.NamedNode(PROVENANCE_GRAPH)


def derived_stale(store) -> bool:
    return any(True for _ in store.quads_for_pattern(_HARVESTER, _STALE, None, PROVENANCE_GRAPH))


def mark_derived_stale(store) -> None:
    store.append(
        [ox.Quad(_HARVESTER, _STALE, ox.Literal(utcnow().isoformat(), datatype=ox.NamedNode(XSD + "dateTime")), _PROV)]
    )
    store.flush()


def clear_derived_stale(store) -> None:
    marks = list(store.quads_for_pattern(_HARVESTER, _STALE, None, PROVENANCE_GRAPH))
    if marks:
        store.remove(marks)
        store.flush()
