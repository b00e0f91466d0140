"""Scale: a synthetic corpus N times the bundled crates, harvested into an on-disk store, then measured
next to a real Virtuoso holding the same quads, in the same run.

The corpus is seeded copies of the real crates: each copy gets a new study IRI and identifier (its accession
number plus k million), so the shape (sizes, vocabularies, shared taxa, methods, people) stays realistic.

Printed for our store: harvest + load time, peak RSS of this process, store size on disk, p50 / p99 of the
competency queries. Then Virtuoso (Debian's virtuoso-opensource-7-bin, started on 127.0.0.1) is loaded with
the same N-Quads by its own bulk loader (`ld_dir` + `rdf_loader_run`), and both endpoints are put under the
same concurrent load with wrk (bounded: a few seconds per workload, loopback only):

  lookup  one study's identifier by IRI         ours: /sparql under waitress   Virtuoso: /sparql
  facet   studies of a taxon (with descendants) ours: /search?format=json      Virtuoso: /sparql, the same
          and their counts per repository,      (the in-memory study index    counts as GROUP BY queries
          organism and imaging method           kept in step with harvests)   (what a portal would send)

    python benchmarks/bench_scale.py --factor 10 [--query-runs 5] [--seconds 10] [--no-virtuoso]
    python benchmarks/bench_scale.py --factor 100 --load-only   # harvest + load ÷ Virtuoso's loader and ÷ pyoxigraph's bulk_load
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from kg import pipeline  # noqa: E402
from kg.config import load_sources  # noqa: E402
from kg.store import open_store  # noqa: E402
from kg.store.ontologies import load_ontologies, rebuild_closure  # noqa: E402

QUERIES = [
    "studies-per-repository",
    "organisms",
    "imaging-methods-per-repository",
    "bacteria-light-microscopy",
    "published-since-2020",
    "shared-publications",
]
TAXON = "http://purl.obolibrary.org/obo/NCBITaxon_7742"  # Vertebrata: zebrafish, mouse, human… (hierarchy expansion)
LOOKUP = "SELECT ?id WHERE { <https://idr.openmicroscopy.org/study/idr0003/> <http://schema.org/identifier> ?id }"
FACET_SPARQL = """PREFIX kg: <https://w3id.org/gide-kg/vocab#>
PREFIX schema: <http://schema.org/>
SELECT ?facet ?value (COUNT(DISTINCT ?s) AS ?n) WHERE {{
  ?s kg:organism ?o . ?o kg:subClassOfOrSelf <{taxon}> .
  {{ ?s schema:publisher ?value BIND("repository" AS ?facet) }}
  UNION {{ ?s kg:organism ?value BIND("organism" AS ?facet) }}
  UNION {{ ?s kg:imagingMethod ?value BIND("imaging_method" AS ?facet) }}
}} GROUP BY ?facet ?value ORDER BY ?facet DESC(?n)"""


def synthesize(source, factor: int, out: Path) -> int:
    out.mkdir(parents=True)
    n = 0
    for path in sorted(Path(source.snapshot).glob("*ro-crate-metadata.json")):
        text = path.read_text(encoding="utf-8")
        doc = json.loads(text)
        root = next(
            x["about"]["@id"] for x in doc["@graph"] if str(x.get("@id", "")).endswith("ro-crate-metadata.json")
        )
        ident = next((x.get("identifier") for x in doc["@graph"] if x.get("@id") == root), None)
        for k in range(factor):
            if k == 0:
                copy = text
            else:  # the first number of the accession gets k million added: IRI patterns still match
                bump = lambda m, k=k: str(int(m.group(0)) + k * 1_000_000)  # noqa: E731
                last = root.rstrip("/").rsplit("/", 1)
                new_root = (
                    last[0] + "/" + re.sub(r"[0-9]+", bump, last[1], count=1) + ("/" if root.endswith("/") else "")
                )
                copy = text.replace(json.dumps(root), json.dumps(new_root))
                if isinstance(ident, str):
                    copy = copy.replace(json.dumps(ident), json.dumps(re.sub(r"[0-9]+", bump, ident, count=1)))
            (out / f"{path.name[: -len('-ro-crate-metadata.json')]}-{k}-ro-crate-metadata.json").write_text(
                copy, encoding="utf-8"
            )
            n += 1
    return n


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def percentiles(ms: list[float]) -> str:
    ms = sorted(ms)
    p99 = ms[min(len(ms) - 1, int(round(0.99 * (len(ms) - 1))))]
    return f"p50 {statistics.median(ms):8.1f} ms   p99 {p99:8.1f} ms"


def time_queries(label: str, run, runs: int) -> dict[str, float]:
    print(f"competency queries, {label} ({runs} runs each):")
    medians = {}
    for name in QUERIES:
        text = (ROOT / "queries" / f"{name}.rq").read_text()
        ms, rows = [], 0
        for _ in range(runs):
            t = time.perf_counter()
            rows = run(text)
            ms.append((time.perf_counter() - t) * 1000)
        medians[name] = statistics.median(ms)
        print(f"  {name:<32} {percentiles(ms)}   ({rows} rows)")
    return medians


def wrk(url: str, seconds: int, connections: int = 8) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms) from wrk; non-2xx answers make the run count as failed."""
    import requests

    warm = requests.get(url, headers={"Accept": "application/sparql-results+json, application/json"}, timeout=600)
    warm.raise_for_status()  # builds the study index / fills caches before the clock runs
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "60s",
            "--latency",
            "-H",
            "Accept: application/sparql-results+json, application/json",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk saw errors for {url}:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def ms(p: str) -> float:
        v, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return rps, ms("50"), ms("99")


