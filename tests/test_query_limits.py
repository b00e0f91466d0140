"""Query limits on an on-disk store: a runaway query is stopped at its time limit, others keep being served;
a full queue is refused at once (503 + Retry-After) so pages keep their threads; crashes (stack overflow,
memory cap) are reported as crashes; without a time limit the queries still run in capped workers.

The site runs on waitress with 8 threads (`kg serve --server waitress`), so thread starvation would show,
and on granian as `kg serve` runs it by default, where GET /sparql waits for its worker on the event loop
(kg/serve/sparql_lane.py) and everything else in 8 threads."""

from __future__ import annotations

import re
import threading
import time
from contextlib import contextmanager

import pytest
import requests

from kg.pipeline import harvest_snapshot
from kg.serve.app import create_app
from kg.store import open_store

from expected import STUDIES

JSON = {"Accept": "application/sparql-results+json"}
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


@pytest.fixture(scope="module")
def store_path(sources, tmp_path_factory):
    path = tmp_path_factory.mktemp("store") / "kg"
    store = open_store(path)
    harvest_snapshot(store, sources["idr"])
    return path, store


@pytest.fixture(scope="module", params=["waitress", "granian"])
def site(store_path, request):
    _, store = store_path
    app = create_app(store, query_timeout=2.0, query_workers=2, result_cap=1000)
    with serving(app, request.param) as base:
        yield base + "/sparql"
    app.config["KG_QUERY_WORKERS"].close()


@contextmanager
def serving(app, server: str = "waitress"):
    """The app on a free port of 127.0.0.1, served as `kg serve --server <server>` serves it (8 threads)."""
    if server == "granian":
        with serving_granian(app) as base:
            yield base
        return
    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()


@contextmanager
def serving_granian(app):
    """granian's embedded server over the RSGI adapter and the /sparql lane, as `kg serve` runs it, on an
    event loop of its own in a thread."""
    import asyncio

    from _process import free_port, wait_healthy
    from granian.constants import Interfaces
    from granian.server.embed import Server

    from kg.serve.server import Limits, _granian_options
    from kg.serve.wsgi import rsgi_app

    port = free_port()
    server = Server(
        rsgi_app(app), address="127.0.0.1", port=port, interface=Interfaces.RSGI, **_granian_options(Limits())
    )
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(),), daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    wait_healthy(base, thread, limit=60)
    try:
        yield base
    finally:
        loop.call_soon_threadsafe(server.stop)
        thread.join(30)


