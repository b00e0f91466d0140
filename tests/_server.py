"""A real HTTP server (werkzeug, 127.0.0.1, free port) running the Flask app in a thread."""

from __future__ import annotations

import threading
from contextlib import contextmanager

from werkzeug.serving import make_server

from kg.serve.app import create_app


@contextmanager
def running_app(store, sources=None, **app_args):
    app = create_app(store, sources, **app_args)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
