"""Serve first, finish in the background (issue #16): `kg up` on an empty store answers /search once the
source graphs are in, while SHACL validation and the dumps run beside the server and /health, /quality
and /downloads say how far they are. No timing assertions: only the order of what the server reports."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests._process import free_port, stop

ROOT = Path(__file__).parents[1]
STEPS = {"pending", "running", "done"}


def one_source_config(tmp: Path, name: str = "idr") -> Path:
    """data/sources.toml cut down to one source (its snapshot path made absolute): a small `kg up`."""
    text = (ROOT / "data" / "sources.toml").read_text(encoding="utf-8")
    block = text[text.index(f"[sources.{name}]") :]
    block = block[: block.index("\n[sources.", 1)] if "\n[sources." in block[1:] else block
    block = block.replace('snapshot = "data/', f'snapshot = "{ROOT}/data/')
    path = tmp / "sources.toml"
    path.write_text(block, encoding="utf-8")
    return path


def poll(url: str, proc, ok, limit: float = 900.0, **kw):
    """GET `url` until `ok(response)`; fails when `kg up` exits or `limit` s pass (a bound, not a timing check)."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        assert proc.poll() is None, f"kg up exited with {proc.returncode}"
        try:
            r = requests.get(url, timeout=60, **kw)
            if ok(r):
                return r
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} did not answer as expected within {limit} s")


VALIDATION_RESULTS = """SELECT (COUNT(*) AS ?n) WHERE { GRAPH <https://w3id.org/gide-kg/graph/validation> {
  ?r a <http://www.w3.org/ns/shacl#ValidationResult> } }"""


@pytest.fixture(scope="module")
def kg_up(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("up")
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "kg.cli",
        "up",
        "--store",
        str(tmp / "store"),
        "--dumps",
        str(tmp / "dumps"),
        "--config",
        str(one_source_config(tmp)),
        "--port",
        str(port),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open(tmp / "stderr", "wb") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env)
        try:
            yield proc, f"http://127.0.0.1:{port}", tmp
        finally:
            stop(proc)


def validation_results(base: str, proc) -> int:
    """The findings in the validation graph, counted by a /sparql query that runs in a query worker (an
    aggregate: never a lookup the serving process answers itself)."""
    r = poll(
        f"{base}/sparql", proc, lambda r: r.status_code == 200, params={"query": VALIDATION_RESULTS, "format": "json"}
    )
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


def test_search_first_then_background_work_done(kg_up):
    proc, base, tmp = kg_up
    # the first request of all: the query workers open the store before validation starts (it waits for
    # the first answer), so they must be renewed to see the findings below
    assert validation_results(base, proc) == 0
    first = poll(f"{base}/search", proc, lambda r: r.status_code == 200, params={"q": "idr0001", "format": "json"})
    assert first.json()["total"] >= 1
    health = requests.get(f"{base}/health", timeout=60).json()
    assert health["status"] == "ok"
    assert set(health["background"]) == {"validation", "dumps"}  # reported from the first answer on
    assert set(health["background"].values()) <= STEPS, health
    while set(health["background"].values()) != {"done"}:  # the follow-up ends (poll is bounded)
        health = poll(f"{base}/health", proc, lambda r: r.status_code == 200).json()
        assert set(health["background"].values()) <= STEPS, health
        time.sleep(0.5)
    assert "background_errors" not in health
    quality = requests.get(f"{base}/quality", params={"format": "json"}, timeout=60).json()
    assert "validation" not in quality  # no "validation running…" note any more
    assert {f["source"] for f in quality["shacl"]} == {"idr"}
    assert (len(quality["shacl"]), sum(f["count"] for f in quality["shacl"])) == (8, 1554)  # the idr crates' findings
    assert validation_results(base, proc) == 1554  # /sparql's workers see them too (renewed after validation)
    downloads = requests.get(f"{base}/downloads", params={"format": "json"}, timeout=60).json()
    assert sorted(d["file"] for d in downloads["dumps"]) == [
        "gide-kg.nq.gz",
        "gide-kg.ttl.gz",
        "idr.nq.gz",
        "idr.ttl.gz",
    ]
    assert "note" not in downloads
    stderr = (tmp / "stderr").read_text()
    assert stderr.index("serving now; validation and dumps continue in the background") < stderr.index(
        "SHACL validation in"
    )
