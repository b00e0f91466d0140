"""The application of a serving process started by a server that imports it (granian's workers).

`kg serve` puts its settings in the environment (`KG_SERVE_CONFIG`, JSON) and has built and persisted the
indexes before any worker starts, so each worker opens its own store handle (read-only on disk) and
loads them from the file instead of building.
"""

from __future__ import annotations

import json
import os

from ..indexes import IndexService
from ..store import is_remote, open_store
from .app import create_app

CONFIG_ENV = "KG_SERVE_CONFIG"


def make_app():
    """The WSGI app of one serving process, from `KG_SERVE_CONFIG` (set by `kg serve`)."""
    config = json.loads(os.environ[CONFIG_ENV])
    config.pop("server", None)
    location = config.pop("store")
    store = open_store(location, read_only=not is_remote(location))
    service = IndexService(store)
    service.warm()
    return create_app(store, index_service=service, **config)


def rsgi_app(app, threads: int = 8, read_timeout: float = 10.0):
    """`app` (Flask) behind the RSGI adapter: bodies read on the event loop, stored answers given there."""
    from .cache import ResponseCache
    from .rsgi import BufferedWSGI
    from .server import MAX_BODY
    from .sparql_lane import SparqlLane

    cache = app.wsgi_app if isinstance(app.wsgi_app, ResponseCache) else None
    return BufferedWSGI(
        app,
        threads=threads,
        read_timeout=read_timeout,
        max_body=MAX_BODY,
        cached=cache.lookup if cache is not None else None,
        lane=SparqlLane(app, threads) if app.config.get("KG_QUERY_WORKERS") is not None else None,
    )


def make_rsgi_app():
    """A granian worker process's RSGI app, from `KG_SERVE_CONFIG`."""
    server = json.loads(os.environ[CONFIG_ENV]).get("server", {})
    return rsgi_app(make_app(), threads=server.get("threads", 8), read_timeout=server.get("read_timeout", 10.0))