def count(site) -> int:
    r = requests.get(
        site,
        params={"query": "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a <http://schema.org/Dataset> }"},
        headers={"Accept": "application/json"},
        timeout=60,
    )
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
        results["retry"] = r.headers.get("Retry-After")

    thread = threading.Thread(target=runaway)
    thread.start()
    time.sleep(0.3)
    assert count(site) == STUDIES["idr"]  # served by the other worker while the runaway query runs
    thread.join(60)
    status, message, elapsed = results["runaway"]
    assert status == 503 and "time limit of 2 s" in message and results["retry"] == "2"
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
        r = requests.get(
            base, params={"query": every}, headers={"Accept": "application/sparql-results+json"}, timeout=60
        )
        assert r.status_code == 200 and len(r.json()["results"]["bindings"]) == 1000
        assert r.headers["X-KG-Result-Cap"] == "1000" and r.headers["X-KG-Result-Truncated"] == "true"
        csv = requests.get(base, params={"query": every, "format": "csv"}, timeout=60)
        assert csv.text.count("\r\n") == 1001  # header + 1000 rows
        nt = requests.get(
            base,
            params={"query": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"},
            headers={"Accept": "application/n-triples"},
            timeout=60,
        )
        assert nt.status_code == 200 and nt.text.count(" .\n") == 1000 and nt.headers["X-KG-Result-Truncated"] == "true"
        small = requests.get(
            base,
            params={"query": every + " LIMIT 10"},
            headers={"Accept": "application/sparql-results+json"},
            timeout=60,
        )
        assert len(small.json()["results"]["bindings"]) == 10 and "X-KG-Result-Truncated" not in small.headers
        ask = requests.get(
            base,
            params={"query": "ASK { ?s ?p ?o }"},
            headers={"Accept": "application/sparql-results+json"},
            timeout=60,
        )
        assert ask.json()["boolean"] is True
    finally:
        if in_process:
            server.shutdown()


NESTED = "SELECT * WHERE " + "{" * 10_000 + "}" * 10_000
# CONCAT of 16 copies per step from 16 bytes to 16 MiB, then of 256 copies: a 4 GiB string, past the cap
BOMB = (
    'SELECT (STRLEN(?g) AS ?n) WHERE { BIND("0123456789abcdef" AS ?a) '
    + " ".join(f"BIND(CONCAT({', '.join([f'?{x}'] * 16)}) AS ?{y})" for x, y in zip("abcde", "bcdef", strict=True))
    + f" BIND(CONCAT({', '.join(['?f'] * 256)}) AS ?g) }}"
)


def test_full_queue_is_refused_at_once_and_pages_keep_answering(site):
    """20 runaway queries at once: 2 run, 2 wait, 16 get 503 + Retry-After at once; /health and a page
    answer while they are still in flight (with 8 server threads all held, they could not)."""
    base = site.removesuffix("/sparql")
    assert count(site) == STUDIES["idr"]  # workers are up
    answers, done = [], threading.Event()

    def runaway():
        r = requests.get(site, params={"query": RUNAWAY}, headers={"Accept": "application/json"}, timeout=60)
        answers.append((r.status_code, r.headers.get("Retry-After"), r.json()["message"]))
        if len(answers) == 20:
            done.set()

    threads = [threading.Thread(target=runaway) for _ in range(20)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    health = requests.get(base + "/health", timeout=60)
    page = requests.get(base + "/queries", headers={"Accept": "text/html"}, timeout=60)
    in_flight = not done.is_set()
    for t in threads:
        t.join(60)
    assert health.status_code == 200 and page.status_code == 200
    assert in_flight  # answered while the runaway queries still held their threads
    assert len(answers) == 20 and {status for status, _, _ in answers} == {503}
    assert all(retry is not None and int(retry) >= 1 for _, retry, _ in answers)  # every 503 says when to return
    refused = [msg for _, _, msg in answers if "busy" in msg]
    stopped = [msg for _, _, msg in answers if "time limit" in msg]
    assert len(refused) >= 16 and len(refused) + len(stopped) == 20
    assert count(site) == STUDIES["idr"]


def test_lookups_are_answered_while_every_worker_is_busy(site):
    """A lookup (one triple pattern) needs no worker: with both workers and both queue places held by
    runaway queries, lookups are answered with the real values before any runaway query has ended."""
    assert count(site) == STUDIES["idr"]  # workers are up
    answers, done = [], threading.Event()

    def runaway():
        r = requests.get(site, params={"query": RUNAWAY}, headers={"Accept": "application/json"}, timeout=60)
        answers.append(r.status_code)
        done.set()

    threads = [threading.Thread(target=runaway) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    lookup = 'SELECT ?s WHERE { ?s <http://schema.org/identifier> "idr0003" }'
    found = [requests.get(site, params={"query": lookup, "n": i}, headers=JSON, timeout=60) for i in range(3)]
    typed = requests.get(
        site, params={"query": "SELECT ?s WHERE { ?s a <http://schema.org/Dataset> }"}, headers=JSON, timeout=60
    )
    in_flight = not done.is_set()
    for t in threads:
        t.join(60)
    assert in_flight  # answered while the runaway queries held every worker
    assert [r.status_code for r in found] == [200, 200, 200]
    assert [b["s"]["value"] for b in found[0].json()["results"]["bindings"]] == [
        "https://idr.openmicroscopy.org/study/idr0003/"
    ]
    assert typed.status_code == 200 and len(typed.json()["results"]["bindings"]) == STUDIES["idr"]
    assert answers == [503] * 4
    assert count(site) == STUDIES["idr"]


def test_nested_query_is_refused_before_parsing(site):
    r = requests.post(site, data=NESTED, headers={"Content-Type": "application/sparql-query"}, timeout=60)
    assert r.status_code == 400 and "nests groups 10000 deep; at most 100" in r.json()["message"]


def test_crashes_are_reported_as_crashes(site, store_path):
    """A worker killed by a stack overflow (handed the nested query past the check), by its memory cap or
    by the query engine aborting is reported as a crash, and replaced."""
    from kg.serve.workers import QueryCrashed, QueryWorkers

    workers = QueryWorkers(store_path[0], size=1, timeout=60, memory_mb=768)
    try:
        with pytest.raises(QueryCrashed, match=r"crashed \(killed by SIG(SEGV|ABRT)"):
            workers.run(NESTED, None, ["json"])
        with pytest.raises(QueryCrashed, match=r"crashed \(killed by SIGABRT.*memory than the limit of 768 MiB"):
            workers.run(BOMB, None, ["json"])
        # pyoxigraph 0.5.13 can abort the process on this sort over the idr graph ("comparison function does
        # not correctly implement a total order"): in the server process it would take the whole site down.
        # Whether it does depends on the order in which the sort meets the values (most runs abort, one CI
        # run did not): either it is reported as a crash or it answers. Run with a generous deadline: under
        # load the sort can outlast the site's 2 s limit first.
        try:
            answer = workers.run("SELECT ?o WHERE { ?s ?p ?o } ORDER BY ?o", None, ["json"])
        except QueryCrashed as crash:
            assert re.search(r"crashed \(killed by SIGABRT", str(crash)), crash
        else:
            assert answer[0] == "200", answer[:2]
        assert workers.run("ASK { ?s ?p ?o }", None, ["json"])[:2] == ("200", b'{"head":{},"boolean":true}')
    finally:
        workers.close()
    assert count(site) == STUDIES["idr"]


@pytest.mark.parametrize("server", ["waitress", "granian"])
def test_no_time_limit_still_runs_queries_in_capped_workers(store_path, monkeypatch, server):
    """--query-timeout 0: no deadline, but queries still run in workers, so a crash cannot take the server."""
    _, store = store_path
    monkeypatch.setenv("KG_QUERY_MEMORY_MB", "768")
    app = create_app(store, query_timeout=None, query_workers=1)
    workers = app.config["KG_QUERY_WORKERS"]
    assert workers.timeout is None and workers.memory_mb == 768
    try:
        with serving(app, server) as base:
            r = requests.post(
                base + "/sparql", data=NESTED, headers={"Content-Type": "application/sparql-query"}, timeout=60
            )
            assert r.status_code == 400
            r = requests.get(
                base + "/sparql", params={"query": BOMB}, headers={"Accept": "application/json"}, timeout=60
            )
            message = r.json()["message"]
            assert (
                r.status_code == 500
                and "crashed" in message
                and "limit of 768 MiB" in message
                and "time limit" not in message
            )
            assert (
                count(base + "/sparql") == STUDIES["idr"]
                and requests.get(base + "/health", timeout=60).status_code == 200
            )
    finally:
        workers.close()


@pytest.mark.parametrize("server", ["waitress", "granian"])
def test_queries_calling_this_endpoint_do_not_deadlock(store_path, monkeypatch, server):
    """A query whose SERVICE calls /sparql on this server (allow-listed, a worker with network) while it
    holds the only worker: the inner call finds no free worker and is refused after the short queue wait,
    so the outer query ends with an error instead of holding the worker until the time limit."""
    from kg.serve.workers import QueryWorkers

    _, store = store_path
    app = create_app(store, query_timeout=30, query_workers=1)
    app.config["KG_QUERY_WORKERS"] = workers = QueryWorkers(
        store_path[0], size=1, timeout=30, queue_wait=1, no_network=False
    )
    try:
        with serving(app, server) as base:
            monkeypatch.setenv("KG_SERVICE_ALLOW", base + "/sparql")
            q = f"SELECT * WHERE {{ SERVICE <{base}/sparql> {{ ?s ?p ?o }} }} LIMIT 1"
            r = requests.get(base + "/sparql", params={"query": q}, headers={"Accept": "application/json"}, timeout=60)
            assert r.status_code == 500 and "query evaluation failed" in r.json()["message"], r.text
            assert count(base + "/sparql") == STUDIES["idr"]  # the worker is free again
    finally:
        workers.close()


def test_a_query_given_up_on_the_event_loop_gives_its_worker_back(store_path):
    """The /sparql lane waits for a worker as a coroutine: when the request goes away while its query runs
    (the coroutine is cancelled), a thread takes the answer and the same worker process serves again."""
    import asyncio

    from kg.serve.workers import QueryWorkers

    workers = QueryWorkers(store_path[0], size=1, timeout=120)
    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d a ?e }"  # ~10,000 x ~2,000 rows of the idr graph

    async def scenario():
        assert (await workers.run_async(("ASK { ?s ?p ?o }", None, ["json"], None, None, None)))[0] == "200"
        (pid,) = [p.pid for p in workers._procs]
        task = asyncio.ensure_future(workers.run_async((slow, None, ["json"], None, None, None)))
        await asyncio.sleep(0.3)
        assert not task.done() and workers._idle.qsize() == 0  # the query runs
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        deadline = time.monotonic() + 120
        while workers._idle.qsize() == 0 and time.monotonic() < deadline:  # the thread waits for the answer
            await asyncio.sleep(0.05)
        answer = await workers.run_async(("ASK { ?s ?p ?o }", None, ["json"], None, None, None))
        return pid, answer, [p.pid for p in workers._procs], workers._waiting

    try:
        workers.start()
        pid, answer, pids, waiting = asyncio.run(scenario())
    finally:
        workers.close()
    assert answer[:2] == ("200", b'{"head":{},"boolean":true}')
    assert pids == [pid] and waiting == 0  # not killed and replaced: the answer was taken, the worker freed


def test_sparqlwrapper_and_rdflib_read_the_site(site):
    """The real clients over GET, on waitress and through granian's event-loop lane: JSON, XML and CSV results
    of a query run in a query worker and of a lookup the serving process answers, a CONSTRUCT as Turtle, a
    syntax error as SPARQLWrapper's QueryBadFormed, and rdflib's SPARQLStore (GET by default)."""
    import csv
    import io

    import rdflib
    from rdflib.plugins.stores.sparqlstore import SPARQLStore
    from SPARQLWrapper import CSV, JSON, TURTLE, XML, SPARQLWrapper
    from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

    assert count(site) == STUDIES["idr"]  # workers are up
    query = "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a <http://schema.org/Dataset> }"
    sw = SPARQLWrapper(site)
    sw.setQuery(query)
    sw.setReturnFormat(JSON)
    assert sw.queryAndConvert()["results"]["bindings"][0]["n"]["value"] == str(STUDIES["idr"])
    sw.setReturnFormat(XML)
    assert [n.firstChild.data for n in sw.queryAndConvert().getElementsByTagName("literal")] == [str(STUDIES["idr"])]
    sw.setReturnFormat(CSV)
    assert list(csv.DictReader(io.StringIO(sw.queryAndConvert().decode()))) == [{"n": str(STUDIES["idr"])}]
    sw.setQuery('SELECT ?s WHERE { ?s <http://schema.org/identifier> "idr0003" }')  # a lookup: no worker
    for fmt, read in (
        (JSON, lambda r: [b["s"]["value"] for b in r["results"]["bindings"]]),
        (CSV, lambda r: [row["s"] for row in csv.DictReader(io.StringIO(r.decode()))]),
    ):
        sw.setReturnFormat(fmt)
        assert read(sw.queryAndConvert()) == ["https://idr.openmicroscopy.org/study/idr0003/"]
    sw.setQuery("CONSTRUCT WHERE { <https://idr.openmicroscopy.org/study/idr0003/> <http://schema.org/citation> ?p }")
    sw.setReturnFormat(TURTLE)
    g = rdflib.Graph().parse(data=sw.queryAndConvert(), format="turtle")
    assert set(g.objects()) == {rdflib.URIRef("https://doi.org/10.1083/jcb.201301120")}
    sw.setQuery("SELECT ?s WHERE { ?s ?p }")
    sw.setReturnFormat(JSON)
    with pytest.raises(QueryBadFormed, match="(?i)syntax error"):
        sw.queryAndConvert()
    store = rdflib.Graph(store=SPARQLStore(site, returnFormat="json"))
    rows = list(store.query(query))
    assert len(rows) == 1 and int(rows[0][0]) == STUDIES["idr"]


def test_renewed_workers_see_what_was_written_since_they_opened_the_store(tmp_path):
    """A worker's read-only handle sees the store as it was when opened, so `kg up`'s validation findings,
    written while the server answers, stayed out of /sparql's worker queries: `renew` (called once
    validation has written its graph) replaces an idle worker at once and a busy one once its query is
    answered; the new ones see the new quads."""
    import asyncio
    import json

    import pyoxigraph as ox

    from kg.serve.workers import QueryWorkers

    g = ox.NamedNode("https://example.org/graph/renew")
    p = ox.NamedNode("https://example.org/p")
    store = open_store(tmp_path / "kg")
    store.append(ox.Quad(ox.NamedNode(f"https://example.org/s{i}"), p, ox.Literal(str(i)), g) for i in range(3000))
    counted = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{g.value}> {{ ?s ?p ?o }} }}"
    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f }"  # 3,000 x 3,000 rows
    workers = QueryWorkers(tmp_path / "kg", size=2, timeout=120)

    def count() -> int:
        status, body, _, _ = workers.run(counted, None, ["json"])
        assert status == "200"
        return int(json.loads(body)["results"]["bindings"][0]["n"]["value"])

    async def renew_while_one_is_busy():
        task = asyncio.ensure_future(workers.run_async((slow, None, ["json"], None, None, None)))
        await asyncio.sleep(0.3)
        assert not task.done() and workers._idle.qsize() == 1  # one worker busy, one idle
        workers.renew()
        answer = await task  # the busy worker answers, then is replaced
        deadline = time.monotonic() + 120
        while (workers._idle.qsize() < 2 or len(workers._procs) != 2) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return answer

    try:
        workers.start()
        before = {proc.pid for proc in workers._procs}
        assert count() == 3000
        store.append([ox.Quad(ox.NamedNode("https://example.org/new"), p, ox.Literal("new"), g)])
        assert count() == 3000  # what the handles opened before the write still see
        answer = asyncio.run(renew_while_one_is_busy())
        after = {proc.pid for proc in workers._procs}
        assert answer[0] == "200" and b'"9000000"' in answer[1]
        assert len(after) == 2 and not after & before  # both replaced
        assert [count(), count()] == [3001, 3001]  # each new worker sees the new quad
    finally:
        workers.close()