def serve_ours(store_path: Path, port: int, timeout: float = 60):
    """`kg serve` itself (waitress, 8 threads) on the store, as production runs it; timeout 0 runs queries
    in the server process (no time limit, no worker processes)."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kg.cli",
            "serve",
            "--store",
            str(store_path),
            "--port",
            str(port),
            "--query-timeout",
            str(timeout),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    import requests

    for _ in range(600):
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return proc
        except requests.RequestException:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("kg serve did not start: " + proc.stderr.read().decode()[-2000:])


def load_virtuoso(server, nquads: Path) -> float:
    """Virtuoso's own bulk loader over the N-Quads file; seconds."""
    t = time.perf_counter()
    sql = f"ld_dir('{nquads.parent}', '{nquads.name}', 'urn:kg:unused'); rdf_loader_run(); checkpoint;"
    subprocess.run(["isql-vt", str(server.sql_port), "dba", "dba", f"exec={sql}"], check=True, capture_output=True)
    return time.perf_counter() - t


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the mapping workers)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def harvest_ours(sources: dict, work: Path, nquads: Path, runs: int, dump: bool = True):
    """Harvest the corpus into an on-disk store, time the queries (`runs` > 0), dump it as N-Quads for
    Virtuoso (`dump`). The store is closed on return (the server opens it)."""
    import pyoxigraph as ox

    store = open_store(work / "store")
    t, cpu = time.perf_counter(), _cpu()
    load_ontologies(store)
    studies = 0
    for n, s in sources.items():
        studies += pipeline.harvest_snapshot(store, dataclasses.replace(s, snapshot=work / "crates" / n)).studies
    rebuild_closure(store)
    store.flush()
    harvest, cpu = time.perf_counter() - t, _cpu() - cpu
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    quads = len(store.store)
    print(
        f"ours: harvest + load {harvest:.1f} s (CPU {cpu:.1f} s with the mapping workers) for {studies} studies, "
        f"{quads} quads; peak RSS {rss:.0f} MiB; "
        f"store on disk {du(work / 'store') / 2**20:.0f} MiB"
    )
    medians = time_queries("ours (pyoxigraph, in process)", lambda q: len(list(store.query(q))), runs) if runs else {}
    if not dump:
        return quads, [], medians, harvest
    nquads.parent.mkdir()
    public = [g.value for g in store.public_graphs()]
    with open(nquads, "wb") as f:
        for g in public:
            f.write(store.dump_graph(g, ox.RdfFormat.N_TRIPLES).replace(b" .\n", f" <{g}> .\n".encode()))
    return quads, public, medians, harvest


