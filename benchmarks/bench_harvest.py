"""Full bundled harvest to a served graph, against two baselines run in the same process.

  ours      fresh on-disk pyoxigraph store: ontologies + the four repositories' crates (parse, map,
            check, load), then the Flask app answers its first SPARQL query (the graph is served);
            afterwards, timed apart: each native source (IDR study files) and the links rebuild
  rdflib    the naive route: rdflib parses every crate (RO-Crate context inlined from the bundled copy,
            so no network) into one Graph
  bulk      raw pyoxigraph bulk_load of exactly the quads our harvest produced (N-Quads file)

Prints times (median of --repeat runs) and the ratios the issue sets targets for:
end to end <= 5 s, >= 4x faster than rdflib, load stage <= 2x raw bulk load.

    python benchmarks/bench_harvest.py [--repeat 3] [--skip-rdflib]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox

logging.getLogger("rdflib").setLevel(logging.CRITICAL)  # rdflib logs every year-only xsd:date it cannot convert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kg import pipeline  # noqa: E402
from kg.config import load_sources  # noqa: E402
from kg.jsonld_contexts import load_context  # noqa: E402
from kg.serve.app import create_app  # noqa: E402
from kg.store import open_store  # noqa: E402


def run_ours(workdir: Path, dump_to: Path | None = None) -> dict:
    """The pipeline's own sequence: the load phase for the crates (timed to the first answered query), then
    the native sources with links, closure and grounding, then the follow-up phase (SHACL of every source)."""
    path = workdir / f"store-{time.perf_counter_ns()}"
    sources = load_sources()
    crates = {n: s for n, s in sources.items() if s.kind == "rocrate"}
    t0 = time.perf_counter()
    store = open_store(path)
    first = pipeline.load_phase(store, crates, pipeline.HarvestOptions(derived=False))
    t_served = time.perf_counter()
    client = create_app(store).test_client()
    r = client.get(
        "/sparql",
        query_string={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s a <http://schema.org/Dataset> }"},
        headers={"Accept": "application/sparql-results+json"},
    )
    n = int(r.get_json()["results"]["bindings"][0]["n"]["value"])
    total = time.perf_counter() - t0
    serve_first_query = time.perf_counter() - t_served
    assert n == 1225, n
    quads = len(store.store)
    if dump_to is not None:  # exactly what the crate harvest produced, for the raw bulk-load baseline
        with open(dump_to, "wb") as f:
            store.store.dump(f, format=ox.RdfFormat.N_QUADS)
    options = pipeline.HarvestOptions(sources=[n for n in sources if n not in crates])
    rest = pipeline.follow_up(store, sources, pipeline.load_phase(store, sources, options), options)
    reports = first.reports
    return {
        "validate": rest.seconds["validation"],
        "validate_per_source": rest.validation["seconds"],
        "per_source": {x.source: x.seconds for x in reports},
        "native": {x.source: (x.seconds, x.studies) for x in rest.reports},
        "links": rest.seconds["links"],
        "total": total,
        "map": sum(x.timings["map"] for x in reports),
        "load": sum(x.timings["load"] for x in reports),
        "ontologies": first.seconds["ontologies"],
        "serve_first_query": serve_first_query,
        "studies": sum(x.studies for x in reports),
        "quads": quads,
        "store": store,
    }


def run_rdflib() -> dict:
    import rdflib

    ctx = load_context("https://w3id.org/ro/crate/1.2/context")["@context"]
    files = sorted((ROOT / "data" / "crates").glob("*/*ro-crate-metadata.json"))
    t0 = time.perf_counter()
    g = rdflib.Graph()
    for f in files:
        doc = json.loads(f.read_bytes())
        doc["@context"] = [ctx if c == "https://w3id.org/ro/crate/1.2/context" else c for c in doc["@context"]]
        root = next(
            n["about"]["@id"] for n in doc["@graph"] if str(n.get("@id", "")).endswith("ro-crate-metadata.json")
        )
        g.parse(data=json.dumps(doc), format="json-ld", base=root)
    return {"total": time.perf_counter() - t0, "triples": len(g)}


def run_parse(prune: bool) -> dict:
    """JSON-LD parsing alone: our pruned context vs the whole RO-Crate context inlined in every crate."""
    from kg.jsonld_contexts import context_terms
    from kg.mapping.rocrate import parse_crate

    files = sorted((ROOT / "data" / "crates").glob("*/*ro-crate-metadata.json"))
    contents = [f.read_bytes() for f in files]
    rc = context_terms("https://w3id.org/ro/crate/1.2/context")
    t0 = time.perf_counter()
    n = 0
    for content in contents:
        if prune:
            n += len(parse_crate(content).quads)
            continue
        doc = json.loads(content)
        ctx: dict = {}
        for c in doc["@context"]:
            ctx.update(rc if isinstance(c, str) else c)
        doc["@context"] = ctx
        root = next(
            x["about"]["@id"] for x in doc["@graph"] if str(x.get("@id", "")).endswith("ro-crate-metadata.json")
        )
        n += len(list(ox.parse(json.dumps(doc), format=ox.RdfFormat.JSON_LD, base_iri=root)))
    return {"total": time.perf_counter() - t0, "quads": n}


def run_bulk(workdir: Path, nquads: Path) -> dict:
    path = workdir / f"bulk-{time.perf_counter_ns()}"
    t0 = time.perf_counter()
    s = ox.Store(str(path))
    s.bulk_load(path=str(nquads), format=ox.RdfFormat.N_QUADS)
    return {"total": time.perf_counter() - t0, "quads": len(s)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs of each route; medians are printed (default 3)")
    ap.add_argument("--skip-rdflib", action="store_true", help="skip the slow rdflib route")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        ours, rdfl, bulk, pruned, full = [], [], [], [], []
        nquads = work / "produced.nq"
        for i in range(args.repeat):
            o = run_ours(work, nquads if i == 0 else None)
            del o["store"]
            ours.append(o)
            bulk.append(run_bulk(work, nquads))
            pruned.append(run_parse(True))
            full.append(run_parse(False))
            if not args.skip_rdflib:
                rdfl.append(run_rdflib())
        med = lambda rows, k: statistics.median(r[k] for r in rows)  # noqa: E731
        print(
            f"bundled data: {ours[0]['studies']} studies, {ours[0]['quads']} quads in the store; {args.repeat} runs, medians"
        )
        print(f"  ours, end to end (harvest → served, first query answered): {med(ours, 'total'):7.2f} s")
        print(f"      map stage (parse, rules, checks)                      : {med(ours, 'map'):7.2f} s")
        print(f"      load stage (store writes, atomic swap)                : {med(ours, 'load'):7.2f} s")
        print(f"      ontologies                                            : {med(ours, 'ontologies'):7.2f} s")
        for name in ours[0]["per_source"]:
            print(
                f"      crate harvest {name:<16}                        : {statistics.median(o['per_source'][name] for o in ours):7.2f} s"
            )
        for name, (_, n) in ours[0]["native"].items():
            print(
                f"  native harvest {name:<16} ({n} studies)            : {statistics.median(o['native'][name][0] for o in ours):7.2f} s"
            )
        print(f"  cross-repository links rebuild                            : {med(ours, 'links'):7.2f} s")
        print(
            f"  SHACL validation of every source graph (first load)       : {med(ours, 'validate'):7.2f} s  "
            f"({', '.join(f'{k} {v:.1f}' for k, v in ours[0]['validate_per_source'].items())})"
        )
        print(
            f"  raw pyoxigraph bulk_load of the produced quads            : {med(bulk, 'total'):7.2f} s  ({bulk[0]['quads']} quads)"
        )
        print(f"  JSON-LD parse only, pruned context (ours)                 : {med(pruned, 'total'):7.2f} s")
        print(f"  JSON-LD parse only, whole RO-Crate context inlined        : {med(full, 'total'):7.2f} s")
        if rdfl:
            print(
                f"  rdflib, parse every crate into one Graph                  : {med(rdfl, 'total'):7.2f} s  ({rdfl[0]['triples']} triples)"
            )
        print("ratios")
        if rdfl:
            print(
                f"  rdflib / ours end to end        : {med(rdfl, 'total') / med(ours, 'total'):6.2f}x   (target >= 4x)"
            )
        print(f"  inlined / pruned context parse  : {med(full, 'total') / med(pruned, 'total'):6.2f}x")
        print(f"  ours load stage / raw bulk load : {med(ours, 'load') / med(bulk, 'total'):6.2f}x   (target <= 2x)")
        print(f"  ours end to end                 : {med(ours, 'total'):6.2f} s   (target <= 5 s)")


if __name__ == "__main__":
    main()
