"""`kg export --rocrate` of every study: the current exporter against the previous one, in one run.

The previous exporter (commit 4252d40: one CONSTRUCT per study, then pyld compaction of each crate) is
loaded from git history and timed on a sample of studies per source; its time for all studies is the
per-study mean times the study count. The current exporter (one query per source graph, JSON written
directly) is timed on every study. Prints both and their ratio.

    .venv/bin/python benchmarks/bench_export.py --sample 40
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, harvested_store

OLD_COMMIT = "4252d40"
SOURCES = ["bia", "idr", "ssbd-database", "ssbd-repository"]


def old_exporter():
    """The exporter as it was before this change, imported from git history (not part of the package)."""
    code = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{OLD_COMMIT}:kg/export/rocrate.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    code = code.replace("from ..jsonld_contexts", "from kg.jsonld_contexts").replace(
        "from ..namespaces", "from kg.namespaces"
    )
    path = Path(tempfile.mkdtemp()) / "old_rocrate.py"
    path.write_text(code)
    spec = importlib.util.spec_from_file_location("old_rocrate", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sample", type=int, default=40, help="studies per source timed with the previous exporter")
    args = ap.parse_args()
    from kg.export.rocrate import export_source, studies_of
    from kg.namespaces import GRAPH

    t = time.perf_counter()
    store = harvested_store()
    print(f"harvest of the bundled data: {time.perf_counter() - t:.1f} s")
    old = old_exporter()
    total_new, total_old, n_all = 0.0, 0.0, 0
    print(f"{'source':16} {'studies':>7} {'new (all)':>10} {'old (est.)':>11} {'ratio':>7}")
    for source in SOURCES:
        studies = studies_of(store, GRAPH + source)
        sample = studies[:: max(1, len(studies) // args.sample)][: args.sample]
        t = time.perf_counter()
        for study, ident in sample:
            old.crate_for(store, study, GRAPH + source, f"{ident}-ro-crate-metadata.json")
        old_est = (time.perf_counter() - t) / len(sample) * len(studies)
        with tempfile.TemporaryDirectory() as folder:
            t = time.perf_counter()
            n = export_source(store, source, folder)
            new = time.perf_counter() - t
        total_new, total_old, n_all = total_new + new, total_old + old_est, n_all + n
        print(f"{source:16} {n:7d} {new:9.1f}s {old_est:10.1f}s {old_est / new:6.1f}x")
    print(f"{'all':16} {n_all:7d} {total_new:9.1f}s {total_old:10.1f}s {total_old / total_new:6.1f}x")


if __name__ == "__main__":
    sys.exit(main())
