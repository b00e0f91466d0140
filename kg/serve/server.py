"""The HTTP server under `kg serve`: granian (the default) or waitress, with deadlines for slow clients.

granian (`serve_granian`): HTTP in Rust (hyper/tokio), about twice waitress's requests/s
(benchmarks/bench_mixed.py). The app runs behind kg/serve/rsgi.py, which reads a request's body on the
event loop — within `read_timeout` and at most `MAX_BODY`, else 408 / 413 — before a thread runs the app,
so a slowly sent body holds no Python thread (granian's own WSGI interface would hand it to one: 120 slow
bodies stopped it, measured). Headers must arrive within `read_timeout` (granian's `header_read_timeout`,
which also closes a keep-alive connection idle that long); answers are written by granian, so a client
that reads slowly holds no thread either. One process runs granian's embedded server in this process;
`processes > 1` runs granian's worker processes, each opening the store read-only (kg/serve/wsgi.py).

waitress (`serve`, `--server waitress`) reads every request in its event loop before a worker thread sees
it, so a slow client costs a socket, never a thread — but it holds one of `connection_limit` sockets for as
long as it keeps sending a byte now and then (its idle timeout restarts with every byte). Here:

- a request must arrive whole (headers and body) within `read_timeout` seconds of its first byte, else
  the connection is closed (checked every second in waitress's maintenance pass);
- a connection that sends nothing is closed after `idle_timeout`; a response the client will not read
  is dropped after the same time;
- `connection_limit` is raised far above the thread count (a waiting socket is cheap), bounded by the
  process's file-descriptor limit; request bodies beyond `MAX_BODY` are refused by waitress itself.

`processes > 1` forks that many waitress servers sharing one listening socket (the GIL caps one process);
each opens its own read-only handle on the store and starts from the indexes the parent built.
"""

from __future__ import annotations

import os
import resource
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher

MAX_BODY = (1 << 20) + (64 << 10)  # the app refuses SPARQL bodies over 1 MiB with its own 413


@dataclass
class Limits:
    """Connection limits of one server process (the defaults of `kg serve`)."""

    threads: int = 8
    read_timeout: float = 10.0  # a whole request, from its first byte
    idle_timeout: float = 30.0  # a connection without any traffic
    connection_limit: int = 1000


class DeadlineChannel(HTTPChannel):
    """A waitress channel that remembers when the request it is reading began."""

    reading_since: float | None = None

    def received(self, data: bytes) -> bool:
        if data and self.request is None:
            self.reading_since = time.time()
        result = super().received(data)
        if self.request is None:  # nothing partial left: every request that began has arrived whole
            self.reading_since = None
        return result


class DeadlineServer(TcpWSGIServer):
    """waitress's TCP server whose maintenance pass also closes connections that send too slowly."""

    channel_class = DeadlineChannel
    read_timeout = 10.0

    def maintenance(self, now: float) -> None:
        super().maintenance(now)
        cutoff = now - self.read_timeout
        for channel in list(self.active_channels.values()):
            since = getattr(channel, "reading_since", None)
            if since is not None and since < cutoff:
                channel.will_close = True