def raw_bulk_load(nquads: Path, path: Path) -> float:
    """Seconds pyoxigraph's own bulk loader takes for an N-Quads file into a fresh on-disk store (flushed)."""
    import pyoxigraph as ox

    store = ox.Store(str(path))
    t = time.perf_counter()
    store.bulk_load(path=str(nquads), format=ox.RdfFormat.N_QUADS)
    store.flush()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--factor", type=int, default=10)
    ap.add_argument("--query-runs", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=10, help="duration of each wrk load run")
    ap.add_argument("--no-virtuoso", action="store_true", help="only our store")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--harvest-only", action="store_true", help="stop after the harvest figures")
    ap.add_argument(
        "--load-only",
        action="store_true",
        help="harvest + load, then Virtuoso's bulk loader on the same quads and the ratio (no queries, no wrk)",
    )
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kg-scale-"))
    procs = []
    try:
        sources = {n: s for n, s in load_sources().items() if s.kind == "rocrate"}
        t = time.perf_counter()
        total = sum(synthesize(s, args.factor, work / "crates" / n) for n, s in sources.items())
        print(f"synthetic corpus: {total} crates ({args.factor}x), written in {time.perf_counter() - t:.1f} s")
        nquads = work / "dump" / "gide-kg.nq"
        quick = args.harvest_only or args.load_only
        quads, public, ours, harvest = harvest_ours(
            sources, work, nquads, 0 if quick else args.query_runs, dump=not args.harvest_only
        )
        if args.harvest_only:
            return
        from _virtuoso import free_port, running_virtuoso

        if args.load_only:
            with running_virtuoso(work / "virtuoso", memory_gib=4, allowed=nquads.parent) as v:
                secs = load_virtuoso(v, nquads)
            print(
                f"virtuoso: bulk load of the same {quads} quads {secs:.1f} s (its own loader)\n"
                f"ratio ours / Virtuoso's loader: {harvest / secs:.2f}x ({harvest:.1f} s / {secs:.1f} s)"
            )
            raw = raw_bulk_load(nquads, work / "raw-store")
            print(
                f"pyoxigraph: bulk_load of the same quads from one N-Quads file {raw:.1f} s (the store's own loader, "
                f"no mapping: a floor for ours)\nratio ours / pyoxigraph's bulk_load: {harvest / raw:.2f}x"
            )
            return

        port = free_port()
        procs.append(serve_ours(work / "store", port))
        base = f"http://127.0.0.1:{port}"
        rows = [
            ("lookup  ours /sparql (time-limited)", wrk(f"{base}/sparql?{urlencode({'query': LOOKUP})}", args.seconds)),
            (
                "facet   ours /search (study index)",
                wrk(f"{base}/search?{urlencode({'format': 'json', 'organism': TAXON, 'size': 20})}", args.seconds),
            ),
            (
                "facet   ours /sparql GROUP BY",
                wrk(f"{base}/sparql?{urlencode({'query': FACET_SPARQL.format(taxon=TAXON)})}", args.seconds),
            ),
        ]
        procs.pop().terminate()
        port = free_port()
        procs.append(serve_ours(work / "store", port, timeout=0))
        rows.append(
            (
                "lookup  ours /sparql (in process)",
                wrk(f"http://127.0.0.1:{port}/sparql?{urlencode({'query': LOOKUP})}", args.seconds),
            )
        )
        procs.pop().terminate()
        if not args.no_virtuoso:
            with running_virtuoso(work / "virtuoso", memory_gib=4, allowed=nquads.parent) as v:
                secs = load_virtuoso(v, nquads)
                print(
                    f"virtuoso: bulk load of the same {quads} quads {secs:.1f} s (its own loader); "
                    f"database on disk {v.disk_bytes() / 2**20:.0f} MiB"
                )
                from kg.store.remote_store import RemoteStore

                remote = RemoteStore(v.query_url, dialect="virtuoso")
                theirs = time_queries(
                    "Virtuoso over HTTP",
                    lambda q: len(list(remote.query(q, default_graph=public, named_graphs=public))),
                    args.query_runs,
                )
                print("  ratio Virtuoso / ours (p50):", ", ".join(f"{n} {theirs[n] / ours[n]:.2f}" for n in QUERIES))
                vq = lambda q: f"{v.query_url}?{urlencode([('query', q)] + [('default-graph-uri', g) for g in public])}"  # noqa: E731
                rows.append(("lookup  Virtuoso /sparql", wrk(vq(LOOKUP), args.seconds)))
                rows.append(
                    ("facet   Virtuoso /sparql GROUP BY", wrk(vq(FACET_SPARQL.format(taxon=TAXON)), args.seconds))
                )
        print(f"endpoints under load (wrk, 2 threads, 8 connections unless noted, {args.seconds} s each, 127.0.0.1):")
        for label, (rps, p50, p99) in rows:
            print(f"  {label:<36} {rps:9.1f} req/s   p50 {p50:8.1f} ms   p99 {p99:8.1f} ms")
        if not args.no_virtuoso:
            rps = {label.split()[0] + " " + label.split()[1]: r[0] for label, r in rows}
            print(
                f"  ratio ours / Virtuoso requests/s: lookup {rows[0][1][0] / rps['lookup Virtuoso']:.2f}x "
                f"(in process {rows[3][1][0] / rps['lookup Virtuoso']:.2f}x), facet {rows[1][1][0] / rps['facet Virtuoso']:.2f}x"
            )
    finally:
        for p in procs:
            p.terminate()
        if args.keep:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
