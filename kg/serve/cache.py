"""A response cache keyed by harvest generation, as QLever keeps a query-result cache.

Between two harvests the graph does not change, so a page, a search answer or a SPARQL result asked for
again is the same bytes: the cache keeps complete 200 answers of GET requests under (generation, path,
query string, Accept, Host) and serves them again without running the app. A new harvest changes the
generation (kg/indexes.py), so older entries are never served again and age out of the LRU. Only the
read-only routes listed in `CACHEABLE` are cached (not /health, /downloads, /provenance, /quality,
whose answers report on more than the graph), SPARQL queries calling RAND / NOW / UUID / STRUUID / BNODE
are not (the endpoint finds the calls among the query's tokens and marks the request, `NOT_CACHEABLE`),
and neither are answers over `max_item` bytes. `kg serve` turns it on (`--cache-mb`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from ..indexes import IndexesNotReady

CACHEABLE = ("/sparql", "/search", "/gide/", "/study/", "/api/", "/stats", "/resource")
KEY = "kg.cache_key"  # environ entry: the key `lookup` computed (None: not cacheable)
NOT_CACHEABLE = "kg.not_cacheable"  # environ entry set by a route whose answer must not be stored


class ResponseCache:
    """WSGI middleware around the Flask app's `wsgi_app` (see the module docstring)."""

    def __init__(self, wsgi_app, indexes, max_bytes: int = 64 << 20, max_item: int = 1 << 20, config=None):
        self.wsgi_app = wsgi_app
        self.config = config if config is not None else {}  # the app's config: `kg up`'s follow-up sits there
        self.indexes = indexes
        self.max_bytes = max_bytes
        self.max_item = max_item
        self.size = 0
        self.hits = 0
        self._entries: OrderedDict[tuple, tuple[str, list, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def _key(self, environ) -> tuple | None:
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") != "GET" or not (path == "/" or path.startswith(CACHEABLE)):
            return None
        query = environ.get("QUERY_STRING", "")
        try:
            generation = self.indexes.current(wait=0).generation
        except IndexesNotReady:
            return None
        background = self.config.get("KG_BACKGROUND")  # validation writes its graph without a new harvest run
        if background is not None:
            generation = (generation, background.epoch)
        return (
            generation,
            path,
            query,
            environ.get("HTTP_ACCEPT", ""),
            environ.get("HTTP_HOST", ""),
            environ.get("wsgi.url_scheme", ""),
        )

    def lookup(self, environ, key: tuple | None = None) -> tuple[str, list, bytes] | None:
        """The stored answer (status, headers, body) to this request, if any; it never blocks, so a
        server may call it on its event loop (kg/serve/rsgi.py) before handing the request to a thread.
        A miss leaves the key in the environ for `__call__` (parsing it is a tenth of a lookup's cost)."""
        if key is None:
            key = environ[KEY] = self._key(environ)
        if key is None:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            self.hits += 1
        status, headers, body = entry
        return status, [*headers, ("X-KG-Cache", "hit")], body

    def __call__(self, environ, start_response):
        key = environ.pop(KEY) if KEY in environ else self._key(environ)
        if key is None:
            return self.wsgi_app(environ, start_response)
        entry = self.lookup(environ, key)
        if entry is not None:
            start_response(entry[0], entry[1])
            return [entry[2]]
        captured: list = []

        def capture(status, headers, exc_info=None):
            captured[:] = [status, headers]
            return lambda data: None  # the app does not use write(); every route returns its body

        result = self.wsgi_app(environ, capture)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        status, headers = captured
        if environ.get(NOT_CACHEABLE):  # as a request the cache does not take at all: no X-KG-Cache
            start_response(status, headers)
            return [body]
        if (
            status.startswith("200")
            and len(body) <= self.max_item
            and not any(h.lower() == "set-cookie" for h, _ in headers)
        ):
            self._put(key, (status, headers, body))
        start_response(status, [*headers, ("X-KG-Cache", "miss")])
        return [body]

    def _put(self, key: tuple, entry: tuple[str, list, bytes]) -> None:
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = entry
            self.size += len(entry[2])
            while self.size > self.max_bytes and self._entries:
                _, old = self._entries.popitem(last=False)
                self.size -= len(old[2])
