"""SPARQL 1.1 Protocol endpoint at /sparql (query only; updates are refused here).

GET ?query=…, POST form `query=`, POST `application/sparql-query`; `default-graph-uri` / `named-graph-uri`;
default graph = union of all public graphs, or the query's FROM / FROM NAMED. Results negotiated by
Accept or `format=` / `output=` / `results=` (kg/formats.py). A browser asking for HTML gets the query
page (`wants_query_page`), preloaded with the named queries from queries/ and the query, if any.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass

import pyoxigraph as ox
from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    render_template,
    request,
)

from ..config import QUERIES
from ..formats import unknown_words
from ..namespaces import PREFIXES, STAGING_PREFIX
from ..sparql_text import Structure
from .cache import NOT_CACHEABLE
from .guard import QueryTooDeep, ServiceRefused, check_query
from .negotiation import preferred, wants_query_page
from .queries import named_queries
from .sparql_results import render, render_small
from .workers import QueryBusy, QueryCrashed, QueryTimeout, _safe_message

bp = Blueprint("sparql", __name__)
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
OUTCOME_KEY = "kg.sparql.outcome"  # environ key: an outcome (or exception) the fast path hands the view
NO_GRAPH = "urn:kg:no-graph"  # stands for an empty part of a dataset (never holds triples)
LOOKUP_ROWS = 1000  # solutions a lookup may have and still be answered by the serving process (`lookup`)

SERVICE_DESCRIPTION = """@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix void: <http://rdfs.org/ns/void#> .
<{endpoint}> a sd:Service ;
  sd:endpoint <{endpoint}> ;
  sd:supportedLanguage sd:SPARQL11Query ;
  sd:feature sd:UnionDefaultGraph ;
  sd:resultFormat <http://www.w3.org/ns/formats/SPARQL_Results_JSON>, <http://www.w3.org/ns/formats/SPARQL_Results_XML>,
    <http://www.w3.org/ns/formats/SPARQL_Results_CSV>, <http://www.w3.org/ns/formats/SPARQL_Results_TSV>,
    <http://www.w3.org/ns/formats/Turtle>, <http://www.w3.org/ns/formats/N-Triples>, <http://www.w3.org/ns/formats/JSON-LD>,
    <http://www.w3.org/ns/formats/RDF_XML> ;
  sd:defaultDataset [ a sd:Dataset ;
{graphs}  ] .
"""


@dataclass
class Outcome:
    """What a /sparql request for results comes to, before it becomes a response: a result (200) or an
    error with its message. Built without Flask (`evaluate`), so the fast path (sparql_fast.py) and the
    view share every check; the view turns any outcome into a response (`respond`)."""

    status: int
    body: bytes | str  # the result, or an error's message
    ctype: str | None = None
    cut: bool = False  # the result was cut to the cap
    retry_after: int | None = None  # 503s say when to come back
    page: bool = False  # not a query for results: the query page or the service description
    query: str | None = None  # the query to show on that page


_REASONS = {400: "Bad Request", 403: "Forbidden", 406: "Not Acceptable", 415: "Unsupported Media Type"}
_REASONS |= {500: "Internal Server Error", 503: "Service Unavailable"}
_UPDATE_REFUSED = "SPARQL Update is not accepted on this public endpoint; the store is updated by `kg harvest`."


def _error(status: int, message: str, error: str | None = None, retry_after: int | None = None) -> Response:
    resp = jsonify(error=error or _REASONS[status], status=status, message=message)
    resp.status_code = status
    if retry_after is not None:  # every 503 says when to come back (a stopped query's worker is replaced by then)
        resp.headers["Retry-After"] = str(retry_after)
    return resp


def _retry_after_limit(config) -> int:
    """Seconds a client stopped at the time limit should wait: the limit itself, at least one."""
    return max(1, math.ceil(config.get("KG_QUERY_TIMEOUT") or 1))


class _Refused(Exception):
    def __init__(self, outcome: Outcome):
        self.outcome = outcome


def _read_request(req) -> tuple[str | None, list[str], list[str]]:
    """The query text and dataset parameters, per SPARQL 1.1 Protocol §2.1 (`_Refused` for an update or
    an unsupported body)."""
    args = req.args
    default_graphs = args.getlist("default-graph-uri")
    named_graphs = args.getlist("named-graph-uri")
    if req.method in ("GET", "HEAD"):
        if "update" in args:
            raise _Refused(Outcome(403, _UPDATE_REFUSED))
        return args.get("query"), default_graphs, named_graphs
    ctype = (req.mimetype or "").lower()
    if ctype == "application/sparql-update" or (ctype == "application/x-www-form-urlencoded" and "update" in req.form):
        raise _Refused(Outcome(403, _UPDATE_REFUSED))
    if ctype == "application/sparql-query":
        return req.get_data(as_text=True), default_graphs, named_graphs
    if ctype == "application/x-www-form-urlencoded":
        form = req.form
        return (
            form.get("query"),
            default_graphs + form.getlist("default-graph-uri"),
            named_graphs + form.getlist("named-graph-uri"),
        )
    raise _Refused(
        Outcome(
            415,
            f"unsupported Content-Type {ctype or '(none)'}: use application/sparql-query or application/x-www-form-urlencoded",
        )
    )


@bp.route("/sparql", methods=["GET", "HEAD", "POST"])
def sparql():
    outcome = request.environ.pop(OUTCOME_KEY, None)  # already evaluated by the fast path (an error)
    if isinstance(outcome, BaseException):
        raise outcome  # the app's error handlers answer it, as for any view
    if outcome is None:
        outcome = evaluate(request, current_app.config, current_app.logger)
    if outcome.page:
        return _page_or_description(current_app.config["KG_STORE"], outcome.query)
    return respond(outcome)


def respond(outcome: Outcome) -> Response:
    """The response for an outcome: the result with its headers, or the error as JSON."""
    if outcome.status != 200:
        return _error(outcome.status, outcome.body, retry_after=outcome.retry_after)
    return _answer(outcome.body, outcome.ctype, current_app.config.get("KG_RESULT_CAP"), outcome.cut)


def evaluate(req, config, log: logging.Logger) -> Outcome:
    """A /sparql request (`req`: a werkzeug request) evaluated to its outcome: guards, dataset, format
    words, then the query in a worker process (on-disk store) or the store itself. Needs no Flask context."""
    step = prepare(req, config)
    if isinstance(step, Outcome):
        return step
    workers = config.get("KG_QUERY_WORKERS")
    if workers is None:
        return _in_store(step, config, log)
    outcome = lookup(step, config, log)
    if outcome is not None:
        return outcome
    try:
        return answered(workers.run(*step.job))
    except (QueryBusy, QueryTimeout, QueryCrashed) as e:
        return refused(e, config)


@dataclass
class Prepared:
    """A checked /sparql query and how to answer it: the arguments of a worker's job, in their order."""

    query: str
    accept: str | None
    words: list[str]
    default_graphs: list[str] | None
    named_graphs: list[str] | None
    cap: int | None
    lookup: bool = False  # one triple pattern over the whole store (sparql_text.is_lookup): see `lookup`

    @property
    def job(self) -> tuple:
        return (self.query, self.accept, self.words, self.default_graphs, self.named_graphs, self.cap)


