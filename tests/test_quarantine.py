"""Broken records are quarantined with a reason; good ones load; a failed harvest keeps the served graph.

The broken crates are derived from real bundled crates, each with one defect.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from pathlib import Path

import pytest
from _process import run_kg

from kg.pipeline import harvest_folder, harvest_snapshot
from kg.store import open_store

from crate_facts import CRATES, crate_files
from expected import STUDIES

GRAPH = "https://w3id.org/gide-kg/graph/"
PROV_GRAPH = GRAPH + "provenance"

GOOD = {
    "bia/S-BIAD1002-ro-crate-metadata.json": "https://www.ebi.ac.uk/biostudies/bioimages/studies/S-BIAD1002",
    "idr/idr0003-ro-crate-metadata.json": "https://idr.openmicroscopy.org/study/idr0003/",
    "ssbd-database/10-Komatsuzaki-MolDyn-ro-crate-metadata.json": "https://ssbd.riken.jp/v1/project/10-Komatsuzaki-MolDyn",
    "ssbd-repository/ssbd-repos-000020-ro-crate-metadata.json": "https://ssbd.riken.jp/repository/ssbd-repos-000020/",
}


def _load(rel: str) -> dict:
    return json.loads((CRATES / rel).read_text(encoding="utf-8"))


def _write(folder: Path, name: str, doc: dict) -> None:
    (folder / name).write_text(json.dumps(doc, indent=1), encoding="utf-8")


def write_broken(folder: Path) -> dict[str, str]:
    """Broken crates derived from real ones; returns file name → a phrase its quarantine reason must hold."""
    folder.mkdir(parents=True, exist_ok=True)
    expected = {}

    # 1. truncated JSON (a download cut short)
    raw = (CRATES / "idr/idr0001-ro-crate-metadata.json").read_bytes()
    (folder / "truncated-idr0001-ro-crate-metadata.json").write_bytes(raw[: len(raw) // 2])
    expected["truncated-idr0001-ro-crate-metadata.json"] = "invalid JSON"

    # 2. the root Dataset entity removed from the @graph (the descriptor still points at it)
    doc = _load("idr/idr0002-ro-crate-metadata.json")
    doc["@graph"] = [n for n in doc["@graph"] if n["@id"] != "https://idr.openmicroscopy.org/study/idr0002/"]
    _write(folder, "noroot-idr0002-ro-crate-metadata.json", doc)
    expected["noroot-idr0002-ro-crate-metadata.json"] = "which is not in the @graph"

    # 3. an @context naming a remote context that is not bundled (must never be fetched)
    doc = _load("bia/S-BIAD2313-ro-crate-metadata.json")
    assert doc["@context"][0] == "https://w3id.org/ro/crate/1.2/context"
    doc["@context"][0] = "https://example.org/no-such/context.jsonld"
    _write(folder, "remotectx-S-BIAD2313-ro-crate-metadata.json", doc)
    expected["remotectx-S-BIAD2313-ro-crate-metadata.json"] = "https://example.org/no-such/context.jsonld"

    # 4. an IDR crate whose study claims to be published by SSBD:repository
    doc = _load("idr/idr0004-ro-crate-metadata.json")
    root = next(n for n in doc["@graph"] if n["@id"] == "https://idr.openmicroscopy.org/study/idr0004/")
    assert root["publisher"] == {"@id": "https://idr.openmicroscopy.org/"}
    root["publisher"] = {"@id": "https://ssbd.riken.jp/repository"}
    _write(folder, "otherpublisher-idr0004-ro-crate-metadata.json", doc)
    expected["otherpublisher-idr0004-ro-crate-metadata.json"] = "https://idr.openmicroscopy.org/study/idr0004/"

    # 5. a study without a name (caught by mappings/checks/study-without-name.rq)
    doc = _load("ssbd-repository/ssbd-repos-000066-ro-crate-metadata.json")
    root = next(n for n in doc["@graph"] if n["@id"] == "https://ssbd.riken.jp/repository/ssbd-repos-000066/")
    del root["name"]
    _write(folder, "noname-ssbd-repos-000066-ro-crate-metadata.json", doc)
    expected["noname-ssbd-repos-000066-ro-crate-metadata.json"] = "has no schema:name"
    return expected


@pytest.fixture(scope="module")
def mixed_folder(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    folder = tmp_path_factory.mktemp("mixed")
    for rel in GOOD:
        shutil.copy(CRATES / rel, folder / Path(rel).name)
    expected = write_broken(folder / "broken")
    # 6. the same crate again under another file name (sorts after the original, so the copy is refused)
    shutil.copy(CRATES / "idr/idr0003-ro-crate-metadata.json", folder / "zz-copy-of-idr0003-ro-crate-metadata.json")
    expected["zz-copy-of-idr0003-ro-crate-metadata.json"] = "already described by record idr0003-ro-crate-metadata.json"
    return folder, expected


@pytest.fixture(scope="module")
def mixed_harvest(mixed_folder, sources):
    folder, _ = mixed_folder
    store = open_store(None)
    reports = harvest_folder(store, sources, folder)
    return store, reports


def test_good_crates_load_into_their_source_graph(mixed_harvest, select):
    store, reports = mixed_harvest
    rows = select(store, "SELECT ?g ?s WHERE { GRAPH ?g { ?s a schema:Dataset } }")
    got = {(r["g"].value, r["s"].value) for r in rows}
    assert got == {(GRAPH + rel.split("/")[0], study) for rel, study in GOOD.items()}
    loaded = {r.source: r.studies for r in reports}
    assert loaded == {"bia": 1, "idr": 1, "ssbd-database": 1, "ssbd-repository": 1, "unassigned": 0}


def test_each_broken_crate_is_quarantined_with_its_reason(mixed_folder, mixed_harvest):
    _, expected = mixed_folder
    _, reports = mixed_harvest
    got = {q.record.name: q.reason for r in reports for q in r.quarantined}
    assert sorted(got) == sorted(expected)
    for name, phrase in expected.items():
        assert phrase in got[name], (name, got[name])


def test_specific_reasons(mixed_harvest):
    _, reports = mixed_harvest
    got = {q.record.name: q.reason for r in reports for q in r.quarantined}
    assert got["otherpublisher-idr0004-ro-crate-metadata.json"] == (
        "study IRI https://idr.openmicroscopy.org/study/idr0004/ does not look like a SSBD:repository study "
        r"(expected ^https://ssbd\.riken\.jp/repository/ssbd-repos-[0-9]+/$)"
    )
    assert got["noname-ssbd-repos-000066-ro-crate-metadata.json"] == (
        "study https://ssbd.riken.jp/repository/ssbd-repos-000066/ has no schema:name (check study-without-name)"
    )
    assert "refusing to fetch it over the network" in got["remotectx-S-BIAD2313-ro-crate-metadata.json"]


def test_quarantine_is_grouped_by_source_where_known(mixed_harvest):
    _, reports = mixed_harvest
    by_source = {r.source: sorted(q.record.name for q in r.quarantined) for r in reports}
    # the duplicate and the nameless study were read far enough to know their source
    assert by_source["idr"] == ["zz-copy-of-idr0003-ro-crate-metadata.json"]
    assert by_source["ssbd-repository"] == ["noname-ssbd-repos-000066-ro-crate-metadata.json"]
    assert by_source["bia"] == [] and by_source["ssbd-database"] == []
    assert by_source["unassigned"] == sorted(
        [
            "truncated-idr0001-ro-crate-metadata.json",
            "noroot-idr0002-ro-crate-metadata.json",
            "remotectx-S-BIAD2313-ro-crate-metadata.json",
            "otherpublisher-idr0004-ro-crate-metadata.json",
        ]
    )
    assert all(r.ok for r in reports)


def test_quarantined_records_are_in_the_provenance_graph(mixed_folder, mixed_harvest, select):
    _, expected = mixed_folder
    store, _ = mixed_harvest
    rows = select(
        store,
        f"""SELECT ?rec ?name ?reason ?sha ?loc WHERE {{ GRAPH <{PROV_GRAPH}> {{
            ?rec a kg:QuarantinedRecord , prov:Entity ; kg:fileName ?name ; kg:quarantineReason ?reason ;
                 kg:sha256 ?sha ; prov:atLocation ?loc ; prov:wasGeneratedBy ?run . ?run a kg:HarvestRun }} }}""",
    )
    got = {r["name"].value: r for r in rows}
    assert sorted(got) == sorted(expected)
    for name, phrase in expected.items():
        assert phrase in got[name]["reason"].value
        assert got[name]["loc"].value.startswith("file://") and got[name]["loc"].value.endswith("/" + name)
    truncated = got["truncated-idr0001-ro-crate-metadata.json"]
    raw = (CRATES / "idr/idr0001-ro-crate-metadata.json").read_bytes()
    assert truncated["sha"].value == hashlib.sha256(raw[: len(raw) // 2]).hexdigest()
    # loaded records are SourceRecords, never QuarantinedRecords
    rows = select(
        store, f"SELECT ?name WHERE {{ GRAPH <{PROV_GRAPH}> {{ ?rec a kg:SourceRecord ; kg:fileName ?name }} }}"
    )
    assert sorted(r["name"].value for r in rows) == sorted(Path(rel).name for rel in GOOD)


def test_no_study_from_a_broken_crate_is_served(mixed_harvest, select):
    store, _ = mixed_harvest
    for study in (
        "https://idr.openmicroscopy.org/study/idr0001/",
        "https://idr.openmicroscopy.org/study/idr0002/",
        "https://idr.openmicroscopy.org/study/idr0004/",
        "https://www.ebi.ac.uk/biostudies/bioimages/studies/S-BIAD2313",
        "https://ssbd.riken.jp/repository/ssbd-repos-000066/",
    ):
        assert select(store, f"ASK {{ <{study}> ?p ?o }}") is False, study
    # no staging or per-record graph leaks into what readers see
    graphs = {g.value for g in store.public_graphs()}
    assert graphs == {GRAPH + s for s in ("bia", "idr", "ssbd-database", "ssbd-repository", "provenance")}


# -- a failed harvest keeps the previous graph ------------------------------------------------------


def test_failed_harvest_keeps_the_previous_graph(tmp_path, sources, select):
    store = open_store(None)
    first = harvest_snapshot(store, sources["idr"])
    assert first.ok and first.studies == len(crate_files("idr")) == STUDIES["idr"]
    broken = tmp_path / "only-broken"
    expected = write_broken(broken)
    report = harvest_snapshot(store, dataclasses.replace(sources["idr"], snapshot=broken))
    assert not report.ok
    assert report.error == f"no record of Image Data Resource could be loaded ({len(expected)} quarantined)"
    assert report.studies == 0 and len(report.quarantined) == len(expected) == 5
    reasons = {q.record.name: q.reason for q in report.quarantined}
    # with the source fixed, a crate of another publisher is refused for that reason
    assert reasons["otherpublisher-idr0004-ro-crate-metadata.json"] == (
        "crate is published by https://ssbd.riken.jp/repository, but source 'idr' publishes as https://idr.openmicroscopy.org/"
    )
    rows = select(store, f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH <{GRAPH}idr> {{ ?s a schema:Dataset }} }}")
    assert int(rows[0]["n"].value) == STUDIES["idr"]
    rows = select(
        store,
        f"""SELECT ?run ?status ?err ?q WHERE {{ GRAPH <{PROV_GRAPH}> {{ ?run a kg:HarvestRun ; kg:harvestSource "idr" ;
            kg:status ?status ; kg:recordsQuarantined ?q OPTIONAL {{ ?run kg:error ?err }} }} }}""",
    )
    runs = {
        r["run"].value: (r["status"].value, r["err"].value if "err" in r else None, int(r["q"].value)) for r in rows
    }
    assert runs == {first.run_iri: ("succeeded", None, 0), report.run_iri: ("failed", report.error, 5)}
    # the provenance of the served graph is still that of the first run
    rows = select(
        store,
        f"""SELECT (COUNT(?rec) AS ?n) WHERE {{ GRAPH <{PROV_GRAPH}> {{ ?rec a kg:SourceRecord ; kg:harvestSource "idr" ;
            prov:wasGeneratedBy <{first.run_iri}> }} }}""",
    )
    assert int(rows[0]["n"].value) == STUDIES["idr"]
    rows = select(store, f"ASK {{ GRAPH <{PROV_GRAPH}> {{ <{first.run_iri}> prov:generated <{GRAPH}idr> }} }}")
    assert rows is True


def test_missing_snapshot_folder_is_a_failed_run(tmp_path, sources, select):
    store = open_store(None)
    report = harvest_snapshot(store, dataclasses.replace(sources["idr"], snapshot=tmp_path / "nowhere"))
    assert not report.ok and "not found" in report.error
    rows = select(store, f"SELECT ?s WHERE {{ GRAPH <{PROV_GRAPH}> {{ <{report.run_iri}> kg:status ?s }} }}")
    assert [r["s"].value for r in rows] == ["failed"]
    assert not store.has_graph(GRAPH + "idr")


# -- command line --------------------------------------------------------------------------------------


def harvest_cli(tmp_path: Path, folder: Path):
    """`kg harvest --rocrates FOLDER` into a new store under tmp_path (no validation or indexes: not the point)."""
    return run_kg(
        "harvest",
        "--no-indexes",
        "--no-validate",
        "--store",
        str(tmp_path / "store"),
        "--rocrates",
        str(folder),
        cwd=tmp_path,
    )


def test_cli_exits_1_when_nothing_loads(tmp_path):
    folder = tmp_path / "broken"
    expected = write_broken(folder)
    proc = harvest_cli(tmp_path, folder)
    assert proc.returncode == 1, proc.stderr
    assert f"total: 0 studies loaded, {len(expected)} records quarantined" in proc.stdout
    assert "nothing could be loaded" in proc.stderr
    for name in expected:
        assert f"quarantined {name}: " in proc.stdout


def test_cli_exits_0_on_a_mix_and_counts_quarantine(tmp_path, mixed_folder):
    folder, expected = mixed_folder
    proc = harvest_cli(tmp_path, folder)
    assert proc.returncode == 0, proc.stderr
    assert f"total: {len(GOOD)} studies loaded, {len(expected)} records quarantined" in proc.stdout
    for name in expected:
        assert f"quarantined {name}: " in proc.stdout
    # the store on disk holds what was loaded
    store = open_store(tmp_path / "store", read_only=True)
    rows = list(store.query("SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a <http://schema.org/Dataset> }"))
    assert int(rows[0]["n"].value) == len(GOOD)


def test_cli_rejects_a_missing_folder(tmp_path):
    proc = run_kg("harvest", "--store", str(tmp_path / "store"), "--rocrates", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert proc.returncode == 2
    assert "no such folder" in proc.stderr
