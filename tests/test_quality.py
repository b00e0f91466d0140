"""Curators' QC checks (/quality, queries/qc-*.rq) against facts read independently from the crate files."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from kg.serve.app import create_app

from expected import SSBD_REPOSITORY_NO_THUMBNAIL

ROOT = Path(__file__).resolve().parent.parent
CRATES = ROOT / "data" / "crates"


@pytest.fixture(scope="module")
def report(full_store):
    client = create_app(full_store).test_client()
    return {c["name"]: c for c in client.get("/quality?format=json").get_json()["checks"]}


def crate_roots(folder: str):
    for path in sorted((CRATES / folder).glob("*.json")):
        doc = json.loads(path.read_text())
        nodes = {n["@id"]: n for n in doc["@graph"]}
        root = next(n["about"]["@id"] for n in doc["@graph"] if str(n["@id"]).endswith("ro-crate-metadata.json"))
        yield nodes[root], nodes


def test_studies_without_thumbnail_match_the_crates(report, full_store):
    """SSBD:repository crates mostly give no thumbnail; the count equals the crates with an empty thumbnailUrl."""
    expected = sum(1 for root, _ in crate_roots("ssbd-repository") if not root.get("thumbnailUrl"))
    assert report["qc-no-thumbnail"]["per_repository"]["SSBD:repository"] == expected
    bia = sum(1 for root, _ in crate_roots("bia") if not root.get("thumbnailUrl"))
    assert report["qc-no-thumbnail"]["per_repository"]["BioImage Archive"] == bia


def test_not_imaging_methods_include_sample_preparations(report):
    methods = {r["method"] for r in report["qc-not-imaging-methods"]["rows"]}
    assert "http://purl.obolibrary.org/obo/FBbi_00000002" in methods  # chemically fixed tissue
    assert "http://purl.obolibrary.org/obo/FBbi_00000251" not in methods  # confocal microscopy is an imaging method


def test_taxon_name_mismatches_include_the_ssbd_typo(report):
    rows = report["qc-taxon-name-mismatch"]["rows"]
    assert {
        "taxon": "http://purl.obolibrary.org/obo/NCBITaxon_10090",
        "stated": "M. muculus",
        "label": "Mus musculus",
        "graph": "https://w3id.org/gide-kg/graph/ssbd-database",
    } in rows


def test_samples_without_organism_match_the_crates(report):
    expected = 0
    for root, nodes in crate_roots("bia"):
        about = root.get("about", [])
        for ref in about if isinstance(about, list) else [about]:
            node = nodes.get(ref["@id"], {})
            types = node.get("@type", [])
            if "BioSample" in (types if isinstance(types, list) else [types]) and not node.get("taxonomicRange"):
                expected += 1
    assert report["qc-samples-without-organism"]["per_repository"]["BioImage Archive"] == expected


def test_generic_method_only(report, full_store):
    rows = report["qc-generic-imaging-method"]["rows"]
    # SSBD uses the generic "recorded image" alone for many datasets
    assert report["qc-generic-imaging-method"]["per_repository"]["SSBD:database"] > 0
    assert all("FBbi_00000251" not in r.get("methods", "") for r in rows)


def test_quality_page(full_store):
    client = create_app(full_store).test_client()
    page = client.get("/quality").get_data(as_text=True)
    assert "samples without an organism" in page and 'id="qc-no-thumbnail"' in page


def test_shacl_summary_matches_sparql(sources, tmp_path):
    """pyshacl findings per source agree with counts computed independently by SPARQL."""
    from kg.pipeline import harvest_snapshot
    from kg.store import open_store
    from kg.validate.shacl import summary_from_store, validate_all

    store = open_store(None)
    harvest_snapshot(store, sources["ssbd-repository"])
    summary = validate_all(store, {"ssbd-repository": sources["ssbd-repository"]})
    assert summary["sources"]["ssbd-repository"]["conforms"] is False
    rows = {(r["severity"], r["message"]): r["count"] for r in summary_from_store(store)}
    no_thumb = int(
        next(
            iter(
                store.query("""SELECT (COUNT(?d) AS ?n) WHERE { GRAPH <https://w3id.org/gide-kg/graph/ssbd-repository> {
        ?d a <http://schema.org/Dataset> FILTER NOT EXISTS { ?d <http://schema.org/thumbnailUrl> ?t } } }""")
            )
        )["n"].value
    )
    assert (
        rows[("Warning", "Dataset SHOULD have at least one schema:thumbnailUrl")]
        == no_thumb
        == SSBD_REPOSITORY_NO_THUMBNAIL
    )
    no_equipment = int(
        next(
            iter(
                store.query("""SELECT (COUNT(?p) AS ?n) WHERE { GRAPH <https://w3id.org/gide-kg/graph/ssbd-repository> {
        ?p a <http://schema.org/LabProtocol> FILTER NOT EXISTS { ?p <http://schema.org/labEquipment> ?e } } }""")
            )
        )["n"].value
    )
    assert rows[("Warning", "LabProtocol SHOULD have at least one schema:labEquipment")] == no_equipment
    assert summary["sources"]["ssbd-repository"]["by_message"]["Info: Dataset MAY have at least one schema:funder"] > 0
    # focus nodes are whole values, also literals with spaces (they were once split into words)
    foci: dict[tuple[str, str], set[str]] = {}
    for r in store.query("""SELECT ?sev ?msg ?focus WHERE { GRAPH <https://w3id.org/gide-kg/graph/validation> {
        ?r <http://www.w3.org/ns/shacl#resultSeverity> ?sev ; <http://www.w3.org/ns/shacl#resultMessage> ?msg ;
           <http://www.w3.org/ns/shacl#focusNode> ?focus } }"""):
        foci.setdefault((r["sev"].value.rsplit("#", 1)[-1], r["msg"].value), set()).add(r["focus"].value)
    for r in summary_from_store(store):
        assert r["focus"] == sorted(foci[(r["severity"], r["message"])])[:20]