def _fd_bound(wanted: int) -> int:
    """At most `wanted` connections, leaving room for the store's files, raising the soft limit if allowed."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = wanted + 256
    if soft != resource.RLIM_INFINITY and soft < need:
        new = need if hard == resource.RLIM_INFINITY else min(need, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
            soft = new
        except (ValueError, OSError):
            pass
    return max(16, min(wanted, soft - 256)) if soft != resource.RLIM_INFINITY else wanted


def make_server(app, sock: socket.socket, limits: Limits | None = None) -> DeadlineServer:
    """A waitress server for `app` on a listening socket, with the limits applied."""
    lim = limits or Limits()
    adj = Adjustments(
        threads=lim.threads,
        channel_timeout=lim.idle_timeout,
        cleanup_interval=1,
        sockets=[sock],
        connection_limit=_fd_bound(lim.connection_limit),
        max_request_body_size=MAX_BODY,
        ident="kg",
        asyncore_use_poll=True,
    )
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adj.threads)
    server = DeadlineServer(
        app,
        {},
        True,
        sock,
        dispatcher=dispatcher,
        adj=adj,
        bind_socket=False,
        sockinfo=(sock.family, sock.type, sock.proto, sock.getsockname()),
    )
    server.read_timeout = lim.read_timeout
    return server


def listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    return sock


def _granian_options(limits: Limits) -> dict:
    """granian's settings for `limits`: the header deadline is the read deadline (it also closes a keep-alive
    connection idle that long), as many requests in flight as connections allowed, no websockets."""
    from granian.http import HTTP1Settings

    return {
        "backlog": 1024,
        "backpressure": _fd_bound(limits.connection_limit),
        "http1_settings": HTTP1Settings(header_read_timeout=max(1, int(limits.read_timeout * 1000))),
        "websockets": False,
        "log_access": False,
    }


def serve_granian(
    make_app: Callable[[], object],
    config: dict,
    host: str,
    port: int,
    limits: Limits | None = None,
    processes: int = 1,
) -> None:
    """Serve with granian through the RSGI adapter (kg/serve/rsgi.py). One process: granian's embedded
    server on this process's event loop, over `make_app()` (the store and indexes this process holds,
    `kg up`'s follow-up beside it). Several: granian's worker processes, each building its app from
    `config` (kg/serve/wsgi.py). Blocks until interrupted (SIGINT, SIGTERM)."""
    import asyncio
    import json

    from granian.constants import Interfaces

    from .wsgi import CONFIG_ENV, rsgi_app

    lim = limits or Limits()
    if processes <= 1:
        from granian.server.embed import Server

        app = rsgi_app(make_app(), threads=lim.threads, read_timeout=lim.read_timeout)
        server = Server(app, address=host, port=port, interface=Interfaces.RSGI, **_granian_options(lim))

        async def run() -> None:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, server.stop)
            await server.serve()

        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            runner.run(run())
        return
    from granian import Granian

    server_settings = {"threads": lim.threads, "read_timeout": lim.read_timeout}
    os.environ[CONFIG_ENV] = json.dumps({**config, "server": server_settings})
    Granian(
        "kg.serve.wsgi:make_rsgi_app",
        address=host,
        port=port,
        interface=Interfaces.RSGI,
        factory=True,
        workers=processes,
        respawn_failed_workers=True,
        **_granian_options(lim),
    ).serve()


def _loop_factory():
    """uvloop's event loop where it is installed (granian's worker processes choose it too): ~5 % more
    requests/s on /sparql lookups, ~12 % on stored answers (measured); else asyncio's own."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _exit_cleanly(signum, frame) -> None:
    raise SystemExit(0)


def serve(
    make_app: Callable[[], object], host: str, port: int, limits: Limits | None = None, processes: int = 1
) -> None:
    """Serve until interrupted. `make_app` is called in each serving process (after the fork), so each
    opens its own store handle; with one process it is called here."""
    sock = listen(host, port)
    if processes <= 1:
        # SIGTERM (systemd, docker stop, a test) shuts down like Ctrl-C, through the same clean-up
        signal.signal(signal.SIGTERM, _exit_cleanly)
        make_server(make_app(), sock=sock, limits=limits).run()
        return
    children: dict[int, int] = {}

    def spawn(slot: int) -> None:
        pid = os.fork()
        if pid == 0:  # a serving process: never returns
            code = 0
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                make_server(make_app(), sock=sock, limits=limits).run()
            except BaseException as e:  # noqa: BLE001 - reported, then the parent starts a new one
                print(f"kg serve: process {os.getpid()} stopped: {e!r}", file=sys.stderr)
                code = 1
            finally:
                os._exit(code)
        children[pid] = slot

    def stop(signum, frame):
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for slot in range(processes):
        spawn(slot)
    while True:  # keep `processes` serving: replace one that died
        pid, _ = os.wait()
        slot = children.pop(pid, None)
        if slot is not None:
            time.sleep(0.5)
            spawn(slot)
