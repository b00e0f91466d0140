"""/sparql's fast path (kg/serve/sparql_fast.py) answers exactly as the Flask view does, runs each query once,
and the cheaper parts behind it keep their decisions: the guard's remembered structures, SPARQL JSON
written under the cap, and the worker pool's short burst queue.

The app is the real one over IDR's on-disk store (conftest's `idr_store_dir`, opened read-only) with a
real query worker process; requests are WSGI calls into the app, once through the whole stack and once
through Flask alone."""

from __future__ import annotations

import io
import sys
import threading
from urllib.parse import urlencode

import pyoxigraph as ox
import pytest

from kg.formats import capped_json
from kg.serve.app import CommonHeaders, create_app
from kg.serve.guard import ServiceRefused, check_query
from kg.serve.workers import QueryBusy, QueryWorkers
from kg.store import open_store

from expected import STUDIES

STUDY = "https://idr.openmicroscopy.org/study/idr0003/"
LOOKUP = 'SELECT ?s WHERE { ?s <http://schema.org/identifier> "idr0003" }'
COUNT = "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a <http://schema.org/Dataset> }"
JSON_RESULTS = "application/sparql-results+json"
# (query-string parameters, Accept): results in several formats, a cut result, and every kind of refusal
CASES = [
    ({"query": LOOKUP}, JSON_RESULTS),
    ({"query": LOOKUP, "format": "xml"}, None),
    ({"query": LOOKUP}, "text/csv"),
    ({"query": f"CONSTRUCT {{ <{STUDY}> ?p ?o }} WHERE {{ <{STUDY}> ?p ?o }}"}, "text/turtle"),
    ({"query": f"ASK {{ <{STUDY}> ?p ?o }}"}, "application/json"),
    ({"query": "SELECT ?s WHERE { ?s a <http://schema.org/Dataset> }"}, JSON_RESULTS),  # more rows than the cap
    ({"query": LOOKUP, "default-graph-uri": "https://w3id.org/gide-kg/graph/idr"}, JSON_RESULTS),
    ({"query": ""}, JSON_RESULTS),
    ({"query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"}, JSON_RESULTS),
    ({"query": "SELECT * WHERE { ?s ?p }"}, JSON_RESULTS),
    ({"query": LOOKUP, "format": "pdf"}, None),
    ({"query": LOOKUP}, "image/png"),
    ({"query": LOOKUP, "update": "CLEAR ALL"}, None),
    ({"query": "SELECT * WHERE " + "{" * 200 + "}" * 200}, None),
    ({"query": LOOKUP}, "text/html"),  # a browser: the query page, from the view
]


def environ(params: dict, accept: str | None) -> dict:
    env = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/sparql",
        "QUERY_STRING": urlencode(params),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if accept:
        env["HTTP_ACCEPT"] = accept
    return env


def call(wsgi_app, env: dict) -> tuple[str, dict, bytes]:
    got = {}

    def start_response(status, headers, exc_info=None):
        got["status"], got["headers"] = status, headers

    body = b"".join(wsgi_app(env, start_response))
    return got["status"], dict(got["headers"]), body


@pytest.fixture(scope="module")
def app(idr_store_dir):
    store = open_store(idr_store_dir, read_only=True)
    app = create_app(store, query_timeout=30, query_workers=1, result_cap=100)
    runs = []
    workers = app.config["KG_QUERY_WORKERS"]
    run = workers.run
    workers.run = lambda *args: runs.append(args[0]) or run(*args)  # counts the queries the worker ran
    views = []
    view = app.view_functions["sparql.sparql"]
    app.view_functions["sparql.sparql"] = lambda: views.append(1) or view()
    yield app, runs, views
    workers.close()


@pytest.mark.parametrize("params, accept", CASES)
def test_fast_path_answers_as_the_view_does(app, params, accept):
    app, runs, views = app
    flask_only = CommonHeaders(app.wsgi_app.wsgi_app.next)  # the same app without the fast path
    runs.clear(), views.clear()
    fast = call(app.wsgi_app, environ(params, accept))
    fast_runs, fast_views = len(runs), len(views)
    runs.clear(), views.clear()
    slow = call(flask_only, environ(params, accept))
    assert fast == slow
    assert fast_runs == len(runs) <= 1  # the query ran once on either path: an error is not evaluated again
    assert fast_views == (0 if fast[0] == "200 OK" and "text/html" not in fast[1]["Content-Type"] else 1)


