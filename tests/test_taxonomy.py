"""Every organism a study uses reaches its top-level division (Bacteria, Archaea, Eukaryota, Viruses, or
NCBI's "unclassified entries"), through NCBI's lineage or a parent inferred from the scientific name."""

from __future__ import annotations

import pytest
import requests

from kg.terms import TermIndex
from kg.terms.taxonomy import TOP_LEVEL, coverage

from _server import running_app

TAXON = "http://purl.obolibrary.org/obo/NCBITaxon_"
KG = "https://w3id.org/gide-kg/vocab#"
CLOSURE = "https://w3id.org/gide-kg/graph/closure"
TOPS = " ".join(f"<{iri}>" for iri in TOP_LEVEL)


@pytest.fixture(scope="module")
def index(full_store):
    return TermIndex.from_store(full_store)


def test_no_study_organism_without_a_division(full_store, select):
    used = select(
        full_store, "SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { ?s a schema:Dataset ; kg:organism ?o FILTER(isIRI(?o)) }"
    )
    assert int(used[0]["n"].value) == 226
    orphans = select(
        full_store,
        f"""SELECT DISTINCT ?o WHERE {{ ?s a schema:Dataset ; kg:organism ?o FILTER(isIRI(?o))
        FILTER NOT EXISTS {{ GRAPH <{CLOSURE}> {{ ?o kg:subClassOfOrSelf ?top VALUES ?top {{ {TOPS} }} }} }} }}""",
    )
    assert orphans == []
    # the two the issue names reach Bacteria through NCBI's own lineage (no inference)
    for taxon in ("1415167", "1143"):
        assert select(full_store, f"ASK {{ GRAPH <{CLOSURE}> {{ <{TAXON}{taxon}> kg:subClassOfOrSelf <{TAXON}2> }} }}")
        assert not select(full_store, f"ASK {{ <{TAXON}{taxon}> kg:inferredParent ?p }}")


def test_inferred_parents_are_flagged(full_store, select, index):
    rows = select(
        full_store,
        "SELECT ?t ?p WHERE { ?t kg:inferredParent ?p ; rdfs:subClassOf ?p ; kg:inferenceNote ?n } ORDER BY ?t",
    )
    inferred = {r["t"].value: r["p"].value for r in rows}
    assert len(inferred) == 16  # 8 GBIF taxa of idr0134, and the same 8 ids the idr0134 crate wrote as NCBITaxon ids
    assert inferred["https://www.gbif.org/species/4277175"] == TAXON + "41847"  # Scapania parvifolia -> Scapania
    assert (
        inferred["https://www.gbif.org/species/7420792"] == TAXON + "537852"
    )  # S. irrigua subsp. irrigua -> S. irrigua
    details = index.term_details(index.lookup("https://www.gbif.org/species/4277175")[0])
    assert details["inferred"] is True and details["parents"][0]["inferred"] is True
    assert "scientific name 'Scapania parvifolia'" in details["parents"][0]["inference_note"]
    assert TAXON + "2759" in {a["iri"] for a in details["ancestors"]}
    report = coverage(full_store, index)
    assert report["missing"] == [] and report["organisms"] == 226 and report["inferred"] == 16
    assert report["by_division"]["Bacteria"] > 0 and report["by_division"]["unclassified entries"] == 2


def test_bacteria_search_includes_the_filled_taxa(full_store):
    with running_app(full_store) as base:
        # /gide matches exact IRIs by default, as gide-search does; descendants are our opt-in there
        params = {"organism": "ncbitaxon:2", "expand": "true", "size": 100}
        r = requests.get(base + "/gide/search", params=params, timeout=60).json()
    ids = {h["entry"]["identifier"] for h in r["hits"]}
    assert {"S-BIAD2353", "S-BIAD1292"} <= ids  # Bacillus subtilis PY79, Synechocystis sp.
    assert r["total"] == len(ids)
