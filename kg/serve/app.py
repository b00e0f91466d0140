"""Flask application factory: wires the store into the SPARQL, browse and study blueprints."""

from __future__ import annotations

import time
from pathlib import Path

from flask import Flask, current_app, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, ServiceUnavailable

from ..config import load_sources
from ..indexes import FOLDER as INDEX_FOLDER
from ..indexes import Indexes, IndexesNotReady, IndexService
from .negotiation import errors_as_json, json_twin_requested  # noqa: F401  (json_twin_requested: re-exported)
from .templating import dict_attributes_first, memoise_url_for

REQUEST_TIMEOUT = 30.0  # seconds, default of `kg serve --request-timeout`


def remaining() -> float:
    """Seconds left of this request's deadline (`request_timeout` from its start); 0 when it has passed."""
    deadline = g.get("kg_deadline")
    return max(0.0, deadline - time.monotonic()) if deadline is not None else REQUEST_TIMEOUT


def indexes() -> Indexes:
    """The app's term and study indexes (kg/indexes.py). Only before the first build has finished does
    a request wait for it: within its deadline, or `KG_FIRST_BUILD_WAIT` s in an app that was not warmed
    before serving (tests, embedding; `kg serve` warms first, so it never waits); then 503 + Retry-After."""
    try:
        return current_app.extensions["kg_indexes"].current(
            wait=max(remaining(), current_app.config["KG_FIRST_BUILD_WAIT"])
        )
    except IndexesNotReady as e:
        raise ServiceUnavailable(str(e), retry_after=5) from None


def _keep_compiled_templates(app: Flask, store) -> None:
    """Compiled templates kept beside the persisted indexes (`<store>/kg-indexes/templates`, trusted like
    them): after a restart the first pages do not compile their templates again (about 0.1 s of CPU for
    /search; benchmarks/bench_restart.py). Jinja checks each file against its template's source."""
    if store.local_path is None:
        return
    from jinja2 import FileSystemBytecodeCache

    class Cache(FileSystemBytecodeCache):
        def dump_bytecode(self, bucket) -> None:
            try:
                super().dump_bytecode(bucket)
            except OSError:  # a read-only store folder: compile again next time
                pass

    folder = Path(store.local_path) / INDEX_FOLDER / "templates"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return
    app.jinja_env.bytecode_cache = Cache(str(folder))


COMMON_HEADERS = (("Access-Control-Allow-Origin", "*"), ("X-Content-Type-Options", "nosniff"))


