"""The SPARQL query page, and when a GET of /sparql is a browser asking for it.

A shared link `/sparql?query=…` must open the page with the query in the editor and its results, while API
clients (SPARQL results or RDF in Accept, no Accept, `*/*`, or a `format=` / `output=` / `results=` parameter as
SPARQLWrapper sends) keep getting results. So the page is chosen only when Accept names HTML explicitly with a
higher q than every result and graph type it names.
"""

from __future__ import annotations

from flask import Request, Response, make_response, render_template

from ..config import QUERIES
from ..namespaces import PREFIXES
from .queries import named_queries
from .sparql_results import (
    GRAPH_ALIASES,
    GRAPH_TYPES,
    RESULT_ALIASES,
    RESULT_TYPES,
    parse_accept,
)

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
DATA_TYPES = frozenset(RESULT_TYPES) | frozenset(RESULT_ALIASES) | frozenset(GRAPH_TYPES) | frozenset(GRAPH_ALIASES)
FORMAT_PARAMS = ("format", "output", "results")


def wants_page(req: Request) -> bool:
    """A browser's GET: HTML preferred over every result type in Accept, no format parameter (and no update,
    which the endpoint refuses with 403 whoever asks)."""
    if req.method != "GET" or "update" in req.args or any(p in req.args for p in FORMAT_PARAMS):
        return False
    html_q = data_q = 0.0
    for media, q in parse_accept(req.headers.get("Accept")):
        if media in HTML_TYPES:
            html_q = max(html_q, q)
        elif media in DATA_TYPES:
            data_q = max(data_q, q)
    return html_q > data_q


def query_page(req: Request) -> Response:
    """The page, with `?query=` (run on load) or the named query `?example=` in the editor."""
    query = req.args.get("query")
    resp = make_response(render_template(
        "sparql.html",
        queries=named_queries(QUERIES),
        prefixes=PREFIXES,
        initial=req.args.get("example", "") if query is None else "",
        query=query,
    ))
    resp.headers["Vary"] = "Accept"  # the same URL answers results to API clients
    return resp
