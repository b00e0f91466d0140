"""Normalisation rules on variants the bundled crates do not happen to contain (seen in other GIDE crates).

Each case edits one value of the real idr0003 crate and harvests it; the graph must hold the canonical
form and keep what the source wrote as kg:sourceValue.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kg.config import load_sources
from kg.pipeline import harvest_folder
from kg.store import open_store

from expected import BIA_QUANTITIVE_VALUE

ROOT = Path(__file__).resolve().parent.parent
STUDY = "https://idr.openmicroscopy.org/study/idr0003/"
KG = "https://w3id.org/gide-kg/vocab#"


def harvest_variant(tmp_path, edit) -> object:
    crate = json.loads((ROOT / "data" / "crates" / "idr" / "idr0003-ro-crate-metadata.json").read_text())
    nodes = {n["@id"]: n for n in crate["@graph"]}
    edit(crate, nodes)
    folder = tmp_path / "crates"
    folder.mkdir()
    (folder / "idr0003-ro-crate-metadata.json").write_text(json.dumps(crate))
    store = open_store(None)
    reports = harvest_folder(store, load_sources(), folder)
    assert [r.studies for r in reports] == [1], [r.quarantined for r in reports]
    return store


def values(store, pattern: str) -> list[str]:
    return sorted(r["v"].value for r in store.query(f"SELECT ?v WHERE {{ {pattern} }}"))


@pytest.mark.parametrize(
    "written,canonical",
    [
        ("CC0", "https://creativecommons.org/publicdomain/zero/1.0/"),
        ("CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/"),
        ("http://creativecommons.org/licenses/by/4.0/legalcode", "https://creativecommons.org/licenses/by/4.0/"),
        ("https://creativecommons.org/licenses/by-nc-sa/3.0", "https://creativecommons.org/licenses/by-nc-sa/3.0/"),
        ("https://v18.proteinatlas.org/about/licence", "https://v18.proteinatlas.org/about/licence"),
    ],
)
def test_licence_variants(tmp_path, written, canonical):
    store = harvest_variant(tmp_path, lambda c, n: n[STUDY].__setitem__("license", written))
    assert values(store, f"<{STUDY}> <http://schema.org/license> ?v") == [canonical]
    kept = values(store, f"<{canonical}> <{KG}sourceValue> ?v")
    assert kept == ([] if written == canonical else [written])


def test_zero_padded_taxon_and_lower_case_fbbi(tmp_path):
    def edit(crate, nodes):
        for node in crate["@graph"]:
            text = json.dumps(node)
            text = text.replace(
                "http://purl.obolibrary.org/obo/NCBITaxon_4932", "http://purl.obolibrary.org/obo/NCBITaxon_04932"
            )
            text = text.replace(
                "http://purl.obolibrary.org/obo/FBbi_00000246", "http://purl.obolibrary.org/obo/fbbi_246"
            )
            node.clear()
            node.update(json.loads(text))

    store = harvest_variant(tmp_path, edit)
    assert values(store, f"<{STUDY}> <{KG}organism> ?v") == ["http://purl.obolibrary.org/obo/NCBITaxon_4932"]
    assert values(store, f"<{STUDY}> <{KG}imagingMethod> ?v") == ["http://purl.obolibrary.org/obo/FBbi_00000246"]
    assert values(store, f"<http://purl.obolibrary.org/obo/NCBITaxon_4932> <{KG}sourceValue> ?v") == [
        "http://purl.obolibrary.org/obo/NCBITaxon_04932"
    ]
    assert values(store, f"<http://purl.obolibrary.org/obo/FBbi_00000246> <{KG}sourceValue> ?v") == [
        "http://purl.obolibrary.org/obo/fbbi_246"
    ]
    assert values(store, "?s ?p ?v FILTER(isIRI(?v) && CONTAINS(STR(?v), 'NCBITaxon_0'))") == []


def test_doi_variants_and_unit_curie(tmp_path):
    def edit(crate, nodes):
        nodes[STUDY]["seeAlso"] = [{"@id": "http://dx.doi.org/10.1083/JCB.201301120"}]
        nodes["https://doi.org/10.1083/jcb.201301120"]["@id"] = "http://dx.doi.org/10.1083/JCB.201301120"
        nodes["#total-dataset-size"]["unitCode"] = "UO:0000233"
        nodes["#total-dataset-size"]["value"] = "219902325555"

    store = harvest_variant(tmp_path, edit)
    assert values(store, f"<{STUDY}> <http://schema.org/citation> ?v") == ["https://doi.org/10.1083/jcb.201301120"]
    assert values(store, "<https://doi.org/10.1083/jcb.201301120> <http://schema.org/identifier> ?v") == [
        "doi:10.1083/jcb.201301120"
    ]
    rows = list(
        store.query(
            f"SELECT ?v ?u WHERE {{ <{STUDY}#total-dataset-size> <http://schema.org/value> ?v ; <http://schema.org/unitCode> ?u }}"
        )
    )
    assert [(r["v"].value, r["v"].datatype.value, r["u"].value) for r in rows] == [
        ("219902325555", "http://www.w3.org/2001/XMLSchema#integer", "http://purl.obolibrary.org/obo/UO_0000233")
    ]


def test_year_only_date(tmp_path):
    store = harvest_variant(tmp_path, lambda c, n: n[STUDY].__setitem__("datePublished", "2016"))
    rows = list(store.query(f"SELECT ?d WHERE {{ <{STUDY}> <http://schema.org/datePublished> ?d }}"))
    assert [(r["d"].value, r["d"].datatype.value) for r in rows] == [("2016", "http://www.w3.org/2001/XMLSchema#gYear")]


def test_misspelt_type_is_recorded_on_the_typed_node(harvested_store):
    """BIA's QuantitiveValue: every size node says what type the crate gave it; the class itself is untouched."""
    rows = list(
        harvested_store.query(
            f"SELECT (COUNT(?q) AS ?n) WHERE {{ GRAPH <https://w3id.org/gide-kg/graph/bia> {{ ?q a <http://schema.org/QuantitativeValue> ; <{KG}sourceType> ?t FILTER(STRENDS(?t, '/QuantitiveValue')) }} }}"
        )
    )
    assert int(rows[0]["n"].value) == BIA_QUANTITIVE_VALUE
    assert not bool(harvested_store.query(f"ASK {{ <http://schema.org/QuantitativeValue> <{KG}sourceValue> ?v }}"))


