"""The store interface over any SPARQL 1.1 Query / Update (+ Graph Store Protocol) server.

For users who outgrow one machine: Virtuoso, QLever, Fuseki, GraphDB… hold the graph and this class
speaks the standard protocols to them, so every stage (harvest, links, grounding, validation, dumps,
serve) runs unchanged. Results come back as pyoxigraph objects (parsed from SPARQL JSON results and
N-Triples), so callers cannot tell the stores apart.

Atomic replacement works as on the embedded store: a new graph is written to a staging graph (hidden,
because readers always name the public graphs), then one SPARQL Update request moves it over the served
graph and swaps the source's provenance. Servers run one update request as one transaction (Virtuoso,
Fuseki/TDB2, GraphDB), so readers see the old graph or the new one.

One SPARQL client: this class speaks the protocol with requests (as the harvest's Fetcher does).
SPARQLWrapper, the other candidate, sits on urllib: no kept-alive connections, no Graph Store Protocol
(the bulk path of every write here), no access to the response headers Virtuoso uses to say a query was
cut (X-SQL-State), and results parsed into Python dicts we would convert again; here the body goes
straight to pyoxigraph's parsers. SPARQLWrapper stays a test dependency: the tests use it as a client
of our own endpoint.

Quirks of real servers handled here: Virtuoso answers ASK with a one-row table (`__ASK_RETVAL`), names
blank nodes `nodeID://…`, and refuses blank nodes in INSERT DATA (data therefore goes through the Graph
Store Protocol when configured, else through INSERT … WHERE {}).
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
import uuid
from collections.abc import Iterable

import pyoxigraph as ox
import requests

from ..namespaces import GRAPH, KG, PROVENANCE_GRAPH, STAGING_PREFIX
from ..sparql_text import query_form as _first_form_keyword
from .interface import StoreUnavailable
from .updates import quad_block, swap_update

_VIRTUOSO_BNODE = re.compile(r'("type"\s*:\s*"bnode"\s*,\s*"value"\s*:\s*")nodeID://')
_CHUNK = 20_000  # quads per INSERT request when no Graph Store endpoint is configured

# How each server takes a per-query time limit, so the server itself stops a runaway query.
TIMEOUT_PARAMS = {
    "virtuoso": lambda s: ("timeout", str(int(s * 1000))),  # ms; answers 200 + X-SQL-State: S1TAT when cut
    "fuseki": lambda s: ("timeout", f"{s:g}"),
    "graphdb": lambda s: ("timeout", str(max(1, round(s)))),
    "qlever": lambda s: ("timeout", f"{s:g}s"),
    "generic": None,
}


class RemoteQueryError(ValueError):
    """The server refused or failed a query; the message is the server's own."""


class RemoteTimeout(TimeoutError):
    pass


