"""Cost of the /sparql guard: the SPARQL tokenizer (kg/sparql_text.py) against rdflib's SPARQL parser.

The guard decides on the query's structure before every query. This times `structure()` over the named
queries in queries/ and over one ~0.8 MB query (near the 1 MiB body limit), next to rdflib's
`prepareQuery` (parse + algebra, the alternative that walks the algebra for ServiceGraphPattern).
Prints milliseconds per query and the ratio.

    python benchmarks/bench_query_guard.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kg.sparql_text import structure


def per_query_ms(fn, queries: list[str], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        for q in queries:
            fn(q)
        times.append((time.perf_counter() - t) / len(queries))
    return statistics.median(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
    from rdflib.plugins.sparql import prepareQuery

    queries = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "queries").glob("*.rq"))]
    prepareQuery(queries[0])  # rdflib builds its grammar on first use
    tok = per_query_ms(structure, queries, args.rounds)
    rdf = per_query_ms(prepareQuery, queries, max(1, args.rounds // 5))
    print(
        f"{len(queries)} named queries: tokenizer {tok:.2f} ms/query, rdflib prepareQuery {rdf:.1f} ms/query ({rdf / tok:.0f}x)"
    )
    big = (
        "SELECT * WHERE { "
        + " ".join(f'?s <http://example.org/p{i}> "value {i} with # and \' inside" .' for i in range(12_000))
        + " }"
    )
    print(f"{len(big) / 1e6:.2f} MB query: tokenizer {per_query_ms(structure, [big], 3):.0f} ms")


if __name__ == "__main__":
    main()
