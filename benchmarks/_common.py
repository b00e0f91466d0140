"""Shared set-up of the benchmarks: an in-memory store holding every bundled source."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def harvested_store(links: bool = False):
    """Every source harvested by the pipeline's one sequence (links and grounding when `links`), no SHACL."""
    from kg.config import load_sources
    from kg.pipeline import HarvestOptions, run_harvest
    from kg.store import open_store

    store = open_store(None)
    run_harvest(store, load_sources(), HarvestOptions(derived=links, validate=False))
    return store
