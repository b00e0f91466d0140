"""A harvest stopped by a full disk, or killed between a source's swap and the derived graphs (issue #15
item 10): a clear message and exit 3 with the run recorded as failed; links / closure / grounding that
match the swapped sources again as soon as `kg serve` starts."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import requests

from kg.store import open_store
from tests._process import free_port, stop, wait_healthy

ROOT = Path(__file__).parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
PROV = "https://w3id.org/gide-kg/graph/provenance"
LINKS = "https://w3id.org/gide-kg/graph/links"
KG = "https://w3id.org/gide-kg/vocab#"


def _mount_tmpfs(where: Path, size: str) -> bool:
    """A small real filesystem that fills up; False where this process may not mount one."""
    if not shutil.which("mount") or os.geteuid() != 0:
        return False
    where.mkdir()
    return (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True
        ).returncode
        == 0
    )


def _file_size_limit():
    """Without mount rights: the kernel refuses writes beyond 3 MB per file (EFBIG, as a full disk would)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (3 << 20, 3 << 20))


def test_full_disk_is_a_clear_failure(tmp_path):
    disk = tmp_path / "disk"
    mounted = _mount_tmpfs(disk, "3m")
    if not mounted:
        disk.mkdir(exist_ok=True)
    try:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "kg.cli",
                "harvest",
                "idr",
                "--store",
                str(disk / "store"),
                "--dumps",
                str(disk / "dumps"),
                "--no-validate",
                "--no-indexes",
            ],
            capture_output=True,
            text=True,
            env=ENV,
            timeout=600,
            preexec_fn=None if mounted else _file_size_limit,
        )
        assert proc.returncode == 3, proc.stderr[-3000:]
        assert "Traceback" not in proc.stderr
        assert "kg: error: the harvest stopped because the disk is full (" in proc.stderr
        assert "Free some space and run the harvest again." in proc.stderr
        if not mounted and "could not be recorded in the provenance graph either" in proc.stderr:
            return  # a file-size limit also stops the write-ahead log: the run cannot be recorded, and says so
        store = open_store(disk / "store", read_only=True)
        rows = list(
            store.query(f"""SELECT ?src ?err WHERE {{ GRAPH <{PROV}> {{ ?r a <{KG}HarvestRun> ; <{KG}status> "failed" ;
                                    <{KG}harvestSource> ?src ; <{KG}error> ?err }} }}""")
        )
        assert [r["src"].value for r in rows] == ["idr"]
        assert rows[0]["err"].value.startswith("disk full: ")
        del store
    finally:
        if mounted:
            subprocess.run(["umount", str(disk)], check=False)


KILL_AFTER_SWAP = """
import os, signal, sys
from kg.config import load_sources
from kg.pipeline import HarvestOptions, load_phase
from kg.store import open_store

def kill(step, summary):
    if step == "harvest":  # every source swapped in; links, closure and grounding not rebuilt yet
        os.kill(os.getpid(), signal.SIGKILL)

sources = load_sources()
load_phase(open_store(sys.argv[1]), {n: sources[n] for n in ("ssbd-repository", "ssbd-database")},
           HarvestOptions(validate=False), on_step=kill)
"""


def _links(path: Path) -> tuple[int, bool]:
    """Triples in the links graph and whether the stale-derived-graphs mark is set (a read-only look)."""
    store = open_store(path, read_only=True)
    return store.count(LINKS), bool(
        store.query(f"ASK {{ GRAPH <{PROV}> {{ <{KG}Harvester> <{KG}derivedGraphsStale> ?t }} }}")
    )


def test_kill_between_swap_and_links_is_repaired_at_start(tmp_path):
    path = tmp_path / "store"
    proc = subprocess.run(
        [sys.executable, "-c", KILL_AFTER_SWAP, str(path)], capture_output=True, text=True, env=ENV, timeout=600
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]
    assert _links(path) == (0, True)  # the sources are swapped in, the links graph does not follow them yet
    port = free_port()
    with open(tmp_path / "stderr", "wb") as err:
        server = subprocess.Popen(
            [sys.executable, "-m", "kg.cli", "serve", "--store", str(path), "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=ENV,
        )
        try:
            wait_healthy(f"http://127.0.0.1:{port}", server, tmp_path / "stderr", limit=600)
            r = requests.get(
                f"http://127.0.0.1:{port}/sparql",
                params={"query": f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{LINKS}> {{ ?s ?p ?o }} }}"},
                headers={"Accept": "application/sparql-results+json"},
                timeout=60,
            )
            assert int(r.json()["results"]["bindings"][0]["n"]["value"]) == 294
        finally:
            stop(server)
    assert (
        "an earlier harvest stopped before rebuilding the links, closure and grounding graphs"
        in (tmp_path / "stderr").read_text()
    )
    assert _links(path) == (294, False)
