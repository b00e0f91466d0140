"""The attack suite (issue #15), long version: every attack at once against a real `kg serve`, with latencies.

Starts `kg serve` (waitress, as in production; `--query-timeout 2`) on 127.0.0.1 over an on-disk store (built
from IDR's bundled crates in a temporary folder unless --store is given), then for --seconds at once: slow
clients trickling headers, runaway SPARQL queries, parameter bombs (15,000 and 2,000 repeated `organism=`
on /gide/search and /search), the SSRF disguise corpus of tests/test_ssrf.py by GET, POST form and POST body
against its canary server, and XSS payloads in page query strings — while /health and /search are probed
every 100 ms. Prints the probes' p50 / p99 / max, statuses per attack and the counts that must be 0; exits 1
if any of them is not (or /health p99 is over 1 s). The harness is tests/_attack.py, shared with
tests/test_attack_suite.py (the short version in .ci/run).

    python benchmarks/attack_suite.py [--slow 120] [--runaway 20] [--bombs 8] [--seconds 20] [--store DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from _attack import attack, build_idr_store, kg_serve, percentile, summary  # noqa: E402
from test_ssrf import Canary  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--slow", type=int, default=120, help="slow clients trickling headers (default: %(default)s)")
    ap.add_argument("--runaway", type=int, default=20, help="runaway SPARQL queries at once (default: %(default)s)")
    ap.add_argument("--bombs", type=int, default=8, help="parameter bombs at once (default: %(default)s)")
    ap.add_argument("--seconds", type=float, default=20.0, help="how long the attack lasts (default: %(default)s)")
    ap.add_argument("--store", type=Path, help="an on-disk store to serve (default: IDR's crates, built here)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store or build_idr_store(Path(tmp) / "store")
        canary = Canary()
        try:
            with kg_serve(store, Path(tmp) / "serve.log") as base:
                report = attack(base, canary, args.slow, args.runaway, args.bombs, args.seconds)
        finally:
            canary.server.shutdown()
    print(
        f"attack suite: {args.slow} slow clients, {args.runaway} runaway queries, {args.bombs} parameter bombs,"
        f" SSRF corpus by 3 methods, XSS payloads; {args.seconds:.0f} s"
    )
    print("\n".join(summary(report)))
    problems = report.failures()
    p99 = percentile([t for t, _ in report.health], 0.99)
    if p99 > 1.0:
        problems.append(f"/health p99 {p99 * 1000:.0f} ms is over 1 s")
    print("OK" if not problems else "FAILED:\n" + "\n".join(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
