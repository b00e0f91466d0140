"""SPARQL 1.1 Protocol endpoint at /sparql (query only; updates are refused here).

GET ?query=…, POST form `query=`, POST `application/sparql-query`; `default-graph-uri` / `named-graph-uri`;
default graph = union of all public graphs, or the query's FROM / FROM NAMED. Results negotiated by
Accept or `format=` / `output=` / `results=` (kg/formats.py). A browser asking for HTML gets the query
page (`wants_query_page`), preloaded with the named queries from queries/ and the query, if any.
"""

from __future__ import annotations

import math
import re

import pyoxigraph as ox
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
)

from ..config import QUERIES
from ..formats import unknown_words
from ..namespaces import PREFIXES, STAGING_PREFIX
from ..sparql_text import Structure
from .guard import QueryTooDeep, ServiceRefused, check_query
from .negotiation import preferred, wants_query_page
from .queries import named_queries
from .sparql_results import render
from .workers import _safe_message

bp = Blueprint("sparql", __name__)
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
NO_GRAPH = "urn:kg:no-graph"  # stands for an empty part of a dataset (never holds triples)

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


def _error(status: int, message: str, error: str, retry_after: int | None = None) -> Response:
    resp = jsonify(error=error, status=status, message=message)
    resp.status_code = status
    if retry_after is not None:  # every 503 says when to come back (a stopped query's worker is replaced by then)
        resp.headers["Retry-After"] = str(retry_after)
    return resp


def _retry_after_limit() -> int:
    """Seconds a client stopped at the time limit should wait: the limit itself, at least one."""
    return max(1, math.ceil(current_app.config.get("KG_QUERY_TIMEOUT") or 1))


def _read_request() -> tuple[str | None, list[str], list[str]]:
    """The query text and dataset parameters, per SPARQL 1.1 Protocol §2.1."""
    args = request.args
    default_graphs = args.getlist("default-graph-uri")
    named_graphs = args.getlist("named-graph-uri")
    if request.method in ("GET", "HEAD"):
        if "update" in args:
            abort(
                _error(
                    403,
                    "SPARQL Update is not accepted on this public endpoint; the store is updated by `kg harvest`.",
                    "Forbidden",
                )
            )
        return args.get("query"), default_graphs, named_graphs
    ctype = (request.mimetype or "").lower()
    if ctype == "application/sparql-update" or (
        ctype == "application/x-www-form-urlencoded" and "update" in request.form
    ):
        abort(
            _error(
                403,
                "SPARQL Update is not accepted on this public endpoint; the store is updated by `kg harvest`.",
                "Forbidden",
            )
        )
    if ctype == "application/sparql-query":
        return request.get_data(as_text=True), default_graphs, named_graphs
    if ctype == "application/x-www-form-urlencoded":
        form = request.form
        return (
            form.get("query"),
            default_graphs + form.getlist("default-graph-uri"),
            named_graphs + form.getlist("named-graph-uri"),
        )
    abort(
        _error(
            415,
            f"unsupported Content-Type {ctype or '(none)'}: use application/sparql-query or application/x-www-form-urlencoded",
            "Unsupported Media Type",
        )
    )


@bp.route("/sparql", methods=["GET", "HEAD", "POST"])
def sparql():
    query, default_graphs, named_graphs = _read_request()
    store = current_app.config["KG_STORE"]
    if query is None or wants_query_page():
        return _page_or_description(store, query)
    if not query.strip():
        return _error(400, "empty query", "Bad Request")
    try:
        st = check_query(query)
    except ServiceRefused as e:
        return _error(403, str(e), "Forbidden")
    except QueryTooDeep as e:
        return _error(400, str(e), "Bad Request")
    try:
        default_graphs, named_graphs = dataset(st, default_graphs, named_graphs)
    except ValueError as e:
        return _error(400, str(e), "Bad Request")
    # SPARQLWrapper sends all three names, sometimes with a second value that is a list of media types
    words = [w for name in ("format", "output", "results") for v in request.values.getlist(name) for w in v.split(",")]
    unknown = unknown_words(words)
    if unknown:
        return _error(
            400,
            f"unknown result format {unknown[0]!r}; use json, xml, csv, tsv, turtle, ntriples, jsonld, rdfxml or a media type",
            "Bad Request",
        )
    workers = current_app.config.get("KG_QUERY_WORKERS")
    cap = current_app.config.get("KG_RESULT_CAP")
    accept = request.headers.get("Accept")
    if workers is not None:  # on-disk store: run in a worker process (time limit, memory cap, no network)
        from .workers import QueryBusy, QueryCrashed, QueryTimeout

        try:
            status, body, ctype, cut = workers.run(query, accept, words, default_graphs, named_graphs, cap)
        except QueryBusy as e:
            return _error(503, str(e), "Service Unavailable", e.retry_after)
        except QueryTimeout as e:
            return _error(503, str(e), "Service Unavailable", _retry_after_limit())
        except QueryCrashed as e:
            return _error(500, str(e), "Internal Server Error")
    else:
        try:
            result = store.query(
                query,
                default_graph=default_graphs,
                named_graphs=named_graphs,
                timeout=current_app.config.get("KG_QUERY_TIMEOUT"),
            )
        except SyntaxError as e:
            return _error(400, f"SPARQL syntax error: {e}", "Bad Request")
        except TimeoutError as e:  # a remote store's time limit
            return _error(503, str(e), "Service Unavailable", _retry_after_limit())
        except (ValueError, OSError, RuntimeError) as e:
            current_app.logger.warning("query evaluation failed: %s", e)
            return _error(500, "query evaluation failed: " + _safe_message(e), "Internal Server Error")
        try:
            status, body, ctype, cut = render(result, accept, words, cap)
        except (SyntaxError, ValueError, OSError, RuntimeError) as e:
            current_app.logger.warning("query evaluation failed: %s", e)
            return _error(500, "query evaluation failed: " + _safe_message(e), "Internal Server Error")
    if status != "200":
        return _error(
            int(status), body, {"400": "Bad Request", "406": "Not Acceptable"}.get(status, "Internal Server Error")
        )
    return _answer(body, ctype, cap, cut)


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
    resp = Response(body, content_type=ctype)
    resp.headers["Vary"] = "Accept"
    if cap:
        resp.headers["X-KG-Result-Cap"] = str(cap)
        if cut:
            resp.headers["X-KG-Result-Truncated"] = "true"
            resp.headers["Warning"] = f'199 - "result truncated to the first {cap} rows; add LIMIT/OFFSET to page"'
    return resp
