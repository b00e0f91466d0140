"""`kg serve --processes 2` (kg/serve/server.py): two serving processes share one listening socket, under
granian (its worker processes, the default) and waitress (forked servers).
Requests are answered by both (each says its process id on /health; a keep-alive connection stays with
one process), the answers are identical, and SIGTERM stops the parent and both serving processes.
One subprocess over the session's on-disk IDR store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests._process import free_port

ROOT = Path(__file__).parents[1]


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited


def _answer(base: str) -> tuple[int, int, bytes]:
    """On one fresh keep-alive connection: the answering process, then a search over the same connection."""
    with requests.Session() as s:
        pid = s.get(f"{base}/health", timeout=60).json()["process"]
        r = s.get(f"{base}/search", params={"q": "idr0003", "format": "json"}, timeout=60)
        again = s.get(f"{base}/health", timeout=60).json()["process"]
        assert again == pid  # the connection stayed with its process
        return pid, r.status_code, r.content


@pytest.mark.parametrize("server", ["granian", "waitress"])
def test_two_processes_answer_alike_and_stop_on_sigterm(idr_store_dir, server):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kg.cli",
            "serve",
            "--store",
            str(idr_store_dir),
            "--port",
            str(port),
            "--processes",
            "2",
            "--server",
            server,
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        end = time.monotonic() + 600  # a bound for the index build before it listens, not a timing check
        while True:
            assert proc.poll() is None, proc.stderr.read()
            try:
                if requests.get(f"{base}/health", timeout=10).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < end, "kg serve --processes 2 did not answer"
            time.sleep(0.2)
        answers: dict[int, set[tuple[int, bytes]]] = {}
        with ThreadPoolExecutor(4) as pool:
            for _ in range(25):  # bounded: 100 connections at most, four at a time
                for pid, status, body in pool.map(lambda _: _answer(base), range(4)):
                    answers.setdefault(pid, set()).add((status, body))
                if len(answers) == 2:
                    break
        assert len(answers) == 2, answers.keys()
        assert proc.pid not in answers  # the parent only watches; the forked processes serve
        bodies = set().union(*answers.values())
        assert len(bodies) == 1  # one answer, whichever process gave it
        status, body = bodies.pop()
        assert status == 200 and b'"https://idr.openmicroscopy.org/study/idr0003/"' in body

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        end = time.monotonic() + 30
        while any(_alive(pid) for pid in answers) and time.monotonic() < end:
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in answers)
        try:
            requests.get(f"{base}/health", timeout=5)
            raise AssertionError("the port still answers after SIGTERM")
        except requests.ConnectionError:
            pass
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
