"""The live harvest under faults: slow and dropped connections, broken and colliding crates, an empty or
vanishing listing — no good record lost, bad ones quarantined, the served graph intact until a
validated replacement exists, and readers never see a half-swapped graph."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kg.harvest.http import Fetcher
from kg.harvest.rocrate_http import git_blob_sha
from kg.pipeline import harvest_live, harvest_snapshot
from kg.store import open_store

ROOT = Path(__file__).resolve().parent.parent
CRATES = sorted((ROOT / "data" / "crates" / "idr").glob("*-ro-crate-metadata.json"))
DATASET_COUNT = "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH <https://w3id.org/gide-kg/graph/idr> { ?s a <http://schema.org/Dataset> } }"


class Faulty:
    """A crate repository whose responses the test scripts: per file 'slow', 'reset', 'truncate', 'garbage'."""

    def __init__(self):
        self.files = {p.name: p.read_bytes() for p in CRATES}
        self.faults: dict[str, str] = {}
        self.listing_gone_after = None  # serve the listing, then 404 for it and every file after N downloads
        self.downloads = 0
        self.empty_listing = False

    def listing(self, base: str) -> bytes:
        names = [] if self.empty_listing else sorted(self.files)
        return json.dumps(
            [
                {"name": n, "type": "file", "sha": git_blob_sha(self.files[n]), "download_url": f"{base}/raw/{n}"}
                for n in names
            ]
        ).encode()


def handler(repo: Faulty):
    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def send(self, status, body=b""):
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            base = f"http://127.0.0.1:{self.server.server_port}"
            gone = repo.listing_gone_after is not None and repo.downloads >= repo.listing_gone_after
            if self.path == "/listing":
                return self.send(404) if gone else self.send(200, repo.listing(base))
            name = self.path.rsplit("/", 1)[-1]
            if name not in repo.files or gone:
                return self.send(404)
            repo.downloads += 1
            fault = repo.faults.get(name)
            body = repo.files[name]
            if fault == "slow":
                time.sleep(1.5)
            elif fault == "reset":
                self.connection.close()
                return
            elif fault == "truncate":
                body = body[: len(body) // 2]
            elif fault == "garbage":
                body = b"<html>502 Bad Gateway</html>"
            self.send(200, body)

    return H


@pytest.fixture()
def server():
    repo = Faulty()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), handler(repo))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield repo, f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()


def count(store) -> int:
    return int(next(iter(store.query(DATASET_COUNT)))["n"].value)


def live(sources, base):
    return dataclasses.replace(sources["idr"], live={"listing": base + "/listing", "suffix": "ro-crate-metadata.json"})


def fetcher():
    return Fetcher(retries=1, backoff=0.01, timeout=0.5)


def test_faulty_records_are_quarantined_and_the_rest_load(server, sources, tmp_path):
    repo, base = server
    names = sorted(repo.files)
    repo.faults = {names[0]: "slow", names[1]: "reset", names[2]: "truncate", names[3]: "garbage"}
    store = open_store(None)
    report = harvest_live(store, live(sources, base), tmp_path / "cache", fetcher=fetcher())
    assert report.ok and report.studies == len(names) - 4 == count(store)
    reasons = {q.record.name: q.reason for q in report.quarantined}
    assert set(reasons) == set(names[:4])
    assert "gave up after 2 attempts" in reasons[names[0]] and "Timeout" in reasons[names[0]]
    assert "gave up after 2 attempts" in reasons[names[1]]
    assert reasons[names[2]].startswith("invalid JSON") and reasons[names[3]].startswith("invalid JSON")
    # the faults clear: a resumed harvest completes, downloading only what it lacks or what changed
    repo.faults = {}
    again = harvest_live(store, live(sources, base), tmp_path / "cache", fetcher=fetcher())
    assert again.ok and again.studies == len(names) == count(store) and again.quarantined == []
    assert (again.live["downloaded"], again.live["unchanged"]) == (
        4,
        len(names) - 4,
    )  # a bad body is never trusted from the cache


def test_colliding_ids_are_quarantined(server, sources, tmp_path):
    repo, base = server
    first = sorted(repo.files)[0]
    repo.files["idr9999-copy-ro-crate-metadata.json"] = repo.files[first]  # the same study twice
    store = open_store(None)
    report = harvest_live(store, live(sources, base), tmp_path / "cache", fetcher=fetcher())
    assert report.studies == len(CRATES)
    assert [q.reason.split(" is already described")[0] for q in report.quarantined] == [
        "study https://idr.openmicroscopy.org/study/idr0001/"
    ]


def test_empty_or_vanishing_listing_keeps_the_served_graph(server, sources, tmp_path):
    repo, base = server
    store = open_store(None)
    assert harvest_snapshot(store, sources["idr"]).ok and count(store) == len(CRATES)
    repo.empty_listing = True
    report = harvest_live(store, live(sources, base), tmp_path / "cache", fetcher=fetcher())
    assert not report.ok and count(store) == len(CRATES)
    repo.empty_listing = False
    repo.listing_gone_after = 10  # the repository disappears mid-run
    report = harvest_live(store, live(sources, base), tmp_path / "cache2", fetcher=fetcher())
    assert report.ok and report.studies == 10 and len(report.quarantined) == len(CRATES) - 10
    # a source harvest replaces the graph with what was validated: the 10 studies; nothing half-written
    assert count(store) == 10


def test_readers_never_see_a_half_swapped_graph(sources, tmp_path):
    """Concurrent readers during re-harvests of an on-disk store see the old graph or the new one (the
    re-harvest held in memory and swapped in at once; tests/test_store_backends.py covers the staged one)."""
    store = open_store(tmp_path / "kg")
    assert harvest_snapshot(store, sources["idr"]).ok
    folder = tmp_path / "half"
    folder.mkdir()
    for p in CRATES[:60]:
        (folder / p.name).write_bytes(p.read_bytes())
    seen: set[int] = set()
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            seen.add(count(store))

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    # two swaps (to the 60-crate graph and back) while three readers count without pause
    assert harvest_snapshot(store, dataclasses.replace(sources["idr"], snapshot=folder)).ok
    assert harvest_snapshot(store, sources["idr"]).ok
    stop.set()
    for t in threads:
        t.join()
    assert seen <= {len(CRATES), 60} and len(CRATES) in seen
