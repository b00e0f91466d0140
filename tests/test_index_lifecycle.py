"""The app's indexes are built once per harvest generation, off the request path, and persisted with an
on-disk store so a restart loads them (kg/indexes.py). Real on-disk pyoxigraph stores, the real app
over HTTP on 127.0.0.1."""

from __future__ import annotations

import gc
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from kg.indexes import FILE, FOLDER, IndexService, harvest_generation
from kg.pipeline import harvest_snapshot
from kg.serve.app import create_app
from kg.serve.describe import study_summary
from kg.store import open_store
from kg.store.ontologies import load_ontologies

from _server import running_app

IDR3 = "https://idr.openmicroscopy.org/study/idr0003/"


@pytest.fixture(scope="module")
def store_dir(idr_store_dir):
    return idr_store_dir


def _search(client) -> dict:
    r = client.get("/gide/search", query_string={"q": "idr0003"})
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()


def test_a_restart_loads_the_indexes_instead_of_building_them(store_dir):
    # the store is shared by the session: a server started on it earlier (e.g. the attack suite) may
    # have persisted its indexes already; start from none so that the first app has to build them
    (store_dir / FOLDER / FILE).unlink(missing_ok=True)
    store = open_store(store_dir)
    first = create_app(store)
    service = first.extensions["kg_indexes"]
    built = service.warm()
    assert (service.builds, service.loads) == (1, 0)
    assert (store_dir / FOLDER / FILE).is_file()
    assert built.generation == harvest_generation(store)
    assert len(built.studies.docs) == 127
    del first, service, built, store
    gc.collect()

    # the restart: a new process would open the store the same way (read-only here, as a replica does)
    store = open_store(store_dir, read_only=True)
    app = create_app(store)
    hits = _search(app.test_client())["hits"]
    assert hits[0]["entry"]["id"] == IDR3
    service = app.extensions["kg_indexes"]
    assert (service.builds, service.loads) == (0, 1)
    # every study's page summary was computed with the indexes and persisted: a first visit reads it,
    # and it is what the page's own queries give
    assert len(service.current(wait=0).summaries) == 127
    twin = app.test_client().get("/study/idr/idr0003", query_string={"format": "json"}).get_json()
    # its similar studies too were ranked with the indexes: as the index ranks them now
    ranked = service.current(wait=0).studies.similar(IDR3)
    assert [(x["iri"], x["score"]) for x in twin.pop("similar")] == [(d.iri, round(s, 3)) for d, s, _ in ranked]
    assert twin == json.loads(json.dumps(study_summary(store, IDR3)))
    # which study a page shows comes from the same records: an accession no study has is a 404
    assert app.test_client().get("/study/idr/idr9999").status_code == 404
    # a term look-up answers from the same loaded generation
    assert (
        app.test_client().get("/api/ontologies/fbbi/terms", query_string={"obo_id": "FBbi:00000246"}).status_code == 200
    )
    assert (service.builds, service.loads) == (0, 1)
    # the OLS v2 search fields were persisted with the terms but stay in the file until a v2 search asks
    # for them (/search does not need them): read then, not built in the request
    loaded_terms = service.current(wait=0).terms
    assert loaded_terms.__dict__.get("_field_index") is None
    part = loaded_terms.__dict__["_field_index_source"]
    r = app.test_client().get("/api/v2/ontologies/fbbi/classes", query_string={"search": "confocal", "size": 1})
    assert r.status_code == 200 and r.get_json()["elements"][0]["iri"].startswith(
        "http://purl.obolibrary.org/obo/FBbi_"
    )
    assert part.read and part.fd == -1  # read from the file once, its descriptor closed
    assert service.current(wait=0).terms.__dict__["_field_index"] is loaded_terms.__dict__["_field_index"]
    assert (service.builds, service.loads) == (0, 1)


def test_a_new_harvest_is_built_while_the_previous_generation_is_served(store_dir, sources, tmp_path):
    """After a harvest the old indexes keep answering at once while the new generation's are built, once,
    and persisted: a restart then loads the new file, not the one of the older generation. Cached answers
    (serve/cache.py) are those of the generation being served."""
    import shutil

    copy = tmp_path / "store"
    shutil.copytree(store_dir, copy)
    store = open_store(copy)
    service = IndexService(store, check_interval=0)
    old = service.warm()  # loaded from the copied file (or built when this test runs alone)
    builds = service.builds
    client = create_app(store, index_service=service, cache_bytes=1 << 20).test_client()
    every = {"size": 1, "format": "json"}
    answers = [client.get("/gide/search", query_string=every) for _ in range(2)]
    assert [r.headers["X-KG-Cache"] for r in answers] == ["miss", "hit"]
    assert answers[0].get_data() == answers[1].get_data() and answers[1].get_json()["total"] == 127
    assert "X-KG-Cache" not in client.get("/health").headers
    assert client.get("/sparql", query_string={"query": "SELECT (RAND() AS ?r) {}"}).headers.get("X-KG-Cache") is None

    assert harvest_snapshot(store, sources["ssbd-repository"]).ok
    assert harvest_generation(store) != old.generation
    assert service.current(wait=0) is old  # at once, without waiting for the build it started
    assert client.get("/gide/search", query_string=every).get_json()["total"] == 127  # still the served generation
    service._thread.join(120)
    new = service.current(wait=0)
    assert new.generation == harvest_generation(store)
    assert len(new.studies.docs) == 127 + 126
    assert service.builds == builds + 1
    fresh = client.get("/gide/search", query_string=every)
    assert (fresh.headers["X-KG-Cache"], fresh.get_json()["total"]) == ("miss", 127 + 126)
    restarted = IndexService(store)
    assert len(restarted.warm().studies.docs) == 127 + 126
    assert (restarted.builds, restarted.loads) == (0, 1)


def test_twenty_concurrent_first_requests_cause_one_build(sources):
    store = open_store(None)
    load_ontologies(store)
    assert harvest_snapshot(store, sources["idr"]).ok
    service = IndexService(store)
    with running_app(store, index_service=service, request_timeout=300) as base, ThreadPoolExecutor(20) as pool:
        statuses = list(
            pool.map(
                lambda _: (
                    requests.get(f"{base}/search", params={"q": "cell", "format": "json"}, timeout=120).status_code
                ),
                range(20),
            )
        )
    assert statuses == [200] * 20
    assert service.builds == 1
