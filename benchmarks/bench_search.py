"""Search latency over HTTP on the full bundled graph (crates + native sources).

Serves the app with waitress on 127.0.0.1 and runs typical portal queries (free text, facet filters with
hierarchy expansion, combinations, sorting, deep pages) N times each, printing p50 / p95 / p99.
Target: p50 <= 50 ms.

    python benchmarks/bench_search.py [--rounds 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import harvested_store  # noqa: E402

from kg.serve.app import create_app  # noqa: E402

FBBI = "http://purl.obolibrary.org/obo/FBbi_"
TAXON = "http://purl.obolibrary.org/obo/NCBITaxon_"
QUERIES = [
    ("free text", "/gide/search", {"q": "zebrafish"}),
    ("free text, 2 words", "/gide/search", {"q": "light sheet"}),
    ("all studies", "/gide/search", {}),
    ("fluorescence (expanded)", "/gide/search", {"imaging_method": FBBI + "00000246"}),
    ("Mus + fluorescence", "/gide/search", {"organism": TAXON + "10088", "imaging_method": FBBI + "00000246"}),
    ("text + repository + licence", "/gide/search", {"q": "cell", "publisher": "BioImage-Archive", "license": "CC0"}),
    ("sorted by size, page 10", "/gide/search", {"sort": "size", "offset": 180}),
    ("HTML page with facet trees", "/search", {"imaging_method": FBBI + "00000246"}),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=30)
    args = ap.parse_args()
    store = harvested_store(links=True)
    app = create_app(store)
    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    base = f"http://127.0.0.1:{server.effective_port}"
    session = requests.Session()
    t = time.perf_counter()
    session.get(base + "/gide/search", params={"size": 1}, timeout=120).raise_for_status()
    print(f"index build on first request: {time.perf_counter() - t:.2f} s")
    all_ms = []
    for name, path, params in QUERIES:
        ms = []
        for _ in range(args.rounds):
            t = time.perf_counter()
            r = session.get(base + path, params=params, timeout=60)
            r.raise_for_status()
            ms.append((time.perf_counter() - t) * 1000)
        ms.sort()
        all_ms += ms
        print(
            f"  {name:<30} p50 {statistics.median(ms):7.1f} ms   p99 {ms[min(len(ms) - 1, int(0.99 * len(ms)))]:7.1f} ms"
        )
    all_ms.sort()
    print(
        f"all {len(all_ms)} requests: p50 {statistics.median(all_ms):.1f} ms, p95 {all_ms[int(0.95 * len(all_ms))]:.1f} ms, "
        f"p99 {all_ms[int(0.99 * len(all_ms))]:.1f} ms   (target p50 <= 50 ms)"
    )
    session.close()
    server.task_dispatcher.shutdown()  # let the worker threads finish before the sockets close
    server.close()


if __name__ == "__main__":
    main()
