"""The cross-repository links (mappings/links/*.rq, kg/mapping/links.py) over every bundled source.

The rules run over the store's default union of public graphs, the links graph included (the fast path of
the embedded store); they must give exactly what they give with the links graph left out, as they did when
each graph was listed: a rule that read what a rule writes would make a re-harvest feed on its own output.
"""

from __future__ import annotations

from collections import Counter

from kg.config import MAPPINGS
from kg.mapping.links import LINKS_GRAPH, derive_links

RULES = sorted((MAPPINGS / "links").glob("*.rq"))


def test_the_links_graph_holds_what_the_rules_derive(full_store):
    links = derive_links(full_store)
    assert len(links) == 530 and full_store.graph_sizes()[LINKS_GRAPH] == 530
    assert Counter(t.predicate.value.rsplit("#", 1)[-1] for t in links) == {
        "relatedStudy": 104,
        "sameDataAs": 46,
        "type": 76,
        "linkType": 76,
        "fromStudy": 76,
        "toStudy": 76,
        "evidence": 76,
    }
    assert {(t.subject.value, t.object.value) for t in links if t.predicate.value.endswith("#sameDataAs")} >= {
        (
            "https://idr.openmicroscopy.org/study/idr0157/",
            "https://www.ebi.ac.uk/biostudies/bioimages/studies/S-BIAD824",
        )
    }


def test_rules_read_nothing_the_links_graph_holds(full_store):
    """Each rule over the union without the links graph (listed graph by graph) gives the same triples."""
    others = [g.value for g in full_store.public_graphs() if g.value != LINKS_GRAPH]
    assert len(RULES) == 3
    for rule in RULES:
        query = rule.read_text(encoding="utf-8")
        without = set(full_store.query(query, default_graph=others, named_graphs=others))
        assert without and set(full_store.query(query)) == without, rule.name
