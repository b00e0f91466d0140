"""SHACL validation of every source graph with both engines: pyshacl and pyrudof (rudof, Rust).

Validates each source graph of a harvested store with each engine, prints the seconds per source, the
ratio, and whether the two engines' findings are the same set (focus, path, severity, message, shape,
value; blank nodes compared as blank). Target: rudof >= 3x faster with the same findings.

    python benchmarks/bench_shacl.py [--store PATH]   # default: the bundled snapshot harvested in memory
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import harvested_store

from kg.config import load_sources
from kg.namespaces import GRAPH
from kg.validate.shacl import (
    comparable,
    shapes_graph,
    validate_source,
    validate_sources,
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--store", help="an on-disk store to validate (opened read-only); default: harvest the bundled data in memory"
    )
    args = ap.parse_args()
    if args.store:
        from kg.store import open_store

        store = open_store(args.store, read_only=True)
    else:
        store = harvested_store()
    shapes = shapes_graph()
    totals = {"pyshacl": 0.0, "rudof": 0.0}
    print(f"{'source':<18}{'pyshacl s':>10}{'rudof s':>10}{'ratio':>8}{'findings':>10}  same")
    for name in load_sources():
        graph = GRAPH + name
        if not store.has_graph(graph):
            continue
        seconds, found = {}, {}
        for engine in ("pyshacl", "rudof"):
            t = time.perf_counter()
            _, found[engine] = validate_source(store, graph, shapes, engine=engine)
            seconds[engine] = time.perf_counter() - t
            totals[engine] += seconds[engine]
        same = comparable(found["pyshacl"]) == comparable(found["rudof"])
        print(
            f"{name:<18}{seconds['pyshacl']:>10.2f}{seconds['rudof']:>10.2f}{seconds['pyshacl'] / seconds['rudof']:>7.1f}x"
            f"{len(found['pyshacl']):>10}  {'yes' if same else 'NO (' + str(len(found['rudof'])) + ')'}"
        )
    print(
        f"{'all sources':<18}{totals['pyshacl']:>10.2f}{totals['rudof']:>10.2f}{totals['pyshacl'] / totals['rudof']:>7.1f}x"
    )
    graphs = {name: GRAPH + name for name in load_sources() if store.has_graph(GRAPH + name)}
    t = time.perf_counter()
    validate_sources(store, graphs, shapes, "rudof")
    parallel = time.perf_counter() - t
    print(
        f"{'all, as harvest':<18}{totals['pyshacl']:>10.2f}{parallel:>10.2f}{totals['pyshacl'] / parallel:>7.1f}x"
        "  (rudof: sources in parallel processes, one per core, as `kg harvest` runs it)"
    )


if __name__ == "__main__":
    main()
