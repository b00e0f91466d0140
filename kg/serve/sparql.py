"""SPARQL 1.1 Protocol endpoint at /sparql (query only; updates are refused here).

GET ?query=…, POST form `query=`, POST `application/sparql-query`; `default-graph-uri` / `named-graph-uri`;
default graph = union of all public graphs. Results negotiated by Accept or `format=`. A browser asking
for HTML without a query gets the query page, preloaded with the named queries from queries/.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request

from ..config import QUERIES
from ..namespaces import PREFIXES
from .guard import ServiceRefused, check_services
from .queries import named_queries
from .sparql_results import render

bp = Blueprint("sparql", __name__)

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


def _error(status: int, message: str, error: str) -> Response:
    resp = jsonify(error=error, status=status, message=message)
    resp.status_code = status
    return resp


def _read_request() -> tuple[str | None, list[str], list[str]]:
    """The query text and dataset parameters, per SPARQL 1.1 Protocol §2.1."""
    args = request.args
    default_graphs = args.getlist("default-graph-uri")
    named_graphs = args.getlist("named-graph-uri")
    if request.method == "GET":
        if "update" in args:
            abort(_error(403, "SPARQL Update is not accepted on this public endpoint; the store is updated by `kg harvest`.", "Forbidden"))
        return args.get("query"), default_graphs, named_graphs
    ctype = (request.mimetype or "").lower()
    if ctype == "application/sparql-update" or (ctype == "application/x-www-form-urlencoded" and "update" in request.form):
        abort(_error(403, "SPARQL Update is not accepted on this public endpoint; the store is updated by `kg harvest`.", "Forbidden"))
    if ctype == "application/sparql-query":
        return request.get_data(as_text=True), default_graphs, named_graphs
    if ctype == "application/x-www-form-urlencoded":
        form = request.form
        return form.get("query"), default_graphs + form.getlist("default-graph-uri"), named_graphs + form.getlist("named-graph-uri")
    abort(_error(415, f"unsupported Content-Type {ctype or '(none)'}: use application/sparql-query or application/x-www-form-urlencoded", "Unsupported Media Type"))


@bp.route("/sparql", methods=["GET", "POST"])
def sparql():
    query, default_graphs, named_graphs = _read_request()
    store = current_app.config["KG_STORE"]
    if query is None:
        best = request.accept_mimetypes.best_match(["text/html", "text/turtle"])
        if best == "text/html" and "text/html" in request.headers.get("Accept", ""):
            return render_template(
                "sparql.html",
                queries=named_queries(QUERIES),
                prefixes=PREFIXES,
                initial=request.args.get("example", ""),
            )
        graphs = "".join(f"    sd:namedGraph [ sd:name <{g.value}> ] ;\n" for g in store.public_graphs())
        body = SERVICE_DESCRIPTION.format(endpoint=request.base_url, graphs=graphs)
        return Response(body, mimetype="text/turtle")
    if not query.strip():
        return _error(400, "empty query", "Bad Request")
    try:
        check_services(query)
    except ServiceRefused as e:
        return _error(403, str(e), "Forbidden")
    workers = current_app.config.get("KG_QUERY_WORKERS")
    cap = current_app.config.get("KG_RESULT_CAP")
    accept, fmt = request.headers.get("Accept"), request.args.get("format") or request.form.get("format")
    if workers is not None:  # on-disk store: run in a worker process under the time limit
        from .workers import QueryTimeout

        try:
            status, body, ctype, cut = workers.run(query, accept, fmt, default_graphs, named_graphs, cap)
        except QueryTimeout as e:
            return _error(503, str(e), "Service Unavailable")
    else:
        try:
            result = store.query(query, default_graph=default_graphs or None, named_graphs=named_graphs or None,
                                 timeout=current_app.config.get("KG_QUERY_TIMEOUT"))
        except SyntaxError as e:
            return _error(400, f"SPARQL syntax error: {e}", "Bad Request")
        except TimeoutError as e:  # a remote store's time limit
            return _error(503, str(e), "Service Unavailable")
        except ValueError as e:
            return _error(400, str(e), "Bad Request")
        except OSError as e:
            return _error(500, f"query evaluation failed: {e}", "Internal Server Error")
        try:
            status, body, ctype, cut = render(result, accept, fmt, cap)
        except (SyntaxError, ValueError, OSError) as e:
            return _error(500, f"query evaluation failed: {e}", "Internal Server Error")
    if status != "200":
        return _error(int(status), body, {"400": "Bad Request", "406": "Not Acceptable"}.get(status, "Internal Server Error"))
    return _answer(body, ctype, cap, cut)


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
