"""A source graph's statements grouped by subject, and the nodes that describe one study.

The GIDE entries (search API) and the per-study RO-Crates both need every study's own statements plus
those of the people, organisations, samples, protocols and terms it links to. Asking the store once per
graph and walking the links in Python costs seconds for all studies, where one CONSTRUCT per study cost
about half a second each (11 minutes for an export of every study).
"""

from __future__ import annotations

from collections import defaultdict

import pyoxigraph as ox

from .namespaces import KG, RDF, SCHEMA

RDF_TYPE = RDF + "type"
Term = ox.NamedNode | ox.BlankNode | ox.Literal
Node = dict[str, list[Term]]  # predicate IRI -> objects, first seen first, no repeats
NOT_FOLLOWED = {SCHEMA + "license", SCHEMA + "unitCode"}  # written as strings in the crates
# property -> predicate of the rdf:List that gives its values in source order (see the README's study shape)
ORDER = {SCHEMA + "author": KG + "authorOrder", SCHEMA + "keywords": KG + "keywordOrder"}
ORDER_LISTS = frozenset(ORDER.values())
MAX_LIST = 10_000  # items read from one rdf:List at most (a cyclic or absurd list cannot hang a request)


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

    def rdf_list(self, head) -> list[Term]:
        """The items of the rdf:List starting at `head` (a term as stored in `nodes`)."""
        items: list[Term] = []
        seen: set[str] = set()
        k = key(head)
        while k != RDF + "nil" and k not in seen and len(items) < MAX_LIST:
            seen.add(k)
            cell = self.nodes.get(k, {})
            first, rest = cell.get(RDF + "first"), cell.get(RDF + "rest")
            if not first or not rest:
                break
            items.append(first[0])
            k = key(rest[0])
        return items

    def values(self, iri: str, pred: str) -> list[Term]:
        """The objects of `pred` on a node, in source order where a source stated one (`ORDER`): the items
        of its lists (graphs in the order given) that are values of `pred`, then any other value as seen."""
        node = self.nodes.get(iri, {})
        objs = node.get(pred, [])
        order = ORDER.get(pred)
        if not order or order not in node:
            return list(objs)
        have = set(objs)
        out: list[Term] = []
        for head in node[order]:
            for item in self.rdf_list(head):
                if item in have:
                    have.discard(item)
                    out.append(item)
        return out + [o for o in objs if o in have]

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
                    if p in NOT_FOLLOWED or p == RDF_TYPE or p in ORDER_LISTS:
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
