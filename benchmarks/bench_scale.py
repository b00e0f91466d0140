"""Scale: harvest a synthetic corpus N times the bundled crates (seeded copies of the real ones) into a
fresh on-disk store, and time the competency queries on it.

Each copy of a real crate gets a new study IRI and identifier (its accession number plus k million), so the shape of
the data (sizes, vocabularies, links to shared taxa, methods, people) stays realistic. Prints harvest +
load time, peak RSS, store size on disk, and p50 / p99 of the named queries.

    python benchmarks/bench_scale.py --factor 10 [--query-runs 5]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kg import pipeline  # noqa: E402
from kg.config import load_sources  # noqa: E402
from kg.store import open_store  # noqa: E402
from kg.store.ontologies import load_ontologies  # noqa: E402

QUERIES = ["studies-per-repository", "organisms", "imaging-methods-per-repository", "bacteria-light-microscopy",
           "published-since-2020", "shared-publications"]


def synthesize(source, factor: int, out: Path) -> int:
    out.mkdir(parents=True)
    n = 0
    for path in sorted(Path(source.snapshot).glob("*ro-crate-metadata.json")):
        text = path.read_text(encoding="utf-8")
        doc = json.loads(text)
        root = next(x["about"]["@id"] for x in doc["@graph"] if str(x.get("@id", "")).endswith("ro-crate-metadata.json"))
        ident = next((x.get("identifier") for x in doc["@graph"] if x.get("@id") == root), None)
        for k in range(factor):
            if k == 0:
                copy = text
            else:  # the first number of the accession gets k million added: IRI patterns still match
                bump = lambda m: str(int(m.group(0)) + k * 1_000_000)  # noqa: E731
                last = root.rstrip("/").rsplit("/", 1)
                new_root = last[0] + "/" + re.sub(r"[0-9]+", bump, last[1], count=1) + ("/" if root.endswith("/") else "")
                copy = text.replace(json.dumps(root), json.dumps(new_root))
                if isinstance(ident, str):
                    copy = copy.replace(json.dumps(ident), json.dumps(re.sub(r"[0-9]+", bump, ident, count=1)))
            (out / f"{path.name[:-len('-ro-crate-metadata.json')]}-{k}-ro-crate-metadata.json").write_text(copy, encoding="utf-8")
            n += 1
    return n


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--factor", type=int, default=10)
    ap.add_argument("--query-runs", type=int, default=5)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kg-scale-"))
    try:
        sources = {n: s for n, s in load_sources().items() if s.kind == "rocrate"}
        t = time.perf_counter()
        total = sum(synthesize(s, args.factor, work / "crates" / n) for n, s in sources.items())
        print(f"synthetic corpus: {total} crates ({args.factor}x), written in {time.perf_counter() - t:.1f} s")
        store = open_store(work / "store")
        t = time.perf_counter()
        load_ontologies(store)
        studies = 0
        for n, s in sources.items():
            r = pipeline.harvest_snapshot(store, dataclasses.replace(s, snapshot=work / "crates" / n))
            studies += r.studies
        harvest = time.perf_counter() - t
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"harvest + load: {harvest:.1f} s for {studies} studies, {len(store.store)} quads; peak RSS {rss:.0f} MiB; "
              f"store on disk {du(work / 'store') / 2**20:.0f} MiB")
        for name in QUERIES:
            text = (ROOT / "queries" / f"{name}.rq").read_text()
            ms = []
            for _ in range(args.query_runs):
                t = time.perf_counter()
                rows = len(list(store.query(text)))
                ms.append((time.perf_counter() - t) * 1000)
            ms.sort()
            print(f"  {name:<32} p50 {statistics.median(ms):8.1f} ms   p99 {ms[-1]:8.1f} ms   ({rows} rows)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
