"""Page data computed once per harvest generation: study summaries, /quality, VoID.

A harvest writes a new kg:HarvestRun to the provenance graph: the generation (kg/indexes.py) changes. Values are
kept per (generation, key) in a small LRU held by the app, so a re-harvest is picked up on the next
request and nothing stale is served.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import current_app, g

T = TypeVar("T")


def current_generation() -> str:
    """The harvest generation (asked once per request)."""
    if "kg_generation" not in g:
        from ..indexes import harvest_generation

        g.kg_generation = harvest_generation(current_app.config["KG_STORE"])
        background = current_app.config.get("KG_BACKGROUND")  # `kg up`'s follow-up writes the validation graph
        if background is not None:
            g.kg_generation += f"+{background.epoch}"
    return g.kg_generation


class GenerationCache:
    """A bounded LRU of values keyed by (generation, key)."""

    def __init__(self, maxsize: int = 2048):
        self.maxsize = maxsize
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, generation: str, key: Hashable, build: Callable[[], T]) -> T:
        k = (generation, key)
        with self._lock:
            if k in self._data:
                self._data.move_to_end(k)
                return self._data[k]
        value = build()  # built outside the lock: two first requests may both build, neither waits
        with self._lock:
            self._data[k] = value
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)
        return value


def cached(name: str, key: Hashable, build: Callable[[], T]) -> T:
    """`build()` once per harvest generation for (name, key), in the current app."""
    caches = current_app.config.setdefault("KG_PAGE_CACHES", {})
    cache = caches.get(name)
    if cache is None:
        cache = caches.setdefault(name, GenerationCache())
    return cache.get(current_generation(), key, build)
