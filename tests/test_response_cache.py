"""The response cache (`kg serve --cache-mb`): a repeated GET is served from the cache, volatile SPARQL and
POSTs are not, and `kg up`'s follow-up finishing a step (validation writes its graph without a new harvest
run) moves the key on, so no answer about the validation graph stays stale."""

from __future__ import annotations

import threading

import requests
from werkzeug.serving import make_server

from kg.background import DONE, BackgroundFollowUp
from kg.pipeline import HarvestOptions, HarvestSummary
from kg.serve.app import create_app

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s a <http://schema.org/Dataset> }"
JSON = {"Accept": "application/sparql-results+json"}


def test_repeated_gets_are_served_from_the_cache(harvested_store, crate_sources):
    app = create_app(harvested_store, crate_sources, cache_bytes=8 << 20)
    cache = app.wsgi_app
    app.extensions["kg_indexes"].current(wait=600)  # the key holds the indexes' generation: none before the first build
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        first = requests.get(base + "/sparql", params={"query": COUNT}, headers=JSON, timeout=60)
        again = requests.get(base + "/sparql", params={"query": COUNT}, headers=JSON, timeout=60)
        assert first.status_code == again.status_code == 200 and first.content == again.content
        assert (first.headers["X-KG-Cache"], again.headers["X-KG-Cache"]) == ("miss", "hit")
        assert cache.hits == 1
        rand = "SELECT (RAND() AS ?r) WHERE {}"
        for _ in range(2):
            assert requests.get(base + "/sparql", params={"query": rand}, headers=JSON, timeout=60).status_code == 200
        requests.post(base + "/sparql", data={"query": COUNT}, headers=JSON, timeout=60)
        assert cache.hits == 1  # neither RAND() nor a POST came from the cache
        # decided on the query's tokens: the words inside a string or a comment call nothing
        quoted = 'SELECT ?s WHERE { ?s <http://schema.org/name> "rand() now()" } # uuid()'
        got = [requests.get(base + "/sparql", params={"query": quoted}, headers=JSON, timeout=60) for _ in range(2)]
        assert [r.headers["X-KG-Cache"] for r in got] == ["miss", "hit"] and cache.hits == 2

        # a finished follow-up step changes the key: the same GET is answered afresh
        follow_up = BackgroundFollowUp(harvested_store, crate_sources, HarvestSummary(), HarvestOptions())
        cache.config["KG_BACKGROUND"] = follow_up
        requests.get(base + "/sparql", params={"query": COUNT}, headers=JSON, timeout=60)
        assert cache.hits == 2
        with follow_up._lock:
            follow_up._state["validation"] = DONE
        requests.get(base + "/sparql", params={"query": COUNT}, headers=JSON, timeout=60)
        requests.get(base + "/sparql", params={"query": COUNT}, headers=JSON, timeout=60)
        assert cache.hits == 3  # one miss after the step finished, then a hit under the new key
    finally:
        server.shutdown()