def test_fast_path_answers_the_real_values(app):
    app, _, _ = app
    status, headers, body = call(app.wsgi_app, environ({"query": LOOKUP}, JSON_RESULTS))
    assert status == "200 OK" and headers["Access-Control-Allow-Origin"] == "*" and headers["Vary"] == "Accept"
    assert [b["s"]["value"] for b in __import__("json").loads(body)["results"]["bindings"]] == [STUDY]
    status, headers, body = call(app.wsgi_app, environ({"query": COUNT, "format": "csv"}, None))
    assert body.decode().split() == ["n", str(STUDIES["idr"])]
    status, headers, _ = call(
        app.wsgi_app, environ({"query": "SELECT ?s WHERE { ?s a <http://schema.org/Dataset> }"}, JSON_RESULTS)
    )
    assert headers["X-KG-Result-Truncated"] == "true" and headers["X-KG-Result-Cap"] == "100"


def test_capped_json_is_pyoxigraph_s_own_serialisation(idr_store_dir):
    store = open_store(idr_store_dir, read_only=True)
    queries = [
        "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 1000",  # IRIs, blank nodes, typed and language literals
        'SELECT ?x ?unbound WHERE { VALUES ?x { "a\\"b\\\\c/\\u00e9\\u2028\\u0000"@en 1 1.5 "x"^^<http://ex/t> } }',
        'SELECT ?t WHERE { BIND(TRIPLE(<http://a>, <http://b>, "c\\n") AS ?t) }',
        "SELECT ?z WHERE { ?s <http://example.org/nothing> ?z }",
    ]
    for q in queries:
        out = io.BytesIO()
        store.query(q).serialize(out, ox.QueryResultsFormat.JSON)
        assert capped_json(store.query(q), 100_000) == (out.getvalue(), False), q
    body, cut = capped_json(store.query(queries[0]), 2)
    assert cut and len(__import__("json").loads(body)["results"]["bindings"]) == 2


def test_guard_decisions_are_remembered_per_allow_list():
    query = "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"
    for _ in range(2):  # a refusal is decided afresh, and stays a refusal
        with pytest.raises(ServiceRefused, match="not allowed"):
            check_query(query, allowed=set())
    first = check_query(query, allowed={"http://127.0.0.1:9/sparql"})
    assert check_query(query, allowed={"http://127.0.0.1:9/sparql"}) is first  # remembered
    assert first.services == ["http://127.0.0.1:9/sparql"]
    with pytest.raises(ServiceRefused):  # the allow-list is part of the key
        check_query(query, allowed={"http://127.0.0.1:10/sparql"})


def test_a_burst_of_quick_queries_waits_while_a_stuck_worker_refuses(idr_store_dir):
    """One worker, no queue: while answers flow, 6 concurrent lookups all get answers (the burst waits); so do
    6 lookups reaching an idle pool at once; a pool whose worker has not answered within `burst_wait` refuses
    a second query at once, as before."""
    flowing = QueryWorkers(idr_store_dir, size=1, queue_length=0, burst=6, timeout=60, burst_wait=30)
    stuck = QueryWorkers(idr_store_dir, size=1, queue_length=0, burst=6, timeout=60, burst_wait=1)
    try:
        assert flowing.run(LOOKUP, JSON_RESULTS, [])[0] == "200"  # an answer: the pool is flowing
        assert _burst(flowing, 6) == ["200"] * 6
        idle = QueryWorkers(idr_store_dir, size=1, queue_length=0, burst=6, timeout=60, burst_wait=30)
        try:
            idle.start()  # started, never answered: a burst at an idle pool is not a stuck pool
            assert _burst(idle, 6) == ["200"] * 6
        finally:
            idle.close()
        runaway = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
        hold = threading.Thread(target=lambda: _ignore(stuck.run, runaway, None, ["json"]), daemon=True)
        hold.start()
        while stuck._waiting < 1:
            hold.join(0.01)
        hold.join(1.5)  # longer than its burst_wait without an answer: stuck
        with pytest.raises(QueryBusy, match="1 query workers are busy and 0 queries are waiting"):
            stuck.run(LOOKUP, JSON_RESULTS, [])
    finally:
        flowing.close()
        stuck.close()


def _burst(pool: QueryWorkers, n: int) -> list[str]:
    """The statuses of `n` lookups sent to `pool` at once from threads (a refused one raised: not listed)."""
    answers: list[str] = []
    threads = [threading.Thread(target=lambda: answers.append(pool.run(LOOKUP, JSON_RESULTS, [])[0])) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return answers


def _ignore(fn, *args) -> None:
    try:
        fn(*args)
    except Exception:  # noqa: BLE001 - the runaway query is killed when the pool closes
        pass
