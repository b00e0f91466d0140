"""Scale-out: two `kg serve` processes over one remote store (a real Virtuoso on 127.0.0.1) answer the same
and both follow a new harvest — their indexes follow the store's harvest generation (kg/indexes.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from _process import stop, wait_healthy

from kg.pipeline import harvest_snapshot
from kg.store import open_store
from kg.store.ontologies import load_ontologies

from _virtuoso import free_port, running_virtuoso

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, sources):
    """Virtuoso holding the ontologies and IDR's crates, and two `kg serve` processes over it."""
    with running_virtuoso(tmp_path_factory.mktemp("virtuoso")) as v:
        store = open_store(v.query_url, env={**v.env, "KG_STORE_DIALECT": "virtuoso"})
        load_ontologies(store)
        assert harvest_snapshot(store, sources["idr"]).ok
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "KG_STORE_DIALECT": "virtuoso",
        }  # the public side gets no credentials
        ports = [free_port(), free_port()]
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "kg.cli", "serve", "--store", v.query_url, "--port", str(p)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for p in ports
        ]
        bases = [f"http://127.0.0.1:{p}" for p in ports]
        try:
            for base, proc in zip(bases, procs, strict=True):
                wait_healthy(base, proc)  # a liveness bound while the indexes build from Virtuoso
            yield store, bases
        finally:
            for proc in procs:
                stop(proc)


def answers(base: str) -> tuple:
    search = requests.get(base + "/gide/search", params={"q": "idr0003", "size": 5}, timeout=60).json()
    facets = requests.get(
        base + "/search", params={"format": "json", "imaging_method": "fbbi:00000246"}, timeout=60
    ).json()
    sparql = requests.get(
        base + "/sparql",
        params={"query": 'SELECT ?s WHERE { ?s <http://schema.org/identifier> "idr0003" }'},
        headers={"Accept": "application/sparql-results+json"},
        timeout=60,
    ).json()
    term = requests.get(base + "/api/search", params={"q": "fluorescence microscopy", "rows": 3}, timeout=60).json()
    return (
        search["total"],
        [h["entry"]["id"] for h in search["hits"]],
        facets["total"],
        sorted(b["s"]["value"] for b in sparql["results"]["bindings"]),
        [d["iri"] for d in term["response"]["docs"]],
    )


def test_two_servers_answer_the_same_and_follow_a_new_harvest(cluster, sources):
    store, (a, b) = cluster
    first = answers(a)
    assert first == answers(b)
    assert first[0] >= 1 and first[1][0] == "https://idr.openmicroscopy.org/study/idr0003/"
    assert first[3] == ["https://idr.openmicroscopy.org/study/idr0003/"]
    every = {"size": 1}
    assert [requests.get(base + "/gide/search", params=every, timeout=60).json()["total"] for base in (a, b)] == [
        127,
        127,
    ]

    assert harvest_snapshot(store, sources["ssbd-repository"]).ok  # a harvest by another process, while both serve
    totals = []
    for _ in range(400):  # both pick the new generation up (checked every 5 s, built in the background)
        totals = [requests.get(base + "/gide/search", params=every, timeout=60).json()["total"] for base in (a, b)]
        if totals == [127 + 126] * 2:
            break
        time.sleep(0.5)
    assert totals == [127 + 126] * 2
    assert answers(a) == answers(b)
