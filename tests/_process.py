"""`kg` command lines run as real subprocesses: a free port on 127.0.0.1, and stopping a server cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen, grace: float = 30.0) -> None:
    """SIGTERM (the server shuts down as on Ctrl-C; SIGINT would be ignored when the test run itself was
    started in the background), then SIGKILL if it has not exited within `grace` s."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run_kg(*args: str, cwd: Path = ROOT, timeout: float = 300) -> subprocess.CompletedProcess:
    """`python -m kg.cli ARGS` in a subprocess (this checkout on its path), its output captured as text."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run(
        [sys.executable, "-m", "kg.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def wait_healthy(
    base: str, proc: subprocess.Popen | threading.Thread, log: Path | None = None, limit: float = 300.0
) -> None:
    """Return once `base`/health answers 200; RuntimeError (with the end of the server's log) when the server
    (a process, or a thread serving in this one) ends first or `limit` seconds pass (a liveness bound: a
    busy machine may load or build indexes slowly)."""
    deadline = time.monotonic() + limit
    ended = (lambda: not proc.is_alive()) if isinstance(proc, threading.Thread) else (lambda: proc.poll() is not None)
    while True:
        if ended():
            tail = log.read_text()[-2000:] if log else f"status {getattr(proc, 'returncode', None)}"
            raise RuntimeError(f"kg serve exited: {tail}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"kg serve did not answer /health within {limit:.0f} s")
        try:
            if requests.get(base + "/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