def prepare(req, config) -> Outcome | Prepared:
    """Everything `evaluate` does before the query runs (no store access): an outcome when the request
    ends there (a refusal, the query page), else the checked query. The event loop's lane
    (sparql_lane.py) runs it too, then waits for the worker without a thread."""
    try:
        query, default_graphs, named_graphs = _read_request(req)
    except _Refused as e:
        return e.outcome
    if query is None or wants_query_page(req):
        return Outcome(200, b"", page=True, query=query)
    if not query.strip():
        return Outcome(400, "empty query")
    try:
        st = check_query(query)
        if st.volatile:  # a new answer each time: the response cache must not keep it
            req.environ[NOT_CACHEABLE] = True
    except ServiceRefused as e:
        return Outcome(403, str(e))
    except QueryTooDeep as e:
        return Outcome(400, str(e))
    try:
        default_graphs, named_graphs = dataset(st, default_graphs, named_graphs)
    except ValueError as e:
        return Outcome(400, str(e))
    # SPARQLWrapper sends all three names, sometimes with a second value that is a list of media types
    words = [w for name in ("format", "output", "results") for v in req.values.getlist(name) for w in v.split(",")]
    if words and unknown_words(words):
        return Outcome(
            400,
            f"unknown result format {unknown_words(words)[0]!r}; use json, xml, csv, tsv, turtle, ntriples, jsonld, rdfxml or a media type",
        )
    return Prepared(
        query,
        req.headers.get("Accept"),
        words,
        default_graphs,
        named_graphs,
        config.get("KG_RESULT_CAP"),
        lookup=st.lookup and default_graphs is None and named_graphs is None,
    )


def answered(answer: tuple) -> Outcome:
    """The outcome of a worker's (or the renderer's) answer: (status, body or message, type, cut)."""
    status, body, ctype, cut = answer
    if status != "200":
        return Outcome(int(status), body)
    return Outcome(200, body, ctype, cut)


def refused(e: QueryBusy | QueryTimeout | QueryCrashed, config) -> Outcome:
    """The outcome of a query the workers did not answer: busy, stopped at the limit, or crashed."""
    if isinstance(e, QueryBusy):
        return Outcome(503, str(e), retry_after=e.retry_after)
    if isinstance(e, QueryTimeout):
        return Outcome(503, str(e), retry_after=_retry_after_limit(config))
    return Outcome(500, str(e))


