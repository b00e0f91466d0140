"""Canonical N-Triples: sorted lines and blank-node labels that depend only on the graph's content.

Parsers and SPARQL updates give blank nodes random labels (the OWL restrictions of the ontology files, the
SSBD ontology's ranges), and a store lists quads in the order of its internal ids, so two harvests of the
same records would write different bytes. Dumps therefore relabel every blank node by a digest of what
surrounds it (colour refinement over the quads it occurs in, individualising ties, as canonical-labelling
tools do) and sort the lines: the same content gives the same bytes.
"""

from __future__ import annotations

import hashlib

import pyoxigraph as ox

MAX_ROUNDS = 1000  # refinement rounds at most (a long rdf:List takes about as many as its length)


def canonical_graphs(per_graph: dict[str, bytes]) -> dict[str, bytes]:
    """{graph IRI: N-Triples} -> the same graphs with canonical blank-node labels and sorted lines.

    Labels are computed over all graphs at once, so a blank node shared by two graphs keeps one label."""
    plain: dict[str, list[bytes]] = {}
    with_bnodes: list[ox.Quad] = []
    for g, nt in per_graph.items():
        lines = nt.splitlines(keepends=True)
        plain[g] = [line for line in lines if b"_:" not in line]
        odd = b"".join(line for line in lines if b"_:" in line)  # blank nodes, or "_:" inside a literal
        if odd:
            gn = ox.NamedNode(g)
            with_bnodes += [
                ox.Quad(q.subject, q.predicate, q.object, gn) for q in ox.parse(odd, format=ox.RdfFormat.N_TRIPLES)
            ]
    labels = _labels(with_bnodes)

    def term(t):
        return ox.BlankNode(labels[t.value]) if isinstance(t, ox.BlankNode) else t

    for q in with_bnodes:
        triple = ox.Triple(term(q.subject), q.predicate, term(q.object))
        plain[q.graph_name.value].append(ox.serialize([triple], format=ox.RdfFormat.N_TRIPLES))
    return {g: b"".join(sorted(lines)) for g, lines in plain.items()}


def _labels(quads: list[ox.Quad]) -> dict[str, str]:
    """Blank-node label -> canonical label: colours refined until stable; a node still tied with others
    is singled out and the refinement repeated (individualise and refine), so every node ends unique."""
    occurs: dict[str, list[tuple[str, ox.Quad]]] = {}
    for q in quads:
        for pos, t in (("s", q.subject), ("o", q.object)):
            if isinstance(t, ox.BlankNode):
                occurs.setdefault(t.value, []).append((pos, q))
    colour = _refine(occurs, {b: "" for b in occurs})
    while True:
        groups: dict[str, list[str]] = {}
        for b, c in colour.items():
            groups.setdefault(c, []).append(b)
        tied = sorted(c for c, members in groups.items() if len(members) > 1)
        if not tied:
            return {b: c[:32] for b, c in colour.items()}
        # any member will do: tied nodes are automorphic in practice, so the output is the same
        colour[groups[tied[0]][0]] = _digest(tied[0] + "*")
        colour = _refine(occurs, colour)


def _refine(occurs: dict[str, list[tuple[str, ox.Quad]]], colour: dict[str, str]) -> dict[str, str]:
    """Recolour each node by its quads (neighbours shown by colour) until the partition stops splitting."""
    classes = len(set(colour.values()))
    for _ in range(MAX_ROUNDS):

        def show(t, me: str, colour: dict[str, str] = colour) -> str:
            if isinstance(t, ox.BlankNode):
                return "_:self" if t.value == me else "_:" + colour[t.value]
            return str(t)

        colour = {
            b: _digest(
                colour[b]
                + "\n"
                + "\n".join(
                    sorted(
                        f"{pos} {show(q.subject, b)} {q.predicate} {show(q.object, b)} {q.graph_name}" for pos, q in occ
                    )
                )
            )
            for b, occ in occurs.items()
        }
        now = len(set(colour.values()))
        if now == classes:
            break
        classes = now
    return colour


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
