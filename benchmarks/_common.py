"""Shared set-up of the benchmarks: an in-memory store holding every bundled source."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def harvested_store(links: bool = False):
    from kg import pipeline
    from kg.config import load_sources
    from kg.store import open_store
    from kg.store.ontologies import load_ontologies

    store = open_store(None)
    load_ontologies(store)
    for source in load_sources().values():
        pipeline.harvest_snapshot(store, source)
    if links:
        pipeline.rebuild_links(store)
    return store
