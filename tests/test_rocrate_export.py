"""RO-Crate export: every bundled study round-trips through export and re-harvest without loss."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest

from kg.export.rocrate import crate_for, export_source
from kg.namespaces import GRAPH
from kg.pipeline import harvest_folder
from kg.serve.app import create_app
from kg.store import open_store


def owned(store, graph: str) -> dict[str, set]:
    """Per study: the statements about the study itself and its own #local nodes in one graph."""
    out: dict[str, set] = {}
    studies = [r["s"].value for r in store.query(f"SELECT ?s WHERE {{ GRAPH <{graph}> {{ ?s a <http://schema.org/Dataset> }} }}")]
    quads = list(store.store.quads_for_pattern(None, None, None, ox.NamedNode(graph)))
    for study in studies:
        out[study] = {(q.subject, q.predicate, q.object) for q in quads
                      if q.subject.value == study or q.subject.value.startswith(study + "#")}
    return out


@pytest.fixture(scope="module")
def round_trip(harvested_store, crate_sources, tmp_path_factory):
    folder = tmp_path_factory.mktemp("exported")
    counts = {name: export_source(harvested_store, name, folder / name) for name in crate_sources}
    again = open_store(None)
    reports = harvest_folder(again, crate_sources, folder)
    return folder, counts, again, reports


def test_every_study_is_exported_and_reharvested(round_trip, crate_sources):
    folder, counts, again, reports = round_trip
    assert counts == {"bia": 740, "idr": 127, "ssbd-database": 232, "ssbd-repository": 126}
    assert {r.source: r.studies for r in reports} == counts
    assert all(not r.quarantined for r in reports)


@pytest.mark.parametrize("source", ["bia", "idr", "ssbd-database", "ssbd-repository"])
def test_round_trip_gives_back_the_same_study_statements(round_trip, harvested_store, source):
    _, _, again, _ = round_trip
    before = owned(harvested_store, GRAPH + source)
    after = owned(again, GRAPH + source)
    assert set(before) == set(after)
    lost = {s: before[s] - after[s] for s in before if before[s] - after[s]}
    added = {s: after[s] - before[s] for s in before if after[s] - before[s]}
    assert lost == {} and added == {}


def test_crate_shape_and_http_route(harvested_store):
    crate = crate_for(harvested_store, "https://idr.openmicroscopy.org/study/idr0003/", GRAPH + "idr")
    assert crate["@context"][0] == "https://w3id.org/ro/crate/1.2/context"
    descriptor = crate["@graph"][0]
    assert descriptor["@id"] == "ro-crate-metadata.json" and descriptor["about"] == {"@id": "https://idr.openmicroscopy.org/study/idr0003/"}
    root = crate["@graph"][1]
    assert root["@id"] == "https://idr.openmicroscopy.org/study/idr0003/" and root["@type"] == "Dataset"
    assert root["license"] == {"@id": "https://creativecommons.org/licenses/by-nc-sa/3.0/"}
    client = create_app(harvested_store).test_client()
    r = client.get("/study/idr/idr0003/ro-crate-metadata.json")
    assert r.status_code == 200 and r.content_type.startswith("application/ld+json")
    assert json.loads(r.data)["@graph"][1]["@id"] == root["@id"]
    assert client.get("/study/idr/idr9999/ro-crate-metadata.json").status_code == 404


@pytest.mark.parametrize("source", ["idr", "ssbd-repository"])
def test_exported_crates_pass_the_gide_shapes_as_well_as_the_originals(round_trip, harvested_store, source):
    """The GIDE SHACL shapes find exactly the violations in the exports that the source data already had."""
    from kg.validate.shacl import shapes_graph, validate_source

    _, _, again, _ = round_trip
    shapes = shapes_graph()
    _, before = validate_source(harvested_store, GRAPH + source, shapes)
    _, after = validate_source(again, GRAPH + source, shapes)
    key = lambda f: (f["focus"], f["message"])  # noqa: E731
    assert {key(f) for f in after if f["severity"] == "Violation"} == {key(f) for f in before if f["severity"] == "Violation"}