def lookup(step: Prepared, config, log: logging.Logger) -> Outcome | None:
    """A lookup (`Prepared.lookup`) answered by the serving process's own store handle, without a worker
    process; None for any other query, or when a lookup has more than LOOKUP_ROWS solutions (it then runs
    in a worker like every other query). A worker costs a lookup 3-5x its evaluation (two processes to
    wake, the request and answer through a pipe, py-spy). What bounds a lookup here instead of the time
    limit: its grammar (one triple pattern, no repeated variable, nothing that holds solutions back, no
    SERVICE), under which each solution is one step of an index scan, and the LOOKUP_ROWS solutions read
    at most; no network is reachable from it."""
    if not step.lookup:
        return None
    return _in_store(step, config, log, LOOKUP_ROWS)


def _in_store(step: Prepared, config, log: logging.Logger, limit: int | None = None) -> Outcome | None:
    """The query run by the store itself (in memory, or a remote store with its own time limit); with a
    `limit`, None when the result has more solutions than that (`render_small`)."""
    try:
        result = config["KG_STORE"].query(
            step.query,
            default_graph=step.default_graphs,
            named_graphs=step.named_graphs,
            timeout=config.get("KG_QUERY_TIMEOUT"),
        )
    except SyntaxError as e:
        return Outcome(400, f"SPARQL syntax error: {e}")
    except TimeoutError as e:  # a remote store's time limit
        return Outcome(503, str(e), retry_after=_retry_after_limit(config))
    except (ValueError, OSError, RuntimeError) as e:
        log.warning("query evaluation failed: %s", e)
        return Outcome(500, "query evaluation failed: " + _safe_message(e))
    try:
        if limit is None:
            return answered(render(result, step.accept, step.words, step.cap))
        answer = render_small(result, step.accept, step.words, step.cap, limit)
        return None if answer is None else answered(answer)
    except (SyntaxError, ValueError, OSError, RuntimeError) as e:
        log.warning("query evaluation failed: %s", e)
        return Outcome(500, "query evaluation failed: " + _safe_message(e))


def _page_or_description(store, query: str | None) -> Response:
    """The query page for a browser (with the query, when given), else the service description."""
    if wants_query_page() or (
        query is None
        and preferred(["text/html", "text/turtle"]) == "text/html"
        and "text/html" in request.headers.get("Accept", "")
    ):
        page = Response(
            render_template(
                "sparql.html",
                queries=named_queries(QUERIES),
                prefixes=PREFIXES,
                initial=request.args.get("example", ""),
                query=query,
            ),
            mimetype="text/html",
        )
        page.headers["Vary"] = "Accept"  # the same /sparql?query=… URL answers results to API clients
        return page
    graphs = "".join(f"    sd:namedGraph [ sd:name <{g.value}> ] ;\n" for g in store.public_graphs())
    body = SERVICE_DESCRIPTION.format(endpoint=request.base_url, graphs=graphs)
    return Response(body, mimetype="text/turtle")


def dataset(
    st: Structure, default_graphs: list[str], named_graphs: list[str]
) -> tuple[list[str] | None, list[str] | None]:
    """The RDF dataset per SPARQL 1.1 §13.2 and the Protocol §2.1.4: the protocol's default-graph-uri /
    named-graph-uri if given, else the query's FROM / FROM NAMED, else None (the store's union of public
    graphs). With only FROM (or only FROM NAMED) the other part is empty. Staging graphs are left out; an
    invalid IRI is a ValueError (400)."""
    if default_graphs or named_graphs:
        dg, ng = default_graphs, named_graphs
    elif st.from_graphs or st.from_named:
        dg, ng = st.from_graphs, st.from_named
    else:
        return None, None
    for iri in dg + ng:
        try:
            ox.NamedNode(iri)
        except ValueError:
            raise ValueError(f"not a valid graph IRI: {iri!r}") from None
        if not _ABSOLUTE.match(iri):
            raise ValueError(f"not an absolute graph IRI: {iri!r}")
    dg, ng = [g for g in dg if not g.startswith(STAGING_PREFIX)], [g for g in ng if not g.startswith(STAGING_PREFIX)]
    # an empty part is asked for as a graph that never exists: both stores read [] as "not given"
    return dg or [NO_GRAPH], ng or [NO_GRAPH]


def _answer(body: bytes, ctype: str, cap: int | None, cut: bool) -> Response:
    """The result; with a cap, headers say what it is and whether this result was cut to it."""
    return Response(body, headers=result_headers(ctype, cap, cut))


def result_headers(ctype: str, cap: int | None, cut: bool) -> list[tuple[str, str]]:
    """A result's headers (the view's and the fast path's): its type, Vary, and the cap when there is one."""
    headers = [("Content-Type", ctype), ("Vary", "Accept")]
    if cap:
        headers.append(("X-KG-Result-Cap", str(cap)))
        if cut:
            headers.append(("X-KG-Result-Truncated", "true"))
            headers.append(("Warning", f'199 - "result truncated to the first {cap} rows; add LIMIT/OFFSET to page"'))
    return headers
