"""Slow clients cannot starve the server (kg/serve/server.py, kg/serve/rsgi.py): 120 connections trickling
a request a byte at a time while /health and /search keep answering, each within a client timeout. The
real `kg serve` in a subprocess on 127.0.0.1, over a real on-disk store, under granian (the default: the
body is read on the event loop before a thread sees it) and waitress: trickled headers, trickled bodies,
bodies over the size bound, keep-alive connections idle between requests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from _process import free_port, stop, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
SLOW = 120


SERVERS = ("waitress", "granian")


def _start(name: str, store_dir, log: Path) -> tuple[subprocess.Popen, str]:
    """`kg serve --server NAME` with a 3 s read deadline (default 10 s) and fewer connections than usual (200)."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kg.cli",
                "serve",
                "--store",
                str(store_dir),
                "--port",
                str(port),
                "--read-timeout",
                "3",
                "--connection-limit",
                "200",
                "--query-timeout",
                "0",
                "--server",
                name,
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    return proc, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def servers(idr_store_dir, tmp_path_factory):
    """Both servers at once, {name: base URL}: most checks here wait out deadlines, so each test runs its
    check against both servers side by side (`_on_both`) instead of one after the other."""
    logs = {name: tmp_path_factory.mktemp("serve") / f"{name}.log" for name in SERVERS}
    stores = {name: logs[name].parent / "store" for name in SERVERS}  # a served store is locked: one copy each
    for name in SERVERS:
        shutil.copytree(idr_store_dir, stores[name])
    started = {name: _start(name, stores[name], logs[name]) for name in SERVERS}
    try:
        for name, (proc, base) in started.items():
            wait_healthy(base, proc, logs[name])
        yield {name: base for name, (_, base) in started.items()}
    finally:
        for proc, _ in started.values():
            stop(proc)


def _on_both(servers: dict[str, str], check) -> None:
    """`check(base, name)` against every server at once, in threads; each server's failure is reported."""
    failures: dict[str, BaseException] = {}

    def run(name: str) -> None:
        try:
            check(servers[name], name)
        except BaseException as e:  # noqa: BLE001 - re-raised below, with the server's name
            failures[name] = e

    threads = [threading.Thread(target=run, args=(name,)) for name in servers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for name, e in failures.items():
        raise AssertionError(f"under {name}: {e!r}") from e


def _response(s: socket.socket) -> bytes:
    """One whole HTTP/1.1 response (headers and its Content-Length of body) read from a socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        assert chunk, f"the server closed the connection after {data[:200]!r}"
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = int(
        next(line.split(b":", 1)[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
    )
    while len(body) < length:
        body += s.recv(65536)
    return head + b"\r\n\r\n" + body


HEADERS = b"GET /health?slow=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
BODY = b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\nContent-Length: 200\r\n\r\nASK"


def _trickle(base: str, start: bytes) -> None:
    """SLOW connections send `start`, then a byte a second, while /health and /search are asked each
    second; then every slow connection must have been closed by the server (its read deadline)."""
    port = int(base.rsplit(":", 1)[1])
    slow = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(SLOW)]
    for s in slow:
        s.sendall(start)
    answers = []
    closed: set[int] = set()
    for _ in range(5):  # the 3 s deadline passes during these rounds
        for i, s in enumerate(slow):
            if i not in closed:
                try:
                    s.sendall(b" ")
                except OSError:  # the server closed it: the deadline worked
                    closed.add(i)
        health = requests.get(base + "/health", timeout=5)  # a liveness bound, not a timing assertion
        search = requests.get(base + "/gide/search", params={"q": "idr0003"}, timeout=5)
        answers.append((health.status_code, search.status_code, search.json()["hits"][0]["entry"]["identifier"]))
        time.sleep(1)
    assert answers == [(200, 200, "idr0003")] * 5
    for i, s in enumerate(slow):
        if i not in closed:
            s.settimeout(10)
            try:
                data = s.recv(1024)
            except OSError:
                data = b""
            assert data == b"" or data.startswith(b"HTTP/1.1 4"), data[:200]
            closed.add(i)
        s.close()
    assert len(closed) == SLOW


def test_clients_trickling_headers_are_cut_off_and_others_keep_being_served(servers):
    _on_both(servers, lambda base, _: _trickle(base, HEADERS))


def test_clients_trickling_bodies_are_cut_off_and_others_keep_being_served(servers):
    _on_both(servers, lambda base, _: _trickle(base, BODY))


def test_a_request_sent_whole_is_answered_in_spite_of_a_slow_start(servers):
    """The deadline counts from the request's first byte: a keep-alive connection idle between requests
    for less than the deadline is not cut, and a request that arrives whole within it is answered. Longer
    idle: waitress keeps the connection until its idle timeout (30 s); granian's header deadline also
    covers the wait for the next request, so it closes the connection cleanly (no partial answer), as
    servers close idle keep-alives (Apache after 5 s), and a new connection is answered."""
    _on_both(servers, _slow_start)


def _slow_start(base: str, name: str) -> None:
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        first = _response(s)
        time.sleep(1.5)  # idle for half the read deadline
        s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        second = _response(s)
        time.sleep(4)  # idle longer than the read deadline, shorter than waitress's idle timeout
        if name == "granian":
            assert s.recv(1024) == b""  # closed by the server, without a byte of an error answer
        else:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            assert _response(s).startswith(b"HTTP/1.1 200")
    assert first.startswith(b"HTTP/1.1 200") and second.startswith(b"HTTP/1.1 200")
    assert requests.get(base + "/health", timeout=5).status_code == 200


def test_bodies_over_the_bound_are_refused_before_they_are_read(servers):
    """A declared length over the bound is refused at once; a chunked body is cut when it passes it."""
    _on_both(servers, _over_the_bound)


def _over_the_bound(base: str, _name: str) -> None:
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(BODY.replace(b"Content-Length: 200", b"Content-Length: %d" % (8 << 20)))
        assert _response(s).startswith(b"HTTP/1.1 413")
    chunk = b" " * (64 << 10)
    head = BODY.replace(b"Content-Length: 200", b"Transfer-Encoding: chunked").removesuffix(b"ASK")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        try:
            s.sendall(head + b"6\r\nASK {}\r\n" + b"%x\r\n%s\r\n" % (len(chunk), chunk) * 20)
        except OSError:  # the server answered and closed while the rest was on its way
            pass
        assert _response(s).startswith(b"HTTP/1.1 413")


def test_paths_are_percent_decoded_alike(servers):
    """PATH_INFO is the decoded path under either server (PEP 3333: its bytes as latin-1)."""
    for base in servers.values():
        assert requests.get(base + "/%68ealth", timeout=10).status_code == 200
        assert requests.get(base + "/study/idr/%C3%A9%2Fx", timeout=10).status_code == 404
