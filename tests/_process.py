"""`kg` command lines run as real subprocesses: a free port on 127.0.0.1, and stopping a server cleanly."""

from __future__ import annotations

import signal
import socket
import subprocess


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
