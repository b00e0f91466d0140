"""Dumps are replaced atomically (issue #15 item 9): a harvest killed while writing them leaves every served
file whole and matching dumps.json, and a file that does not match its checksum is not served."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from kg.pipeline import HarvestOptions, run_harvest
from kg.store import open_store
from kg.store.dumps import TMP_PREFIX, read_manifest, write_dumps

from _server import running_app

ROOT = Path(__file__).parents[1]
SOURCE = "ssbd-rdf"  # one record: the smallest harvest


@pytest.fixture(scope="module")
def small(sources):
    store = open_store(None)
    run_harvest(store, {SOURCE: sources[SOURCE]}, HarvestOptions(derived=False, validate=False))
    return store, {SOURCE: sources[SOURCE]}


def served_whole(base: str) -> list[str]:
    """Download every listed dump; each must have the manifest's size and SHA-256. Returns the names."""
    listing = requests.get(f"{base}/downloads", params={"format": "json"}, timeout=60).json()
    names = []
    for d in listing["dumps"]:
        r = requests.get(f"{base}/downloads/{d['file']}", timeout=60)
        assert r.status_code == 200, (d["file"], r.text[:300])
        assert (len(r.content), hashlib.sha256(r.content).hexdigest()) == (d["bytes"], d["sha256"]), d["file"]
        names.append(d["file"])
    return sorted(names)


def kill_during_dumps(store_dir: Path, dumps: Path) -> int:
    """Run `kg harvest --dumps` and SIGKILL it as soon as it has begun writing a dump file; its exit status."""
    cmd = [
        sys.executable,
        "-m",
        "kg.cli",
        "harvest",
        SOURCE,
        "--store",
        str(store_dir),
        "--dumps",
        str(dumps),
        "--no-validate",
        "--no-indexes",
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    end = time.monotonic() + 600
    try:
        while proc.poll() is None and time.monotonic() < end:
            if any(e.name.startswith(TMP_PREFIX) for e in os.scandir(dumps)):
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.002)
    finally:
        if proc.poll() is None and time.monotonic() >= end:
            proc.kill()
    return proc.wait()


EXPECTED = sorted(["gide-kg.nq.gz", "gide-kg.ttl.gz", f"{SOURCE}.nq.gz", f"{SOURCE}.ttl.gz"])


def test_killed_while_writing_dumps_serves_whole_files(small, tmp_path):
    store, sources = small
    dumps = tmp_path / "dumps"
    write_dumps(store, dumps, sources)  # the dumps of an earlier harvest
    before = read_manifest(dumps)
    for attempt in range(3):  # the kill must land inside the dump phase (bounded retries)
        status = kill_during_dumps(tmp_path / f"store{attempt}", dumps)
        if status == -signal.SIGKILL:
            break
    assert status == -signal.SIGKILL, "the harvest finished before it could be killed while writing dumps"
    assert any(p.name.startswith(TMP_PREFIX) for p in dumps.iterdir())  # it was killed mid-write
    assert read_manifest(dumps) == before  # the manifest is the earlier one, whole
    with running_app(store, sources, dumps_dir=dumps) as base:
        assert served_whole(base) == EXPECTED  # every file listed is served, whole, and matches dumps.json
    write_dumps(store, dumps, sources)  # the next run clears what the killed one left
    assert not any(p.name.startswith(TMP_PREFIX) for p in dumps.iterdir())


def test_mismatching_file_is_not_served(small, tmp_path):
    store, sources = small
    dumps = tmp_path / "dumps"
    write_dumps(store, dumps, sources)
    (dumps / "gide-kg.nq.gz").write_bytes(b"")  # as the interrupted write of the issue left it: 0 bytes
    (dumps / f"{TMP_PREFIX}gide-kg.ttl.gz").write_bytes(b"\x1f\x8b partial")  # a temporary file left behind
    with running_app(store, sources, dumps_dir=dumps) as base:
        assert served_whole(base) == sorted(set(EXPECTED) - {"gide-kg.nq.gz"})
        listing = requests.get(f"{base}/downloads", params={"format": "json"}, timeout=60).json()
        assert (
            listing["note"]
            == "1 dump file(s) do not match their checksum in dumps.json (being rewritten, or damaged) and are not offered"
        )
        r = requests.get(f"{base}/downloads/gide-kg.nq.gz", timeout=60)
        assert r.status_code == 503 and r.headers["Retry-After"] == "30"
        assert "does not match its checksum in dumps.json" in r.json()["message"]
        assert requests.get(f"{base}/downloads/{TMP_PREFIX}gide-kg.ttl.gz", timeout=60).status_code == 404
        page = requests.get(f"{base}/downloads", timeout=60)
        assert "do not match their checksum" in page.text and "gide-kg.nq.gz" not in page.text
