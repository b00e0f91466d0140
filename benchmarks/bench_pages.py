"""Study page cost against one SPARQL lookup, in process (Flask test client, no network).

Issue #16 target: study page p50 <= 3x the p50 of one small SPARQL lookup. A study page's data comes
from the queries in queries/internal/study/*.rq and is cached per harvest generation, so the first
visit of a study (cold) pays the queries and every later visit (warm) only renders. Prints p50s,
ratios and how many store queries one cold page runs.

    python benchmarks/bench_pages.py [--studies 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import harvested_store

from kg.indexes import IndexService
from kg.serve.app import create_app


class CountingStore:
    """The store, counting the queries a page runs (a pass-through, for this measurement only)."""

    def __init__(self, store):
        self._store, self.queries = store, 0

    def query(self, *a, **kw):
        self.queries += 1
        return self._store.query(*a, **kw)

    def __getattr__(self, name):
        return getattr(self._store, name)


def p50(xs: list[float]) -> float:
    return statistics.median(xs) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--studies", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    from kg.pipeline import rebuild_grounding
    from kg.store.ontologies import rebuild_closure

    store = harvested_store(links=True)
    rebuild_closure(store)
    rebuild_grounding(store)
    counting = CountingStore(store)
    client = create_app(counting).test_client()
    hits = [
        h
        for offset in range(0, args.studies, 100)
        for h in client.get(f"/search?format=json&size=100&offset={offset}&sort=title").get_json()["hits"]
    ][: args.studies]
    pages = [h["entry"]["study_page"].replace("http://localhost", "") for h in hits]
    iris = [h["id"] for h in hits]

    def lookup(client, iri: str) -> tuple[float, float]:
        q = quote(f"SELECT ?p ?o WHERE {{ <{iri}> ?p ?o }} LIMIT 20")
        t, c = time.perf_counter(), time.process_time()
        r = client.get(f"/sparql?query={q}", headers={"Accept": "application/sparql-results+json"})
        took = time.perf_counter() - t, time.process_time() - c
        assert r.status_code == 200
        return took

    print(
        f"{len(pages)} studies, each visited once cold, then {args.rounds} warm rounds; a lookup of the study's "
        "IRI before each visit, so both are measured under the same load (CPU: this process's CPU time)"
    )
    # before: each first visit runs the page's queries; after: every study's summary is computed with
    # the indexes (as `kg harvest` / `kg serve` do for an on-disk store) and a first visit reads it
    for label, summaries in (("per-study queries (before)", False), ("summaries with the indexes (after)", True)):
        if summaries:  # a store object of its own: the indexes built above (without summaries) are not reused
            counting = CountingStore(store)
        service = IndexService(counting, summaries=summaries)
        t = time.perf_counter()
        service.warm()
        how = "built" if service.builds else "reused from the first app"
        print(f"{label}: indexes {how} in {time.perf_counter() - t:.1f} s")
        client = create_app(counting, index_service=service).test_client()
        lookup(client, iris[0])
        lookups, lookups_cpu, cold, cold_cpu, warm, per_page = [], [], [], [], [], []
        for page, iri in zip(pages, iris, strict=True):
            wall, cpu = lookup(client, iri)
            lookups.append(wall)
            lookups_cpu.append(cpu)
            before = counting.queries
            t, c = time.perf_counter(), time.process_time()
            r = client.get(page, headers={"Accept": "text/html"})
            cold.append(time.perf_counter() - t)
            cold_cpu.append(time.process_time() - c)
            per_page.append(counting.queries - before)
            assert r.status_code == 200, page
        for _ in range(args.rounds):
            for page in pages:
                t = time.perf_counter()
                client.get(page, headers={"Accept": "text/html"})
                warm.append(time.perf_counter() - t)
        lookup_wall, lookup_cpu = p50(lookups), p50(lookups_cpu)
        print(f"  one SPARQL lookup (/sparql, 20 rows)  p50 {lookup_wall:7.2f} ms, CPU {lookup_cpu:6.2f} ms")
        print(
            f"  study page, first visit (cold)        p50 {p50(cold):7.2f} ms  = {p50(cold) / lookup_wall:5.2f}x lookup "
            f"(target <= 3x); store queries per page: median {statistics.median(per_page):.0f}"
        )
        print(
            f"  study page, first visit, CPU          p50 {p50(cold_cpu):7.2f} ms  = {p50(cold_cpu) / lookup_cpu:5.2f}x a lookup's CPU"
        )
        print(
            f"  study page, later visits (warm)       p50 {p50(warm):7.2f} ms  = {p50(warm) / lookup_wall:5.2f}x lookup"
        )


if __name__ == "__main__":
    main()
