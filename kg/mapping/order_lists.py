"""Source order as rdf:Lists whose cells are stable IRIs (skolemised, RDF 1.1 §3.5), not blank nodes.

A list of blank nodes would get fresh labels on every harvest: the store's swap would then rewrite every
list although nothing changed (and DELETE DATA cannot name blank nodes), and a remote store can never
match them. Cell IRIs are digests of what the list is about, so the same record gives the same quads.
"""

from __future__ import annotations

import hashlib

from ..namespaces import KG_BASE, RDF

GENID = KG_BASE + ".well-known/genid/"
FIRST, REST, NIL = RDF + "first", RDF + "rest", RDF + "nil"


def cell_iris(subject: str, predicate: str, kind: str, n: int) -> list[str]:
    """IRIs of the `n` cells of `subject predicate ( … )` as a `kind` of record states it
    (`<GENID><digest>-<position>`; the kind keeps a crate's list apart from a native record's)."""
    digest = hashlib.sha256(f"{kind}\n{subject}\n{predicate}".encode()).hexdigest()[:24]
    return [f"{GENID}{digest}-{i}" for i in range(1, n + 1)]
