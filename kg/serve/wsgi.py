"""The WSGI application of a serving process started by a server that imports it (granian's workers).

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
    """The app of one serving process, from `KG_SERVE_CONFIG` (set by `kg serve`)."""
    config = json.loads(os.environ[CONFIG_ENV])
    location = config.pop("store")
    store = open_store(location, read_only=not is_remote(location))
    service = IndexService(store)
    service.warm()
    return create_app(store, index_service=service, **config)
