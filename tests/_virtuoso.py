"""A real Virtuoso server (Debian's virtuoso-opensource-7-bin) on 127.0.0.1, in a fresh folder, for the
remote-store tests and the scale benchmark. `bash .ci/run` installs the package; without it the tests that
need it skip (see _system.py). KG_VIRTUOSO points at another virtuoso-t."""

from __future__ import annotations

import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import requests
from _process import free_port  # also imported from here by tests and benchmarks

from _system import find, need

BINARY = find("virtuoso-t", "KG_VIRTUOSO")


def require_virtuoso() -> None:
    """Skip the calling test or fixture when virtuoso-t is missing (fail under KG_REQUIRE_ALL=1)."""
    need(("Virtuoso", BINARY), install="Debian: apt-get install virtuoso-opensource-7-bin")


INI = """[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty}
DirsAllowed = ., {allowed}
CheckpointInterval = 60
ThreadsPerQuery = 2

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {dir}
MaxClientConnections = 16
ServerThreads = 16

[SPARQL]
ResultSetMaxRows = 100000000
MaxQueryExecutionTime = 600
MaxQueryCostEstimationTime = 0
"""


class Virtuoso:
    """Endpoint URLs and the settings `kg` reads (KG_STORE_*) for one running server."""

    def __init__(self, http_port: int, sql_port: int, folder: Path):
        base = f"http://127.0.0.1:{http_port}"
        self.folder, self.sql_port = folder, sql_port
        self.query_url = f"{base}/sparql"
        self.update_url = f"{base}/sparql-auth"
        self.graph_store_url = f"{base}/sparql-graph-crud-auth"
        self.env = {
            "KG_STORE_UPDATE": self.update_url,
            "KG_STORE_GRAPH_STORE": self.graph_store_url,
            "KG_STORE_USER": "dba",
            "KG_STORE_PASSWORD": "dba",
            "KG_STORE_AUTH": "digest",
        }

    def disk_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.folder.glob("virtuoso*.db"))


@contextmanager
def running_virtuoso(folder: Path, memory_gib: float = 1.0, allowed: Path | None = None):
    """Start virtuoso-t in the foreground on free loopback ports; stop it (and its files stay) on exit.
    `allowed`: a folder its bulk loader may read."""
    if BINARY is None:
        raise RuntimeError("virtuoso-t not found: install Debian's virtuoso-opensource-7-bin (`bash .ci/run` does)")
    folder.mkdir(parents=True, exist_ok=True)
    http_port, sql_port = free_port(), free_port()
    buffers = int(memory_gib * (1 << 30) / 8000 * 0.66)  # Virtuoso's own sizing rule: 8 KB pages, 2/3 of RAM
    (folder / "virtuoso.ini").write_text(
        INI.format(
            dir=folder,
            sql_port=sql_port,
            http_port=http_port,
            allowed=allowed or folder,
            buffers=buffers,
            dirty=buffers * 3 // 4,
        )
    )
    log = open(folder / "stdout.log", "wb")
    proc = subprocess.Popen(
        [BINARY, "+configfile", str(folder / "virtuoso.ini"), "+foreground"],
        cwd=folder,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    server = Virtuoso(http_port, sql_port, folder)
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"virtuoso-t exited ({proc.returncode}): {(folder / 'stdout.log').read_text()[-2000:]}"
                )
            try:
                if requests.get(server.query_url, params={"query": "ASK {}"}, timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("virtuoso-t did not answer on /sparql within 90 s")
            time.sleep(0.3)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()