class CommonHeaders:
    """WSGI middleware: every answer carries COMMON_HEADERS unless it set its own (CORS for browser
    clients of the API and /sparql; no MIME sniffing). Outside Flask, so the /sparql fast path and
    Flask's answers get them alike."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        def start(status, headers, exc_info=None):
            names = {name.lower() for name, _ in headers}
            extra = [(k, v) for k, v in COMMON_HEADERS if k.lower() not in names]
            return start_response(status, headers + extra if extra else headers, exc_info)

        return self.wsgi_app(environ, start)


def create_app(
    store,
    sources: dict | None = None,
    dumps_dir=None,
    query_timeout: float | None = None,
    query_workers: int = 2,
    result_cap: int | None = 100_000,
    request_timeout: float | None = None,
    index_service: IndexService | None = None,
    cache_bytes: int = 0,
) -> Flask:
    """The app over a store. With an on-disk store, /sparql queries run in `query_workers` worker
    processes (serve/workers.py): stopped at `query_timeout` (none if 0/None), memory capped by
    KG_QUERY_MEMORY_MB (default 2048, 0 for none), without network unless KG_SERVICE_ALLOW names
    endpoints, at most KG_QUERY_QUEUE (default: as many as workers) waiting. A remote store asks its server
    to stop queries at the limit. /sparql results are cut to `result_cap` solutions or triples.
    The app owns its indexes (`app.extensions["kg_indexes"]`; `kg serve` warms them before it listens).
    Every request gets a deadline of `request_timeout` s (see `remaining()`). `cache_bytes` > 0 keeps
    answers per harvest generation (serve/cache.py)."""
    app = Flask(__name__)
    _keep_compiled_templates(app, store)
    dict_attributes_first(app.jinja_env)
    memoise_url_for(app)
    app.extensions["kg_indexes"] = index_service or IndexService(store)
    app.config["KG_REQUEST_TIMEOUT"] = request_timeout or REQUEST_TIMEOUT
    app.config["KG_FIRST_BUILD_WAIT"] = 600.0  # seconds; only matters when the app was not warmed
    app.config["KG_STORE"] = store
    app.config["KG_DUMPS"] = dumps_dir
    app.config["KG_QUERY_TIMEOUT"] = query_timeout or None  # a remote store passes it to its server
    app.config["KG_RESULT_CAP"] = result_cap or None
    if query_workers and store.local_path is not None:
        import os

        from .guard import allowed_services
        from .workers import DEFAULT_MEMORY_MB, QueryWorkers

        queue = os.environ.get("KG_QUERY_QUEUE")
        app.config["KG_QUERY_WORKERS"] = QueryWorkers(
            store.local_path,
            size=query_workers,
            timeout=query_timeout,
            memory_mb=int(os.environ.get("KG_QUERY_MEMORY_MB", DEFAULT_MEMORY_MB)),
            queue_length=int(queue) if queue else None,
            no_network=not allowed_services(),
        )
    if sources is None:  # configured sources, and those derived from the publishers of unconfigured crates
        from ..new_sources import derived_sources

        sources = {**derived_sources(store), **load_sources()}
    app.config["KG_SOURCES"] = sources
    app.config["JSON_SORT_KEYS"] = False
    app.config["MAX_CONTENT_LENGTH"] = 1 << 20  # SPARQL bodies larger than 1 MiB are refused with 413

    from .browse import bp as browse_bp
    from .exchange import bp as exchange_bp
    from .gide import bp as gide_bp
    from .ols import bp as ols_bp
    from .ols import ols_error
    from .ols_v2 import bp as ols_v2_bp
    from .openapi import bp as openapi_bp
    from .portal import bp as portal_bp
    from .provenance import bp as provenance_bp
    from .quality import bp as quality_bp
    from .sparql import bp as sparql_bp

    app.register_blueprint(sparql_bp)
    app.register_blueprint(browse_bp)
    app.register_blueprint(ols_bp)
    app.register_blueprint(ols_v2_bp)
    app.register_blueprint(portal_bp)
    app.register_blueprint(gide_bp)
    app.register_blueprint(exchange_bp)
    app.register_blueprint(provenance_bp)
    app.register_blueprint(quality_bp)
    app.register_blueprint(openapi_bp)

    @app.before_request
    def deadline():
        g.kg_deadline = time.monotonic() + current_app.config["KG_REQUEST_TIMEOUT"]

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        if request.path == "/api" or request.path.startswith("/api/"):
            resp = ols_error(e.code or 500, e.description or e.name, e.name)
        elif request.path.startswith("/gide/"):  # FastAPI's error shape, as gide-search answers
            resp = jsonify(detail=e.description or e.name)
        elif request.path.startswith("/sparql") or errors_as_json():
            resp = jsonify(error=e.name, status=e.code, message=e.description)
        else:
            resp = current_app.make_response(
                render_template("error.html", code=e.code, name=e.name, message=e.description)
            )
        resp.status_code = e.code or 500
        if getattr(e, "retry_after", None) is not None:  # 503s say when to come back
            resp.headers["Retry-After"] = str(e.retry_after)
        return resp

    @app.errorhandler(Exception)
    def internal_error(e: Exception):
        app.logger.exception("unhandled error")
        msg = "The server could not complete the request; the error has been logged."
        if request.path == "/api" or request.path.startswith("/api/"):
            return ols_error(500, msg, "Internal Server Error")
        if request.path.startswith("/gide/"):
            return jsonify(detail=msg), 500
        if request.path.startswith("/sparql") or errors_as_json():
            return jsonify(error="Internal Server Error", status=500, message=msg), 500
        return render_template("error.html", code=500, name="Internal Server Error", message=msg), 500

    from .sparql_fast import SparqlFastPath

    # GET /sparql results without the request context; every answer gets the common headers
    app.wsgi_app = CommonHeaders(SparqlFastPath(app.wsgi_app, app))
    if cache_bytes > 0:
        from .cache import ResponseCache

        app.wsgi_app = ResponseCache(
            app.wsgi_app, app.extensions["kg_indexes"], max_bytes=cache_bytes, config=app.config
        )
    return app