def query_form(sparql: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the first form keyword among the query's tokens."""
    form = _first_form_keyword(sparql)
    if form not in ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE"):
        raise SyntaxError("not a SPARQL query: no SELECT, ASK, CONSTRUCT or DESCRIBE")
    return form


class RemoteStore:
    """A SPARQL 1.1 server as the store (implements `interface.Store`). No local folder: the app runs
    queries in-process and the server's own time limit plus the HTTP timeout bound them."""

    local_path = None

    def __init__(
        self,
        query_url: str,
        update_url: str | None = None,
        graph_store_url: str | None = None,
        user: str | None = None,
        password: str | None = None,
        auth: str = "digest",
        timeout: float = 300.0,
        dialect: str = "generic",
    ):
        if dialect not in TIMEOUT_PARAMS:
            raise ValueError(f"unknown SPARQL server dialect {dialect!r} (known: {', '.join(TIMEOUT_PARAMS)})")
        self.dialect = dialect
        self.query_url = query_url
        self.update_url = update_url or query_url
        self.graph_store_url = graph_store_url
        self.timeout = timeout
        self.session = requests.Session()
        if user:
            self.session.auth = (requests.auth.HTTPDigestAuth if auth == "digest" else requests.auth.HTTPBasicAuth)(
                user, password or ""
            )
        self._graphs: tuple[float, list[ox.NamedNode]] | None = None
        self._write_lock = threading.Lock()
        try:
            self.query("ASK { }", default_graph=[PROVENANCE_GRAPH])
        except (requests.RequestException, RemoteQueryError) as e:
            raise StoreUnavailable(f"cannot reach the SPARQL store at {query_url}: {e}") from e

    def __repr__(self) -> str:
        return f"RemoteStore({self.query_url!r})"

    # -- HTTP --------------------------------------------------------------------------------------
    def _post(self, url: str, timeout: float | None = None, **kw) -> requests.Response:
        try:
            r = self.session.post(url, timeout=timeout or self.timeout, **kw)
        except requests.Timeout as e:
            raise RemoteTimeout(
                f"the SPARQL store did not answer within {timeout or self.timeout:g} s (time limit)"
            ) from e
        if r.status_code >= 400:
            msg = r.text.strip()[:2000] or r.reason
            if r.status_code in (400, 414) or "SPARQL compiler" in msg or "syntax error" in msg.lower():
                raise SyntaxError(msg) if r.status_code == 400 else RemoteQueryError(msg)
            if r.status_code in (401, 403):
                raise StoreUnavailable(f"the SPARQL store refused the request ({r.status_code}): {msg}")
            raise RemoteQueryError(f"the SPARQL store answered {r.status_code}: {msg}")
        return r

    # -- reading -----------------------------------------------------------------------------------
    def public_graphs(self) -> list[ox.NamedNode]:
        """The knowledge graph's own graphs (the server's system graphs and staging graphs are not)."""
        now = time.monotonic()
        if self._graphs and now - self._graphs[0] < 2.0:
            return self._graphs[1]
        rows = self._select(
            f'SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), "{GRAPH}")) }}'
        )
        graphs = sorted((r["g"] for r in rows if isinstance(r["g"], ox.NamedNode)), key=lambda g: g.value)
        self._graphs = (now, graphs)
        return graphs

    def _select(self, sparql: str):
        return self._run(sparql, None, None, "SELECT", self.timeout)

    def query(
        self,
        sparql: str,
        default_graph: list[str] | None = None,
        named_graphs: list[str] | None = None,
        timeout: float | None = None,
    ):
        """Run a query; the default graph is the union of the public graphs unless given. With `timeout`
        the server is asked to stop the query at that limit (where its dialect says how) and the client
        gives up shortly after; both raise RemoteTimeout."""
        form = query_form(sparql)
        public = None
        if not default_graph or not named_graphs:
            public = [g.value for g in self.public_graphs()] or [PROVENANCE_GRAPH]
        return self._run(sparql, default_graph or public, named_graphs or public, form, timeout or self.timeout)

    def _run(self, sparql, default_graph, named_graphs, form, timeout):
        data: list[tuple[str, str]] = [("query", sparql)]
        data += [("default-graph-uri", g) for g in default_graph or []]
        data += [("named-graph-uri", g) for g in named_graphs or []]
        limit = TIMEOUT_PARAMS[self.dialect]
        if limit and timeout < self.timeout:
            data.append(limit(timeout))
        graph = form in ("CONSTRUCT", "DESCRIBE")
        accept = "application/n-triples" if graph else "application/sparql-results+json"
        r = self._post(
            self.query_url, timeout=timeout * 2 + 1 if limit else timeout, data=data, headers={"Accept": accept}
        )
        if r.headers.get("X-SQL-State") == "S1TAT":  # Virtuoso cut the query and sends partial results
            raise RemoteTimeout(f"the query ran longer than the time limit of {timeout:g} s and was stopped")
        if graph:
            return [q.triple for q in ox.parse(r.content, format=ox.RdfFormat.N_TRIPLES)]
        text = r.content.decode("utf-8")
        if '"bnode"' in text:
            text = _VIRTUOSO_BNODE.sub(r"\1", text)
        if form == "ASK" and '"__ASK_RETVAL"' in text:  # Virtuoso: ASK as a one-row table
            rows = json.loads(text)["results"]["bindings"]
            text = json.dumps(
                {"head": {}, "boolean": bool(rows) and rows[0]["__ASK_RETVAL"]["value"] not in ("0", "false")}
            )
        return ox.parse_query_results(text, format=ox.QueryResultsFormat.JSON)

    def graph_sizes(self) -> dict[str, int]:
        rows = self._select(
            f'SELECT ?g (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), "{GRAPH}")) }} GROUP BY ?g'
        )
        return {r["g"].value: int(r["n"].value) for r in rows}

    def record_hashes(self, source_key: str) -> dict[str, str]:
        rows = self._select(
            f"""SELECT ?f ?h WHERE {{ GRAPH <{PROVENANCE_GRAPH}> {{ ?r a <{KG}SourceRecord> ;
                <{KG}harvestSource> {ox.Literal(source_key)} ; <{KG}fileName> ?f ; <{KG}sha256> ?h }} }}"""
        )
        return {r["f"].value: r["h"].value for r in rows}

    def has_graph(self, graph: str) -> bool:
        return bool(self._run(f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}", None, None, "ASK", self.timeout))

    def quads_for_pattern(self, subject=None, predicate=None, object=None, graph: str | None = None) -> list[ox.Quad]:
        terms = [t if t is not None else ox.Variable(v) for t, v in ((subject, "s"), (predicate, "p"), (object, "o"))]
        g = f"<{graph}>" if graph else "?g"
        rows = self._select(f"SELECT * WHERE {{ GRAPH {g} {{ {terms[0]} {terms[1]} {terms[2]} }} }}")
        out = []
        for r in rows:
            gn = ox.NamedNode(graph) if graph else r["g"]
            if not graph and gn.value.startswith(STAGING_PREFIX):
                continue
            out.append(ox.Quad(subject or r["s"], predicate or r["p"], object or r["o"], gn))
        return out

    def quads(self, graph: str | None = None) -> list[ox.Quad]:
        return self.quads_for_pattern(graph=graph)

    def dump_graph(self, graph: str, format: ox.RdfFormat) -> bytes:
        triples = self._run(
            f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}",
            None,
            None,
            "CONSTRUCT",
            self.timeout,
        )
        out = io.BytesIO()
        ox.serialize(triples, out, format)
        return out.getvalue()

    # -- writing -----------------------------------------------------------------------------------
    def update(self, sparql: str) -> None:
        self._post(self.update_url, data={"update": sparql})
        self._graphs = None

    def _load(self, graph: str, quads: Iterable) -> int:
        """Add the quads' triples to `graph` (Graph Store POST when configured, else INSERT requests)."""
        g = ox.NamedNode(graph)
        triples = [ox.Triple(q.subject, q.predicate, q.object) for q in quads]
        if not triples:
            return 0
        if self.graph_store_url:
            self._post_ntriples(graph, ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES))
        else:
            has_bnodes = any(isinstance(t, ox.BlankNode) for tr in triples for t in (tr.subject, tr.object))
            step = len(triples) if has_bnodes else _CHUNK  # blank nodes are scoped to one request
            for i in range(0, len(triples), step):
                block = quad_block(ox.Quad(t.subject, t.predicate, t.object, g) for t in triples[i : i + step])
                self.update(f"INSERT {{ {block} }} WHERE {{ }}")
        self._graphs = None
        return len(triples)

    def _post_ntriples(self, graph: str, body: bytes) -> None:
        """Graph Store Protocol: add N-Triples to `graph`."""
        if body:
            self._post(
                self.graph_store_url,
                params={"graph": graph},
                data=body,
                headers={"Content-Type": "application/n-triples"},
            )
        self._graphs = None

    def _drop(self, *graphs: str) -> None:
        self.update(" ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in graphs))

    def source_writer(self, graph: str, source_key: str) -> RemoteSourceWriter:
        """Write a source's new graph in chunks (each sent at once to a staging graph); swapped in at commit."""
        return RemoteSourceWriter(self, graph, source_key)

    def _swap(self, data_stage: str, graph: str, provenance: Iterable[ox.Quad], source_key: str) -> dict[str, int]:
        prov_stage = f"{STAGING_PREFIX}{uuid.uuid4().hex}:prov"
        with self._write_lock:
            try:
                self._load(prov_stage, provenance)
                changes = self._difference(data_stage, graph)
                self.update(swap_update(data_stage, graph, prov_stage, source_key))
            finally:
                self._drop(data_stage, prov_stage)
        return changes

    def staging_graphs(self) -> list[str]:
        """Staging graphs present now (none once every harvest has committed or aborted)."""
        rows = self._select(
            f'SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), "{STAGING_PREFIX}")) }}'
        )
        return sorted(r["g"].value for r in rows)

    def count(self, graph: str, minus: str | None = None) -> int:
        """Triples in `graph` (that are not in `minus`)."""
        other = f"FILTER NOT EXISTS {{ GRAPH <{minus}> {{ ?s ?p ?o }} }}" if minus else ""
        rows = self._select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} {other} }}")
        return int(next(iter(rows))["n"].value)

    def _difference(self, new: str, old: str) -> dict[str, int]:
        return {"added": self.count(new, minus=old), "removed": self.count(old, minus=new)}

    def replace_graph(self, graph: str, quads: Iterable[ox.Quad]) -> None:
        stage = f"{STAGING_PREFIX}{uuid.uuid4().hex}:graph"
        with self._write_lock:
            try:
                self._load(stage, quads)
                self.update(
                    f"MOVE SILENT GRAPH <{stage}> TO GRAPH <{graph}>"
                    if self.has_graph(stage)
                    else f"DROP SILENT GRAPH <{graph}>"
                )
            finally:
                self._drop(stage)

    def append(self, quads: Iterable[ox.Quad]) -> None:
        by_graph: dict[str, list[ox.Quad]] = {}
        for q in quads:
            by_graph.setdefault(q.graph_name.value, []).append(q)
        with self._write_lock:
            for g, qs in by_graph.items():
                self._load(g, qs)

    def remove(self, quads: Iterable[ox.Quad]) -> None:
        quads = list(quads)
        if quads:
            self.update(f"DELETE DATA {{ {quad_block(quads)} }}")

    def flush(self) -> None:
        """Nothing to do: the server persists each request."""