def test_one_alternation_decides_as_the_rules_one_by_one():
    """The normaliser asks one regex made of every rule's pattern before trying the rules in turn: over
    every IRI of the bundled crates and the variants above it changes exactly what the rules alone change."""
    import re

    import pyoxigraph as ox

    from kg.mapping.iri_rules import IriNormaliser, _alternation, load_rules
    from kg.mapping.rocrate import parse_crate

    iris = {
        "obo:NCBITaxon_0007955",
        "http://purl.obolibrary.org/obo/ncbitaxon_9606",
        "obo:fbbi_00000246",
        "FBbi: 00000369",
        "DOI: 10.1038/nmeth.1234",
        "https://dx.doi.org/10.1038/nmeth.1234",
        "https://www.ncbi.nlm.nih.gov/pubmed/?term=12345",
        "https://idr.openmicroscopy.org/study/idr0003",
    }
    for path in sorted((ROOT / "data" / "crates").rglob("*-ro-crate-metadata.json")):
        for q in parse_crate(path.read_bytes()).quads:
            iris.update(t.value for t in (q.subject, q.object) if isinstance(t, ox.NamedNode))
    joined, alone = IriNormaliser(), IriNormaliser()
    assert joined._any is not None
    alone._any = None
    changed = {i: joined.normalise(i) for i in iris if joined.normalise(i) is not None}
    assert changed == {i: alone.normalise(i) for i in iris if alone.normalise(i) is not None}
    assert len(iris) == 25_355 and len(changed) == 191 and joined.applied == alone.applied
    assert joined.applied["pubmed"] == 81 and joined.applied["ncbi-datasets-taxon"] == 66
    # a pattern with a global flag cannot be joined: then each rule is tried alone
    assert _alternation([re.compile("(?i)a"), re.compile("b")]) is None
    assert _alternation([r.pattern for r in load_rules()]) is not None
