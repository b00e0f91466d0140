"""The `kg` commands as a user runs them: harvest into an on-disk store, query, stats, serve, --help."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from _process import free_port, stop

from expected import STUDIES

ROOT = Path(__file__).resolve().parent.parent
KG = [sys.executable, "-m", "kg.cli"]


def run(*args, **kw):
    return subprocess.run([*KG, *args], capture_output=True, text=True, timeout=300, cwd=ROOT, **kw)


@pytest.fixture(scope="module")
def disk_store(tmp_path_factory):
    """An on-disk store with the IDR and SSBD:repository snapshots harvested by `kg harvest`."""
    path = tmp_path_factory.mktemp("store") / "kg"
    r = run("harvest", "--no-validate", "--store", str(path), "idr", "ssbd-repository")
    assert r.returncode == 0, r.stderr
    return path, r


def test_harvest_summary(disk_store):
    _, r = disk_store
    lines = {
        l.split()[0]: l.split()
        for l in r.stdout.splitlines()
        if l.split() and l.split()[0] in ("idr", "ssbd-repository")
    }
    assert lines["idr"][1:4] == [str(STUDIES["idr"])] * 2 + ["0"] and lines["idr"][-1] == "ok"
    assert lines["ssbd-repository"][1:4] == [str(STUDIES["ssbd-repository"])] * 2 + ["0"]
    assert f"total: {STUDIES['idr'] + STUDIES['ssbd-repository']} studies loaded, 0 records quarantined" in r.stdout
    # `kg harvest` builds the search and term indexes into the store folder: the next `kg serve` loads them
    assert "search and term indexes built in" in r.stderr


def test_query_formats(disk_store):
    path, _ = disk_store
    q = str(ROOT / "queries" / "studies-per-repository.rq")
    r = run("query", "--store", str(path), "--format", "csv", q)
    assert r.returncode == 0, r.stderr
    rows = {row["name"]: int(row["studies"]) for row in csv.DictReader(io.StringIO(r.stdout))}
    assert rows == {"Image Data Resource": STUDIES["idr"], "SSBD:repository": STUDIES["ssbd-repository"]}
    r = run(
        "query",
        "--store",
        str(path),
        "--format",
        "json",
        "ASK { <https://idr.openmicroscopy.org/study/idr0003/> a <http://schema.org/Dataset> }",
    )
    assert json.loads(r.stdout)["boolean"] is True
    r = run(
        "query",
        "--store",
        str(path),
        "--format",
        "ntriples",
        "CONSTRUCT WHERE { <https://idr.openmicroscopy.org/study/idr0003/> <https://w3id.org/gide-kg/vocab#organism> ?t }",
    )
    assert (
        r.stdout.strip()
        == "<https://idr.openmicroscopy.org/study/idr0003/> <https://w3id.org/gide-kg/vocab#organism> <http://purl.obolibrary.org/obo/NCBITaxon_4932> ."
    )
    r = run("query", "--store", str(path), "SELECT WHERE {")
    assert r.returncode == 2 and "query error" in r.stderr
    r = run("query", "--store", str(path), "--format", "turtle", "SELECT * WHERE { ?s ?p ?o } LIMIT 1")
    assert r.returncode == 2 and "cannot be written as text/turtle" in r.stderr


def test_stats(disk_store):
    path, _ = disk_store
    r = run("stats", "--store", str(path))
    assert r.returncode == 0, r.stderr
    assert f"{STUDIES['idr']}  Image Data Resource (idr)" in r.stdout
    assert f"{STUDIES['ssbd-repository']}  SSBD:repository (ssbd-repository)" in r.stdout
    assert "0  BioImage Archive (bia)" in r.stdout
    assert any(l.split()[:2] == ["idr", "succeeded"] for l in r.stdout.splitlines())
    assert any(l.split()[:2] == ["bia", "never"] for l in r.stdout.splitlines())


def test_missing_query_file_and_missing_store(disk_store, tmp_path):
    path, _ = disk_store
    r = run("query", "--store", str(path), "nosuchfile.rq")
    assert r.returncode == 2 and "no such query file: nosuchfile.rq" in r.stderr
    r = run("stats", "--store", str(tmp_path / "nostore"))
    assert r.returncode == 3 and "no store at" in r.stderr and "run `kg harvest" in r.stderr


def test_unknown_source_and_missing_folder(tmp_path):
    r = run("harvest", "--store", str(tmp_path / "s"), "nosuchsource")
    assert r.returncode == 2 and "unknown source" in r.stderr
    r = run("harvest", "--store", str(tmp_path / "s"), "--rocrates", str(tmp_path / "missing"))
    assert r.returncode == 2 and "no such folder" in r.stderr


def test_store_in_use_is_a_clear_error(disk_store):
    path, _ = disk_store
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import pyoxigraph, time; s = pyoxigraph.Store({str(path)!r}); print('open', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        r = run("harvest", "--no-indexes", "--store", str(path), "idr")
        assert r.returncode == 3 and "cannot open the store" in r.stderr
        assert "another process holds it for writing" in r.stderr
        r = run("stats", "--store", str(path))  # readers work alongside a writer
        assert r.returncode == 0 and f"{STUDIES['idr']}  Image Data Resource (idr)" in r.stdout
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("command", ["harvest", "serve", "up", "query", "stats"])
def test_help(command):
    r = run(command, "--help")
    assert r.returncode == 0 and "usage: kg " + command in r.stdout


def test_top_level_help_lists_commands():
    r = run("--help")
    for c in ("harvest", "serve", "up", "query", "stats"):
        assert c in r.stdout


def test_serve_over_http(disk_store):
    path, _ = disk_store
    port = free_port()
    proc = subprocess.Popen(
        [*KG, "serve", "--store", str(path), "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(600):  # `kg serve` builds (or loads) the indexes before it listens
            try:
                r = requests.get(f"http://127.0.0.1:{port}/?format=json", timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        else:
            pytest.fail("server did not start: " + proc.stderr.read())
        counts = {s["name"]: s["studies"] for s in r.json()["sources"]}
        assert counts == {
            "bia": 0,
            "idr": STUDIES["idr"],
            "ssbd-database": 0,
            "ssbd-repository": STUDIES["ssbd-repository"],
            "idr-study": 0,
            "ssbd-rdf": 0,
        }
        page = requests.get(f"http://127.0.0.1:{port}/study/idr/idr0003", timeout=5)
        assert page.status_code == 200 and "Saccharomyces cerevisiae" in page.text
    finally:
        stop(proc, grace=10)
    # the indexes the module's `kg harvest` persisted were loaded, not built before listening
    assert "search and term indexes loaded in" in proc.stderr.read()


def test_reharvest_writes_only_the_difference(disk_store):
    """Last in this file: it changes the store's generation (and leaves its persisted indexes behind it)."""
    path, _ = disk_store
    count_idr = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <https://w3id.org/gide-kg/graph/idr> { ?s ?p ?o } }"
    before = run("query", "--store", str(path), "--format", "csv", count_idr).stdout
    r = run("harvest", "--no-validate", "--no-indexes", "--store", str(path), "idr")
    assert r.returncode == 0
    after = run("query", "--store", str(path), "--format", "csv", count_idr).stdout
    assert before == after
    runs = run(
        "query",
        "--store",
        str(path),
        "--format",
        "csv",
        'SELECT (COUNT(?r) AS ?n) WHERE { ?r a <https://w3id.org/gide-kg/vocab#HarvestRun> ; <https://w3id.org/gide-kg/vocab#harvestSource> "idr" }',
    ).stdout
    assert runs.splitlines()[1] == "2"  # run history is kept