def test_literal_focus_nodes_stay_whole(sources):
    """A text-only imaging method is a literal focus node with spaces: it is listed whole, not as words."""
    from kg.pipeline import harvest_snapshot
    from kg.store import open_store
    from kg.validate.shacl import summary_from_store, validate_all

    store = open_store(None)
    harvest_snapshot(store, sources["idr-study"])
    validate_all(store, {"idr-study": sources["idr-study"]})
    text_only = next(r for r in summary_from_store(store) if r["message"].startswith("kg: an imaging method SHOULD be"))
    assert "Multi-fluorescence high-resolution episcopic microscopy (MF-HREM)" in text_only["focus"]
    assert "fluorescence correlation spectroscopy" in text_only["focus"]
    assert "(MF-HREM)" not in text_only["focus"] and "microscopy" not in text_only["focus"]


def test_broken_crate_shows_on_the_quality_page(sources, tmp_path):
    from kg.pipeline import harvest_folder
    from kg.store import open_store
    from kg.validate.shacl import validate_all

    crate = json.loads((CRATES / "idr" / "idr0003-ro-crate-metadata.json").read_text())
    for node in crate["@graph"]:
        if node.get("@id") == "https://idr.openmicroscopy.org/study/idr0003/":
            del node["description"]
            del node["license"]
    folder = tmp_path / "crates"
    folder.mkdir()
    (folder / "idr0003-ro-crate-metadata.json").write_text(json.dumps(crate))
    store = open_store(None)
    assert harvest_folder(store, sources, folder)[0].studies == 1
    validate_all(store, sources)
    data = create_app(store).test_client().get("/quality?format=json").get_json()
    found = {(r["severity"], r["message"]): r["focus"] for r in data["shacl"]}
    assert found[("Violation", "Dataset MUST have exactly one schema:description")] == [
        "https://idr.openmicroscopy.org/study/idr0003/"
    ]
    assert found[("Violation", "Dataset MUST have exactly one schema:license")] == [
        "https://idr.openmicroscopy.org/study/idr0003/"
    ]
    page = create_app(store).test_client().get("/quality").get_data(as_text=True)
    assert "Dataset MUST have exactly one schema:description" in page
    assert '<td class="nowrap" data-source="idr">Image Data Resource</td>' in page  # sources by label
    # the focus node is linked by its IRI with a visible name; only absolute IRIs become browse links, no empty <a>
    assert (
        '<a href="/resource?iri=https%3A%2F%2Fidr.openmicroscopy.org%2Fstudy%2Fidr0003%2F" title="https://idr.openmicroscopy.org/study/idr0003/">idr0003</a>'
        in page
    )
    linked = [unquote(m) for m in re.findall(r'href="/resource\?iri=([^"&]+)', page)]
    assert linked and all(re.match(r"^(https?://|urn:)", x) for x in linked)
    assert not re.search(r"<a [^>]*></a>", page)


def test_our_shapes_agree_with_sparql(sources):
    """The unified-graph shapes (ontologies/shacl/gide-kg-shapes.ttl) count what SPARQL counts."""
    from kg.pipeline import harvest_snapshot
    from kg.store import open_store
    from kg.validate.shacl import validate_all

    store = open_store(None)
    harvest_snapshot(store, sources["idr"])
    found = validate_all(store, {"idr": sources["idr"]})["sources"]["idr"]["by_message"]
    for pred, message in (
        ("imagingMethod", "Warning: kg: study SHOULD link to at least one imaging method (kg:imagingMethod)"),
        ("organism", "Warning: kg: study SHOULD link to at least one organism (kg:organism)"),
    ):
        n = int(
            next(
                iter(
                    store.query(f"""SELECT (COUNT(?s) AS ?n) WHERE {{ GRAPH <https://w3id.org/gide-kg/graph/idr> {{
            ?s a <http://schema.org/Dataset> FILTER NOT EXISTS {{ ?s <https://w3id.org/gide-kg/vocab#{pred}> ?x }} }} }}""")
                )
            )["n"].value
        )
        assert found.get(message, 0) == n > 0
    assert not any("datePublished MUST" in m or "license MUST" in m for m in found)  # the mapping's guarantees hold
