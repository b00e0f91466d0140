"""SSBD's own RDF (ssbd-ontology instances): mapped by SPARQL rules, reconciled with SSBD:database crates."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.pipeline import harvest_live, harvest_snapshot
from kg.store import open_store

from _server import running_app

ROOT = Path(__file__).resolve().parent.parent
TTL = ROOT / "data" / "native" / "ssbd" / "SSBD_all_instances.ttl"
KG = "https://w3id.org/gide-kg/vocab#"
S = "http://schema.org/"
SSBD = "http://ssbd.riken.jp/ontology/"
NATIVE = "https://w3id.org/gide-kg/graph/ssbd-rdf"
CRATES = "https://w3id.org/gide-kg/graph/ssbd-database"


@pytest.fixture(scope="module")
def raw():
    """The SSBD file itself, read independently of the mapping."""
    store = ox.Store()
    store.load(path=str(TTL), format=ox.RdfFormat.TURTLE)
    return store


def values(store, query: str, var: str = "v") -> list[str]:
    return sorted(r[var].value for r in store.query(query))


def test_every_project_is_a_study(full_store, raw):
    names = values(raw, f"SELECT ?v WHERE {{ ?p a <{SSBD}SSBD_Project> ; <{SSBD}has_project_name> ?v }}")
    assert len(names) == 7
    got = values(full_store, f"SELECT ?v WHERE {{ GRAPH <{NATIVE}> {{ ?s a <{S}Dataset> ; <{S}identifier> ?v }} }}")
    assert got == names


def test_projects_meet_their_crates(full_store):
    rows = {
        r["id"].value: r["s"].value
        for r in full_store.query(
            f"SELECT ?id ?s WHERE {{ GRAPH <{NATIVE}> {{ ?s a <{S}Dataset> ; <{S}identifier> ?id }} }}"
        )
    }
    crate_names = {
        p.name.replace("-ro-crate-metadata.json", "") for p in (ROOT / "data/crates/ssbd-database").glob("*.json")
    }
    for name, iri in rows.items():
        if name in crate_names:
            assert iri.startswith("https://ssbd.riken.jp/v") and iri.endswith("/project/" + name)
            graphs = values(full_store, f"SELECT DISTINCT ?v WHERE {{ GRAPH ?v {{ <{iri}> a <{S}Dataset> }} }}")
            assert graphs == [CRATES, NATIVE]
    # 98-Morita has no crate in the bundle: it enters under its project URL
    assert "98-Morita-ToothEpiCellDyn" not in crate_names
    assert rows["98-Morita-ToothEpiCellDyn"] == "https://ssbd.riken.jp/database/project/98/"
    assert sum(1 for n in rows if n in crate_names) == 6


def test_every_linked_dataset_is_a_part_with_its_facts(full_store, raw):
    linked = values(raw, f"SELECT ?v WHERE {{ ?p <{SSBD}has_dataset_output> ?v }}")
    parts = values(full_store, f"SELECT ?v WHERE {{ GRAPH <{NATIVE}> {{ ?s <{S}hasPart> ?v }} }}")
    assert parts == linked and len(parts) == 66
    with_org = values(
        raw,
        f"SELECT DISTINCT ?v WHERE {{ ?p <{SSBD}has_dataset_output> ?v . ?v <{SSBD}has_biosample_information>/<{SSBD}is_about_organism> ?o }}",
    )
    got = values(
        full_store, f"SELECT DISTINCT ?v WHERE {{ GRAPH <{NATIVE}> {{ ?v <{KG}organism> ?o ; <{S}isPartOf> ?s }} }}"
    )
    assert got == with_org
    # the imaging method predicate is spelt three ways in the source; all are read
    spelt = [
        f"{SSBD}has_imaging_method_recorded_type",
        f"{SSBD}has_imaging_mehod_recorded_type",
        f"{SSBD}has_imaging_method_rcorded_type",
    ]
    with_method = values(
        raw,
        f"""SELECT DISTINCT ?v WHERE {{ ?p <{SSBD}has_dataset_output> ?v .
        ?v <{SSBD}has_imaging_method_total_info> ?im . VALUES ?pred {{ {" ".join(f"<{x}>" for x in spelt)} }} ?im ?pred ?m }}""",
    )
    got = values(
        full_store,
        f"SELECT DISTINCT ?v WHERE {{ GRAPH <{NATIVE}> {{ ?v <{KG}imagingMethod> ?m ; <{S}isPartOf> ?s }} }}",
    )
    assert got == with_method and len(got) == 66


def test_strains_with_jax_iris(full_store):
    study = "https://ssbd.riken.jp/v2/project/199-Ichimura-MulticellularDyn"
    assert values(full_store, f"SELECT ?v WHERE {{ <{study}> <{KG}strain> ?v }}") == [
        "https://www.jax.org/strain/000664"
    ]
    assert values(
        full_store,
        "SELECT ?v WHERE { <https://www.jax.org/strain/000664> <http://www.w3.org/2000/01/rdf-schema#label> ?v }",
    ) == ["C57BL/6J"]


def test_ome_zarr_distributions(full_store, raw):
    endpoints = values(
        raw,
        f"SELECT ?v WHERE {{ ?p <{SSBD}has_dataset_output>/<{SSBD}has_ome_zarr_information>/<{SSBD}has_s3_endpoint> ?v }}",
    )
    got = values(
        full_store,
        f"""SELECT ?v WHERE {{ GRAPH <{NATIVE}> {{ ?s <{S}hasPart>/<{S}distribution> ?z .
        ?z a <{S}DataDownload> ; <{S}encodingFormat> "OME-Zarr" ; <{S}contentUrl> ?u BIND(STR(?u) AS ?v) }} }}""",
    )
    assert got == endpoints
    assert "https://ssbd.riken.jp/100118-dcacbb41/zarr/v0.4/Fig2_BrainSliceRGB.zarr" in got


def test_conflicts_between_crate_and_rdf(full_store):
    rows = [
        (r["study"].value, r["property"].value, r["graph"].value, r["value"].value)
        for r in full_store.query((ROOT / "queries" / "reconciliation-conflicts.rq").read_text())
    ]
    study = "https://ssbd.riken.jp/v2/project/199-Ichimura-MulticellularDyn"
    assert (study, S + "datePublished", CRATES, "2022-11-23") in rows
    assert (study, S + "datePublished", NATIVE, "2021-09-23") in rows
    assert (study, KG + "organism", CRATES, "http://purl.obolibrary.org/obo/NCBITaxon_44689") in rows


def test_search_filters_on_ome_zarr_and_study_type(full_store):
    from kg.serve.app import create_app

    client = create_app(full_store).test_client()
    zarr = client.get("/search", query_string={"ome_zarr": "yes", "format": "json", "size": 100}).get_json()
    expected = values(
        full_store,
        f"""SELECT DISTINCT ?v WHERE {{ ?v a <{S}Dataset> ; <{S}hasPart>/<{S}distribution>/<{S}encodingFormat> "OME-Zarr" }}""",
    )
    assert sorted(h["id"] for h in zarr["hits"]) == expected and zarr["total"] == 6
    hcs = client.get(
        "/search", query_string={"study_type": "http://www.ebi.ac.uk/efo/EFO_0007550", "format": "json"}
    ).get_json()
    n = len(
        values(full_store, f"SELECT DISTINCT ?v WHERE {{ ?v <{KG}studyType> <http://www.ebi.ac.uk/efo/EFO_0007550> }}")
    )
    assert hcs["total"] == n > 0
    assert {f["key"]: f["count"] for f in hcs["facets"]["study_type"]}["http://www.ebi.ac.uk/efo/EFO_0007550"] == n
    assert client.get("/search", query_string={"ome_zarr": "maybe"}).status_code == 400
    page = client.get("/study/ssbd-database/199-Ichimura-MulticellularDyn").get_data(as_text=True)
    assert "Strains" in page and "C57BL/6J" in page and "OME-Zarr data" in page and "Fig2_BrainSliceRGB.zarr" in page


def test_live_path_constructs_from_a_sparql_endpoint(sources, tmp_path):
    """SSBD's live path asks a SPARQL endpoint; here our own /sparql serves the bundled RDF."""
    server_store = open_store(None)
    server_store.store.load(path=str(TTL), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode("http://example.org/ssbd"))
    with running_app(server_store) as base:
        source = dataclasses.replace(
            sources["ssbd-rdf"], live={"endpoint": base + "/sparql", "query": "ssbd-rdf/live-construct.rq"}
        )
        live = open_store(None)
        report = harvest_live(live, source, tmp_path / "cache")
    assert report.ok, report.error
    assert report.studies == 7 and report.live["endpoint"] == base + "/sparql"
    snap = open_store(None)
    harvest_snapshot(snap, sources["ssbd-rdf"])
    q = f"SELECT ?v WHERE {{ GRAPH <{NATIVE}> {{ ?s <{S}hasPart>/<{S}distribution>/<{S}contentUrl> ?u BIND(STR(?u) AS ?v) }} }}"
    assert values(live, q) == values(snap, q) != []
    loc = values(
        live,
        f"SELECT ?v WHERE {{ ?r <{KG}fileName> 'sparql-construct.ttl' ; <http://www.w3.org/ns/prov#atLocation> ?l BIND(STR(?l) AS ?v) }}",
    )
    assert loc == [base + "/sparql"]


def test_unreachable_endpoint_keeps_the_previous_graph(sources, tmp_path):
    store = open_store(None)
    assert harvest_snapshot(store, sources["ssbd-rdf"]).ok
    source = dataclasses.replace(sources["ssbd-rdf"], live={"endpoint": "http://127.0.0.1:9/sparql"})
    report = harvest_live(store, source, tmp_path / "cache")
    assert not report.ok and "CONSTRUCT failed" in report.error
    assert len(values(store, f"SELECT ?v WHERE {{ GRAPH <{NATIVE}> {{ ?v a <{S}Dataset> }} }}")) == 7
