"""A source mapped by worker processes (kg/mapping/workers.py) gives the graph of an in-process harvest,
and a study already described by a record of an earlier chunk is still quarantined."""

from __future__ import annotations

import dataclasses

import pyoxigraph as ox
import pytest

from kg import pipeline
from kg.harvest import rocrate_dir
from kg.pipeline import harvest_records
from kg.store import open_store

IDR = "https://w3id.org/gide-kg/graph/idr"
STUDY = "https://idr.openmicroscopy.org/study/idr0001/"


def triples(store, graph: str) -> list[str]:
    return sorted(store.dump_graph(graph, ox.RdfFormat.N_TRIPLES).decode().splitlines())


@pytest.mark.parametrize("worker_chunk", [500, 15])
def test_workers_give_the_in_process_graph_and_quarantine_a_study_of_an_earlier_chunk(
    harvested_store, crate_sources, tmp_path, monkeypatch, worker_chunk
):
    """Chunks of 40 records decide that workers map the source; the workers get them as they are (500) or
    cut smaller (15, as a large source's chunks of 2,000 are cut to 500): the same graph either way."""
    monkeypatch.setattr(pipeline, "WORKER_CHUNK_RECORDS", worker_chunk)
    src = crate_sources["idr"]
    records = list(rocrate_dir.iter_records(src.snapshot, "idr"))
    copy = dataclasses.replace(records[0], name="idr9999-copy-ro-crate-metadata.json", sha256="")
    store = open_store(tmp_path / "store")  # on disk: the first load goes through the bulk loader
    report = harvest_records(store, {"idr": src}, records + [copy], only="idr", chunk_records=40, workers=2)[0]
    assert (report.records, report.studies) == (128, 127)
    assert [(q.record.name, q.reason) for q in report.quarantined] == [
        (
            "idr9999-copy-ro-crate-metadata.json",
            f"study {STUDY} is already described by record idr0001-ro-crate-metadata.json",
        )
    ]
    assert triples(store, IDR) == triples(harvested_store, IDR)
    assert store.record_hashes("idr") == harvested_store.record_hashes("idr")
