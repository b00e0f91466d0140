"""SSRF through SERVICE: a corpus of disguised SERVICE calls against a canary HTTP server on 127.0.0.1.

The corpus is checked twice: run unguarded straight on pyoxigraph, (nearly) every disguise reaches the
canary — so each is a real SERVICE call, not a syntax error; sent to /sparql by GET, POST form and POST
body, every one is refused and the canary sees nothing. The allow-listed endpoint still works, its errors
are not echoed, and a worker process cannot open a connection even when handed a SERVICE query directly.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pyoxigraph as ox
import pytest
import requests

from _server import running_app

SECRET = "CANARY-SECRET-7f3a"

# {C} is the canary's base URL, {CE} the same with its port colon written as \u003a, {P} its port
DISGUISES = [
    "PREFIX : <{C}/> SELECT * WHERE {{ SERVICE :x {{ ?s ?p ?o }} }}",
    "PREFIX é: <{C}/> SELECT * WHERE {{ SERVICE é:x {{ ?s ?p ?o }} }}",
    "PREFIX ex\u00b7y: <{C}/> SELECT * WHERE {{ SERVICE ex\u00b7y:x {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ OPTIONAL {{ ?x <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> ?t }} SERVICE <{C}/x> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ VALUES ?t {{ <http://a.example/#x> }} SERVICE <{C}/x> {{ ?s ?p ?o }} }}",
    'SELECT * WHERE {{ VALUES (?t ?u) {{ (<http://a.example/#x> "#") }} SERVICE <{C}/x> {{ ?s ?p ?o }} }}',
    "SELECT * WHERE {{ OPTIONAL {{ ?a <http://a.example/it's> ?b }} SERVICE <{C}/x> {{ ?s ?p ?o }} OPTIONAL {{ ?c <http://a.example/o'clock> ?d }} }}",
    "SELECT * WHERE {{ BIND(<http://a.example/'> AS ?q) SERVICE <{C}/x> {{ ?s ?p ?o }} BIND(<http://a.example/'> AS ?r) }}",
    'SELECT * WHERE {{ BIND("a\\"b" AS ?q) SERVICE <{C}/x> {{ ?s ?p ?o }} BIND("c\\"d" AS ?r) }}',
    "SELECT * WHERE {{ BIND('''it's''' AS ?q) SERVICE <{C}/x> {{ ?s ?p ?o }} BIND(\"\"\"a\"b\"\"\" AS ?r) }}",
    "SELECT * WHERE {{ BIND('#' AS ?q) SERVICE <{C}/x> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ SERV\\u0049CE <{C}/x> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ SERVICE <{CE}/x> {{ ?s ?p ?o }} }}",
    'SELECT * WHERE {{ BIND("a\\u0022 AS ?q) SERVICE <{C}/x> {{ ?s ?p ?o }} BIND("b" AS ?r) }}',
    "SELECT * WHERE {{ # a comment with \" and ' and <\n SERVICE <{C}/x> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ # a comment\r SERVICE <{C}/x> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ SeRvIcE sIlEnT <{C}/x> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ SERVICE #c\n SILENT #d\n <{C}/x> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ SERVICE\n\t<{C}/x>\n{{ ?s ?p ?o }} }}",
    "SELECT*{{SERVICE<{C}/x>{{?s ?p ?o}}}}",
    "PREFIX : <{C}/> SELECT * {{ SERVICE:x {{ ?s ?p ?o }} }}",
    "PREFIX ex: <{C}/> SELECT * {{ SERVICE ex:a\\/b {{ ?s ?p ?o }} }}",
    "PREFIX ex: <{C}/> SELECT * {{ SERVICE ex:%78 {{ ?s ?p ?o }} }}",
    "PREFIX ex: <{C}/allowed> PREFIX ex: <{C}/> SELECT * {{ SERVICE ex:x {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ GRAPH ?g {{ SERVICE <{C}/x> {{ ?s ?p ?o }} }} }}",
    "SELECT * WHERE {{ ?a ?b ?c FILTER EXISTS {{ SERVICE <{C}/x> {{ ?s ?p ?o }} }} }} LIMIT 1",
    "SELECT * WHERE {{ ?a ?b ?c FILTER NOT EXISTS {{ SERVICE <{C}/x> {{ ?s ?p ?o }} }} }} LIMIT 1",
    "SELECT * WHERE {{ {{ SELECT * WHERE {{ SERVICE <{C}/x> {{ ?s ?p ?o }} }} }} }}",
    "SELECT * WHERE {{ {{ }} UNION {{ {{ {{ SERVICE <{C}/x> {{ ?s ?p ?o }} }} }} }} }}",
    "SELECT * WHERE {{ ?a ?b ?c MINUS {{ SERVICE <{C}/x> {{ ?s ?p ?o }} }} }} LIMIT 1",
    "SELECT * WHERE {{ OPTIONAL {{ SERVICE <{C}/x> {{ ?s ?p ?o }} }} }}",
    "SELECT (COUNT(*) AS ?n) WHERE {{ SERVICE <{C}/x> {{ ?s ?p ?o }} }}",
    "SELECT * FROM <http://a.example/#g> WHERE {{ SERVICE <{C}/x> {{ ?s ?p ?o }} }}",
    "BASE <{C}/> SELECT * WHERE {{ SERVICE <x> {{ ?s ?p ?o }} }}",
    "BASE <{C}/a/> SELECT * WHERE {{ SERVICE <../x> {{ ?s ?p ?o }} }}",
    "BASE <http://elsewhere.example/> SELECT * WHERE {{ SERVICE <//127.0.0.1:{P}/x> {{ ?s ?p ?o }} }}",
    "BASE <{C}/> PREFIX ex: <a/> SELECT * WHERE {{ SERVICE ex:x {{ ?s ?p ?o }} }}",
    "CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{C}/x> {{ ?s ?p ?o }} }}",
    "ASK {{ SERVICE <{C}/x> {{ ?s ?p ?o }} }}",
    "DESCRIBE ?s WHERE {{ SERVICE <{C}/x> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ VALUES ?e {{ <{C}/x> }} SERVICE ?e {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ ?s ?p ?o FILTER(?s<?p&&?o>?s) SERVICE <{C}/x> {{ ?s ?p ?o }} }} LIMIT 1",
]
# disguises pyoxigraph itself rejects or never evaluates (kept: a parser that read them differently would call out)
NOT_LIVE = {
    "SELECT * WHERE {{ SERV\\u0049CE <{C}/x> {{ ?s ?p ?o }} }}",  # pyoxigraph does not unescape \u in keywords
    'SELECT * WHERE {{ BIND("a\\u0022 AS ?q) SERVICE <{C}/x> {{ ?s ?p ?o }} BIND("b" AS ?r) }}',  # nor in strings
    "SELECT * WHERE {{ VALUES ?e {{ <{C}/x> }} SERVICE ?e {{ ?s ?p ?o }} }}",  # SERVICE ?var: "unbound"
    "SELECT * WHERE {{ ?s ?p ?o FILTER(?s<?p&&?o>?s) SERVICE <{C}/x> {{ ?s ?p ?o }} }} LIMIT 1",  # filter is false
}


class Canary:
    """A local HTTP server that answers every request with a SPARQL result holding SECRET and counts hits."""

    def __init__(self):
        self.hits: list[str] = []
        canary = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                canary.hits.append(self.path)
                if self.path.startswith("/broken"):
                    body, status, ctype = f"internal failure {SECRET}".encode(), 500, "text/plain"
                else:
                    body = json.dumps(
                        {
                            "head": {"vars": ["s", "p", "o"]},
                            "results": {
                                "bindings": [
                                    {
                                        "s": {"type": "uri", "value": "http://canary.example/s"},
                                        "p": {"type": "uri", "value": "http://canary.example/p"},
                                        "o": {"type": "literal", "value": SECRET},
                                    }
                                ]
                            },
                        }
                    ).encode()
                    status, ctype = 200, "application/sparql-results+json"
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                self._answer()

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._answer()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        self.base = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def expand(self, template: str) -> str:
        escaped = self.base.replace(f":{self.port}", f"\\u003a{self.port}")
        return template.format(C=self.base, CE=escaped, P=self.port)

    def unexpected(self) -> list[str]:
        return [h for h in self.hits if not h.startswith(("/allowed", "/broken"))]


@pytest.fixture(scope="module")
def canary():
    c = Canary()
    yield c
    c.server.shutdown()


@pytest.fixture(scope="module")
def endpoint(harvested_store, canary):
    mp = pytest.MonkeyPatch()
    mp.setenv("KG_SERVICE_ALLOW", f"{canary.base}/allowed,{canary.base}/broken")
    with running_app(harvested_store) as base:
        yield base + "/sparql"
    mp.undo()


def test_corpus_is_live(canary):
    """Unguarded, the disguises are real SERVICE calls: pyoxigraph sends each one to the canary."""
    store = ox.Store()
    store.add(
        ox.Quad(
            ox.NamedNode("http://a.example/s"), ox.NamedNode("http://a.example/p"), ox.NamedNode("http://a.example/o")
        )
    )
    live = []
    for template in DISGUISES:
        before = len(canary.hits)
        try:
            result = store.query(canary.expand(template))
            if not isinstance(result, ox.QueryBoolean):
                list(result)
        except (SyntaxError, RuntimeError, OSError, ValueError):
            pass
        if len(canary.hits) > before:
            live.append(template)
    assert len(live) == len(DISGUISES) - len(NOT_LIVE) == 38
    assert not NOT_LIVE & set(live)
    canary.hits.clear()


@pytest.mark.parametrize("how", ["GET", "POST form", "POST body"])
def test_disguises_are_refused_and_reach_nothing(endpoint, canary, how):
    for template in DISGUISES:
        q = canary.expand(template)
        if how == "GET":
            r = requests.get(endpoint, params={"query": q}, timeout=30)
        elif how == "POST form":
            r = requests.post(endpoint, data={"query": q}, timeout=30)
        else:
            r = requests.post(
                endpoint, data=q.encode(), headers={"Content-Type": "application/sparql-query"}, timeout=30
            )
        assert r.status_code == 403, (template, r.status_code, r.text)
        assert "not allowed" in r.json()["message"] and SECRET not in r.text
    assert canary.unexpected() == []


def test_allow_listed_endpoint_works_and_its_errors_are_not_echoed(endpoint, canary):
    q = f"SELECT ?o WHERE {{ SERVICE <{canary.base}/allowed> {{ ?s ?p ?o }} }}"
    r = requests.get(endpoint, params={"query": q}, headers={"Accept": "application/json"}, timeout=30)
    assert r.status_code == 200 and r.json()["results"]["bindings"] == [{"o": {"type": "literal", "value": SECRET}}]
    r = requests.get(
        endpoint, params={"query": q.replace("/allowed", "/broken")}, headers={"Accept": "application/json"}, timeout=30
    )
    assert r.status_code == 500 and SECRET not in r.text and "query evaluation failed" in r.json()["message"]
    assert canary.unexpected() == []


def test_word_service_in_strings_iris_and_comments_is_fine(endpoint):
    for q in [
        'SELECT ?x WHERE { BIND("SERVICE <http://127.0.0.1:9/> {}" AS ?x) } # SERVICE <http://127.0.0.1:9/>',
        "SELECT ?x WHERE { BIND('''SERVICE ?x {}''' AS ?x) }",
        "PREFIX service: <http://example.org/service#> SELECT ?x WHERE { ?x service:name ?n }",
        "SELECT ?x WHERE { ?x <http://example.org/SERVICE> ?y }",
    ]:
        r = requests.get(endpoint, params={"query": q}, headers={"Accept": "application/json"}, timeout=30)
        assert r.status_code == 200, (q, r.text)


def test_worker_processes_cannot_connect(tmp_path, canary):
    """Defence in depth: handed a SERVICE query past the check, a worker still reaches nothing."""
    from kg.serve.workers import QueryWorkers
    from kg.store import open_store

    store = open_store(tmp_path / "kg")
    del store
    workers = QueryWorkers(tmp_path / "kg", size=1, timeout=30, no_network=True)
    try:
        status, message, _, _ = workers.run(
            f"SELECT * WHERE {{ SERVICE <{canary.base}/x> {{ ?s ?p ?o }} }}", None, ["json"]
        )
        assert workers.isolation_problem is None  # a network namespace of its own (root / CAP_SYS_ADMIN, as in CI)
        assert status == "500" and "query evaluation failed" in message and str(canary.port) not in message
    finally:
        workers.close()
    assert canary.unexpected() == []


def test_pathological_token_streams_are_bounded():
    """Long name runs cost linear time (no regex backtracking), and a query of more tokens than the guard
    reads is refused; both answered well within the 1 MiB body limit."""
    from kg.serve.guard import MAX_TOKENS, QueryTooDeep, check_query
    from kg.sparql_text import structure

    assert structure("SELECT * { ?s ?p " + "a-" * 20_000 + "x }").depth == 1  # one word token, read once
    assert structure("PREFIX e: <http://e/> SELECT * { SERVICE e:" + "a." * 20_000 + "b {} }").services == [
        "http://e/" + "a." * 20_000 + "b"
    ]
    with pytest.raises(QueryTooDeep, match="more than 250,000 tokens"):
        check_query("SELECT * { " + "{" * 10 + "}" * 10 + " 1" * MAX_TOKENS + " }", set())
