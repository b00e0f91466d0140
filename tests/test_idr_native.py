"""IDR's own study files: read, mapped, reconciled with the IDR crates, linked to other repositories."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from _process import run_kg

from kg.mapping.idr_study import decode, load_mapping, read_sections, term_iri
from kg.pipeline import harvest_live, harvest_snapshot
from kg.store import open_store

from expected import IDR_STUDY_FILES

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted((ROOT / "data" / "native" / "idr-study").glob("*/*-study.txt"))
KG = "https://w3id.org/gide-kg/vocab#"
S = "http://schema.org/"
NATIVE = "https://w3id.org/gide-kg/graph/idr-study"
CRATES = "https://w3id.org/gide-kg/graph/idr"


def objects(store, s: str, p: str, graph: str | None = None) -> list[str]:
    g = f"GRAPH <{graph}> " if graph else ""
    return sorted(r["o"].value for r in store.query(f"SELECT DISTINCT ?o WHERE {{ {g}{{ <{s}> <{p}> ?o }} }}"))


def test_every_study_file_yields_a_study(full_store):
    assert len(FILES) == IDR_STUDY_FILES
    n = next(
        iter(
            full_store.query(f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH <{NATIVE}> {{ ?s a <{S}Dataset> }} }}")
        )
    )["n"]
    assert int(n.value) == len(FILES)
    accessions = sorted(f.name.split("-")[0] for f in FILES)
    got = sorted(
        r["id"].value
        for r in full_store.query(
            f"SELECT ?id WHERE {{ GRAPH <{NATIVE}> {{ ?s a <{S}Dataset> ; <{S}identifier> ?id }} }}"
        )
    )
    assert got == accessions


def test_reader_copes_with_encodings_and_line_endings():
    cp1252 = ROOT / "data/native/idr-study/idr0108-sabinina-nuclearporecomplex/idr0108-study.txt"
    with pytest.raises(UnicodeDecodeError):
        cp1252.read_bytes().decode("utf-8")
    study = read_sections(cp1252.read_bytes())[0]
    assert "Hériché JK" in study.first("Study Author List")
    cr_only = ROOT / "data/native/idr-study/idr0099-jain-beetlelightsheet/idr0099-study.txt"
    raw = cr_only.read_bytes()
    assert b"\r" in raw and b"\r\n" not in raw  # old Mac line endings
    sections = read_sections(raw)
    assert sections[0].first("Comment[IDR Study Accession]") == "idr0099"
    assert (
        sections[0].first("Study Title")
        == "Regionalized tissue fluidization is required for epithelial gap closure during insect gastrulation"
    )
    assert "\r" not in decode(raw)


@pytest.mark.parametrize(
    "accession,ref,iri",
    [
        ("FBbi_00000246", "FBbi", "http://purl.obolibrary.org/obo/FBbi_00000246"),
        ("Fbbi_00000246", "Fbbi", "http://purl.obolibrary.org/obo/FBbi_00000246"),
        ("FBbi:00000246", "FBbi", "http://purl.obolibrary.org/obo/FBbi_00000246"),
        ("NCBITaxon_9606", "NCBITaxon", "http://purl.obolibrary.org/obo/NCBITaxon_9606"),
        ("9606", "NCBITaxon", "http://purl.obolibrary.org/obo/NCBITaxon_9606"),
        ("EFO_0007550", "EFO", "http://www.ebi.ac.uk/efo/EFO_0007550"),
        ("CMPO_0000391", "CMPO", "http://www.ebi.ac.uk/cmpo/CMPO_0000391"),
        ("NCIT_C181930", "NCIT", "http://purl.obolibrary.org/obo/NCIT_C181930"),
        ("http://purl.obolibrary.org/obo/EMAP_80", "", "http://purl.obolibrary.org/obo/EMAP_80"),
        ("genomic fragment", "EFO", None),
    ],
)
def test_accessions_become_iris(accession, ref, iri):
    assert term_iri(accession, ref, load_mapping()[1]) == iri


def test_idr0003_native_facts(full_store):
    study = "https://idr.openmicroscopy.org/study/idr0003/"
    assert objects(full_store, study, KG + "studyType", NATIVE) == ["http://www.ebi.ac.uk/efo/EFO_0007550"]
    assert objects(
        full_store, "http://www.ebi.ac.uk/efo/EFO_0007550", "http://www.w3.org/2000/01/rdf-schema#label", NATIVE
    ) == ["high content screen"]
    assert objects(full_store, study, KG + "organism", NATIVE) == ["http://purl.obolibrary.org/obo/NCBITaxon_4932"]
    assert objects(full_store, study, KG + "imagingMethod", NATIVE) == ["http://purl.obolibrary.org/obo/FBbi_00000246"]
    assert objects(full_store, study, S + "citation", NATIVE) == [
        "https://doi.org/10.1083/jcb.201301120",
        "https://pubmed.ncbi.nlm.nih.gov/23509072",
    ]
    screen = study + "#screen-1"
    assert objects(full_store, screen, KG + "screenType", NATIVE) == ["http://www.ebi.ac.uk/efo/EFO_0007556"]
    assert len(objects(full_store, screen, KG + "phenotype", NATIVE)) == 11
    assert objects(full_store, screen, KG + "sampleType", NATIVE) == ["cell"]


def test_idr0022_screen_technology_and_data_doi(full_store):
    study = "https://idr.openmicroscopy.org/study/idr0022/"
    assert objects(full_store, study, KG + "dataDoi", NATIVE) == ["https://doi.org/10.17867/10000128"]
    techs = {
        r["t"].value
        for r in full_store.query(
            f"SELECT ?t WHERE {{ GRAPH <{NATIVE}> {{ <{study}> <{S}hasPart>/<{KG}screenTechnology> ?t }} }}"
        )
    }
    assert techs == {"http://www.ebi.ac.uk/efo/EFO_0007551"}
    assert objects(
        full_store, "http://www.ebi.ac.uk/efo/EFO_0007551", "http://www.w3.org/2000/01/rdf-schema#label", NATIVE
    ) == ["RNAi screen"]


def test_organism_number_with_a_wrong_source_ref(full_store):
    """idr0119 writes its organism as 9606 with Term Source REF "EFO": read as NCBITaxon."""
    assert objects(full_store, "https://idr.openmicroscopy.org/study/idr0119/", KG + "organism", NATIVE) == [
        "http://purl.obolibrary.org/obo/NCBITaxon_9606"
    ]


def test_gbif_taxa_stay_gbif(full_store):
    orgs = objects(full_store, "https://idr.openmicroscopy.org/study/idr0134/", KG + "organism", NATIVE)
    assert "https://www.gbif.org/species/4277188" in orgs
    assert "http://purl.obolibrary.org/obo/NCBITaxon_4277188" not in orgs


def test_crate_and_native_meet_on_one_iri_with_provenance_each(full_store):
    study = "https://idr.openmicroscopy.org/study/idr0003/"
    graphs = sorted(
        r["g"].value
        for r in full_store.query(f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ <{study}> a <{S}Dataset> }} }}")
    )
    assert graphs == [CRATES, NATIVE]
    records = {
        r["src"].value: r["file"].value
        for r in full_store.query(
            f"""SELECT ?src ?file WHERE {{ <{study}> <http://www.w3.org/ns/prov#wasDerivedFrom> ?rec .
                ?rec <{KG}harvestSource> ?src ; <{KG}fileName> ?file }}"""
        )
    }
    assert records == {"idr": "idr0003-ro-crate-metadata.json", "idr-study": "idr0003-study.txt"}


def test_studies_known_only_to_the_study_files_enter(full_store):
    rows = full_store.query(
        f"""SELECT ?s WHERE {{ GRAPH <{NATIVE}> {{ ?s a <{S}Dataset> }}
            FILTER NOT EXISTS {{ GRAPH <{CRATES}> {{ ?s a <{S}Dataset> }} }} }} ORDER BY ?s"""
    )
    only_native = [r["s"].value.rsplit("/", 2)[-2] for r in rows]
    crate_ids = {p.name.split("-")[0] for p in (ROOT / "data/crates/idr").glob("*.json")}
    file_ids = {p.name.split("-")[0] for p in FILES}
    assert (
        only_native
        == sorted(file_ids - crate_ids)
        == ["idr0072", "idr0084", "idr0107", "idr0141", "idr0146", "idr0159"]
    )


def test_conflict_report_lists_real_conflicts(full_store):
    rows = [
        {k: r[k].value for k in ("study", "property", "graph", "value")}
        for r in full_store.query((ROOT / "queries" / "reconciliation-conflicts.rq").read_text())
    ]
    # the IDR crate turned idr0134's GBIF taxon ids into NCBITaxon IRIs; the study file says GBIF
    assert {
        "study": "https://idr.openmicroscopy.org/study/idr0134/",
        "property": KG + "organism",
        "graph": CRATES,
        "value": "http://purl.obolibrary.org/obo/NCBITaxon_4277188",
    } in rows
    # idr0086: the crate says scanning electron microscopy, the study file says another method
    assert {
        "study": "https://idr.openmicroscopy.org/study/idr0086/",
        "property": KG + "imagingMethod",
        "graph": CRATES,
        "value": "http://purl.obolibrary.org/obo/FBbi_00000257",
    } in rows
    assert {r["study"].split("/")[2] for r in rows} == {"idr.openmicroscopy.org", "ssbd.riken.jp"}


def test_cross_repository_links_with_evidence(full_store):
    rows = {
        (r["study"].value, r["duplicate"].value, r["evidence"].value)
        for r in full_store.query((ROOT / "queries" / "probable-duplicates.rq").read_text())
    }
    assert (
        "https://idr.openmicroscopy.org/study/idr0157/",
        "https://www.ebi.ac.uk/biostudies/bioimages/studies/S-BIAD824",
        "S-BIAD824",
    ) in rows
    assert (
        "https://ssbd.riken.jp/repository/ssbd-repos-000140/",
        "https://ssbd.riken.jp/v2/project/140-Hirata-MouseBrainSlice",
        "https://doi.org/10.1016/j.crmeth.2021.100012",
    ) in rows
    ssbd = [r for r in rows if r[0].startswith("https://ssbd.riken.jp/repository/")]
    shared = {
        (r["study1"].value, r["study2"].value)
        for r in full_store.query((ROOT / "queries" / "shared-publications.rq").read_text())
        if {r["repository1"].value, r["repository2"].value} == {"SSBD:database", "SSBD:repository"}
    }
    assert {(b, a) for a, b, _ in ssbd} == shared


def test_study_page_shows_native_facts_and_links(full_store):
    from kg.serve.app import create_app

    client = create_app(full_store).test_client()
    page = client.get("/study/idr/idr0157").get_data(as_text=True)
    assert "Related studies in other repositories" in page and "S-BIAD824" in page
    data = client.get("/study/idr/idr0022?format=json").get_json()
    assert data["study_types"] == [{"term": "http://www.ebi.ac.uk/efo/EFO_0007550", "label": "high content screen"}]
    # the study's data DOI and one per screen, as in the file
    assert data["data_dois"] == [
        "https://doi.org/10.17867/10000128",
        "https://doi.org/10.17867/10000128a",
        "https://doi.org/10.17867/10000128b",
    ]
    assert data["sources"] == [CRATES, NATIVE]
    assert any("RNAi screen" in p["technology"] for p in data["parts"])


class _Files(BaseHTTPRequestHandler):
    listing: bytes = b""
    files: dict[str, bytes] = {}
    hits: list[str] = []

    def do_GET(self):  # noqa: N802
        self.hits.append(self.path)
        if self.path == "/contents":
            body = self.listing
        elif self.path.startswith("/raw/") and self.path[5:] in self.files:
            body = self.files[self.path[5:]]
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_live_path_reads_study_files_over_http(sources, tmp_path):
    files = {f.name: f.read_bytes() for f in FILES[:20]}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    base = f"http://127.0.0.1:{server.server_port}"
    _Files.files = files
    _Files.listing = json.dumps(
        [
            {"name": n, "type": "file", "sha": hashlib.sha1(b).hexdigest(), "download_url": f"{base}/raw/{n}"}
            for n, b in files.items()
        ]
        + [{"name": "idr0000-lastname-example", "type": "dir", "sha": "0" * 40, "download_url": None}]
    ).encode()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        source = dataclasses.replace(sources["idr-study"], live={"listing": f"{base}/contents"})
        store = open_store(None)
        report = harvest_live(store, source, tmp_path / "cache")
        assert report.ok and report.studies == 20 and report.live["downloaded"] == 20
        loc = next(
            iter(
                store.query(
                    f"""SELECT ?l WHERE {{ ?r <{KG}fileName> "idr0001-study.txt" ; <http://www.w3.org/ns/prov#atLocation> ?l }}"""
                )
            )
        )["l"].value
        assert loc == f"{base}/raw/idr0001-study.txt"
        snap = open_store(None)
        harvest_snapshot(snap, dataclasses.replace(sources["idr-study"]))
        study = "https://idr.openmicroscopy.org/study/idr0001/"
        assert objects(store, study, KG + "studyType") == objects(snap, study, KG + "studyType") != []
    finally:
        server.shutdown()


def test_reconcile_command(tmp_path):
    store = tmp_path / "kg"
    r = run_kg("harvest", "--no-indexes", "--no-validate", "--store", str(store), "idr", "idr-study")
    assert r.returncode == 0, r.stderr
    r = run_kg("reconcile", "--store", str(store), "--report")
    assert r.returncode == 0, r.stderr
    assert "conflicting values in" in r.stdout.splitlines()[0]
    assert "idr states, idr-study says otherwise" in r.stdout
    assert "idr0134/  kg:organism: obo:NCBITaxon_4277188" in r.stdout
