"""A source graph's statements grouped by subject, and the nodes that describe one study.

The GIDE entries (search API) and the per-study RO-Crates both need every study's own statements plus
those of the people, organisations, samples, protocols and terms it links to. Asking the store once per
graph and walking the links in Python costs seconds for all studies, where one CONSTRUCT per study cost
about half a second each (11 minutes for an export of every study).
"""

from __future__ import annotations

from collections import defaultdict

import pyoxigraph as ox

from .namespaces import SCHEMA

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
Term = ox.NamedNode | ox.BlankNode | ox.Literal
Node = dict[str, list[Term]]  # predicate IRI -> objects, first seen first, no repeats
NOT_FOLLOWED = {SCHEMA + "license", SCHEMA + "unitCode"}  # written as strings in the crates


def key(term) -> str:
    """The dictionary key of a subject or object: the IRI, or `_:id` for a blank node."""
    return "_:" + term.value if isinstance(term, ox.BlankNode) else term.value


class GraphNodes:
    """Every subject of one or more graphs with its statements (merged in the order the graphs are given)."""

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.local: dict[str, list[str]] = defaultdict(list)  # study IRI -> its `#local` subjects

    @classmethod
    def of(cls, store, graphs: list[str]) -> GraphNodes:
        out = cls()
        for g in graphs:
            out.add(store.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}"), prefix=g)
        return out

    def add(self, triples, prefix: str = "") -> None:
        # blank-node labels are only unique within one query answer: qualify them by the graph
        slug = _slug(prefix)
        for t in triples:
            s = "_:" + t.subject.value + slug if isinstance(t.subject, ox.BlankNode) else t.subject.value
            o = ox.BlankNode(t.object.value + slug) if isinstance(t.object, ox.BlankNode) else t.object
            node = self.nodes.get(s)
            if node is None:
                node = self.nodes[s] = {}
                if "#" in s and not s.startswith("_:"):
                    self.local[s.split("#", 1)[0]].append(s)
            values = node.setdefault(t.predicate.value, [])
            if o not in values:
                values.append(o)

    def types(self, iri: str) -> list[str]:
        return [t.value for t in self.nodes.get(iri, {}).get(RDF_TYPE, [])]

    def closure(self, study: str, depth: int = 3) -> list[str]:
        """The study, its `#local` nodes and every described node they reach (other studies excluded),
        breadth first, so a crate or an entry describes everything it references."""
        seen = [study] + [n for n in self.local.get(study, []) if n != study]
        known = set(seen)
        frontier = list(seen)
        for _ in range(depth):
            nxt = []
            for s in frontier:
                for p, objs in self.nodes.get(s, {}).items():
                    if p in NOT_FOLLOWED or p == RDF_TYPE:
                        continue
                    for o in objs:
                        if isinstance(o, ox.Literal):
                            continue
                        k = key(o)
                        if k in known or k not in self.nodes or SCHEMA + "Dataset" in self.types(k):
                            continue
                        known.add(k)
                        seen.append(k)
                        nxt.append(k)
            frontier = nxt
        return [s for s in seen if s in self.nodes]


def _slug(prefix: str) -> str:
    return "".join(c for c in prefix.rsplit("/", 1)[-1] if c.isalnum())