class RemoteSourceWriter:
    """Chunks of a source's new graph go to a staging graph on the server as they come; `commit` swaps it
    in with the provenance in one update request; `abort` drops it."""

    def __init__(self, store: RemoteStore, graph: str, source_key: str):
        self.store, self.graph, self.key = store, graph, source_key
        self.stage = f"{STAGING_PREFIX}{uuid.uuid4().hex}:data"
        self.done = False

    def add(self, quads: Iterable[ox.Quad]) -> None:
        self.store._load(self.stage, quads)

    def add_graphs(self, source: ox.Store, graphs: list[ox.NamedNode]) -> None:
        """The triples of `graphs` of a staging store, sent as N-Triples (Graph Store POST when configured)."""
        if self.store.graph_store_url:
            self.store._post_ntriples(
                self.stage, b"".join(source.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=g) for g in graphs)
            )
        else:
            self.add(q for g in graphs for q in source.quads_for_pattern(None, None, None, g))

    def add_ntriples(self, data: bytes) -> None:
        """Triples given as N-Triples (the mapping workers' output)."""
        if self.store.graph_store_url:
            self.store._post_ntriples(self.stage, data)
        else:
            self.add(ox.parse(data, format=ox.RdfFormat.N_TRIPLES))

    def commit(self, provenance: Iterable[ox.Quad]) -> dict[str, int]:
        self.done = True
        changes = self.store._swap(self.stage, self.graph, provenance, self.key)
        changes["triples"] = self.store.count(self.graph)
        return changes

    def abort(self) -> None:
        if not self.done:
            self.done = True
            self.store._drop(self.stage)


def open_remote(url: str, env: dict) -> RemoteStore:
    """A RemoteStore from a query URL and KG_STORE_* settings (see the README, "Running in production")."""
    return RemoteStore(
        url,
        update_url=env.get("KG_STORE_UPDATE") or None,
        graph_store_url=env.get("KG_STORE_GRAPH_STORE") or None,
        user=env.get("KG_STORE_USER") or None,
        password=env.get("KG_STORE_PASSWORD") or None,
        auth=env.get("KG_STORE_AUTH", "digest"),
        timeout=float(env.get("KG_STORE_TIMEOUT", "300")),
        dialect=env.get("KG_STORE_DIALECT", "generic"),
    )
