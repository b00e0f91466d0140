"""Query time limits on an on-disk store: a runaway query is stopped at its limit, others keep being served."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from kg.pipeline import harvest_snapshot
from kg.serve.app import create_app
from kg.store import open_store

from expected import STUDIES

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


@pytest.fixture(scope="module")
def site(sources, tmp_path_factory):
    path = tmp_path_factory.mktemp("store") / "kg"
    store = open_store(path)
    harvest_snapshot(store, sources["idr"])
    app = create_app(store, query_timeout=2.0, query_workers=2, result_cap=1000)
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/sparql"
    server.shutdown()
    app.config["KG_QUERY_WORKERS"].close()


def count(site) -> int:
    r = requests.get(site, params={"query": "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a <http://schema.org/Dataset> }"},
                     headers={"Accept": "application/json"}, timeout=60)
    assert r.status_code == 200, r.text
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


def test_normal_queries_run_in_workers(site):
    assert count(site) == STUDIES["idr"]
    r = requests.get(site, params={"query": "SELECT * WHERE { ?s ?p }"}, timeout=60)
    assert r.status_code == 400 and "syntax error" in r.json()["message"]


def test_runaway_query_is_stopped_and_others_are_served(site):
    assert count(site) == STUDIES["idr"]  # workers are up
    results = {}

    def runaway():
        t = time.perf_counter()
        r = requests.get(site, params={"query": RUNAWAY}, headers={"Accept": "application/json"}, timeout=60)
        results["runaway"] = (r.status_code, r.json().get("message", ""), time.perf_counter() - t)

    thread = threading.Thread(target=runaway)
    thread.start()
    time.sleep(0.3)
    assert count(site) == STUDIES["idr"]  # served by the other worker while the runaway query runs
    thread.join(60)
    status, message, elapsed = results["runaway"]
    assert status == 503 and "time limit of 2 s" in message
    assert elapsed < 20
    assert count(site) == STUDIES["idr"]  # the killed worker was replaced


@pytest.mark.parametrize("in_process", [False, True])
def test_results_are_capped_and_say_so(site, sources, in_process):
    """Answers carry at most the cap (1000 here; the idr graph has 10,307 triples), with headers saying so."""
    base = site
    every = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
    if in_process:  # the same cap without worker processes (in-memory store)
        from werkzeug.serving import make_server

        store = open_store(None)
        harvest_snapshot(store, sources["idr"])
        server = make_server("127.0.0.1", 0, create_app(store, result_cap=1000), threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}/sparql"
    try:
        r = requests.get(base, params={"query": every}, headers={"Accept": "application/sparql-results+json"}, timeout=60)
        assert r.status_code == 200 and len(r.json()["results"]["bindings"]) == 1000
        assert r.headers["X-KG-Result-Cap"] == "1000" and r.headers["X-KG-Result-Truncated"] == "true"
        csv = requests.get(base, params={"query": every, "format": "csv"}, timeout=60)
        assert csv.text.count("\r\n") == 1001  # header + 1000 rows
        nt = requests.get(base, params={"query": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"}, headers={"Accept": "application/n-triples"}, timeout=60)
        assert nt.status_code == 200 and nt.text.count(" .\n") == 1000 and nt.headers["X-KG-Result-Truncated"] == "true"
        small = requests.get(base, params={"query": every + " LIMIT 10"}, headers={"Accept": "application/sparql-results+json"}, timeout=60)
        assert len(small.json()["results"]["bindings"]) == 10 and "X-KG-Result-Truncated" not in small.headers
        ask = requests.get(base, params={"query": "ASK { ?s ?p ?o }"}, headers={"Accept": "application/sparql-results+json"}, timeout=60)
        assert ask.json()["boolean"] is True
    finally:
        if in_process:
            server.shutdown()
