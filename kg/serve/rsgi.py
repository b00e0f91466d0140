"""A WSGI app served through granian's RSGI interface, with the request body read before a thread sees it.

granian's own WSGI interface hands the app a request whose body is still arriving, so a client trickling
a body holds one of the Python threads (120 of them stopped the server, measured). Here granian's event
loop reads the whole body first — within `read_timeout` seconds and at most `max_body` bytes, else 408 /
413 and the connection closes — and only then runs the WSGI app in a bounded thread pool. A slow body
costs a coroutine, never a thread; headers are bounded by granian itself (`header_read_timeout`) and
responses are written by granian (Rust), so a client that reads slowly holds no thread either. A file
the app answers with (`send_file`: dumps) goes out by granian's file response, without a thread.
"""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

STATUS_TEXT = {408: "Request Timeout", 413: "Content Too Large", 400: "Bad Request"}


class FileWrapper:
    """`wsgi.file_wrapper`: remembers the file so that granian can send it by its path."""

    def __init__(self, file, block_size: int = 8192):
        self.file, self.block_size = file, block_size

    def __iter__(self):
        while chunk := self.file.read(self.block_size):
            yield chunk

    def close(self) -> None:
        self.file.close()


class _TooLarge(Exception):
    pass


class BufferedWSGI:
    """An RSGI application running `wsgi_app` (see the module docstring)."""

    def __init__(
        self,
        wsgi_app: Callable,
        threads: int = 8,
        read_timeout: float = 10.0,
        max_body: int = 1 << 20,
        cached: Callable[[dict], tuple[str, list, bytes] | None] | None = None,
        lane=None,
    ):
        self.wsgi_app, self.read_timeout, self.max_body, self.cached = wsgi_app, read_timeout, max_body, cached
        self.lane = lane  # evaluates the requests it accepts on the loop (sparql_lane.py); None: none
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="kg-request")

    def __rsgi_del__(self, loop) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    async def __rsgi__(self, scope, protocol) -> None:
        if scope.proto != "http":  # websockets: not served
            return
        headers = scope.headers
        length = headers.get("content-length")
        body = b""
        if length is not None or "transfer-encoding" in headers:
            if length is not None and (not length.isdigit() or int(length) > self.max_body):
                status = 413 if length.isdigit() else 400
                return _refuse(protocol, status, f"the request body is larger than {self.max_body} bytes")
            try:
                body = await asyncio.wait_for(self._read(protocol), self.read_timeout)
            except TimeoutError:
                return _refuse(protocol, 408, f"the request body did not arrive within {self.read_timeout:g} s")
            except _TooLarge:
                return _refuse(protocol, 413, f"the request body is larger than {self.max_body} bytes")
            except Exception:  # noqa: BLE001 - the client went away or sent a broken body
                return _refuse(protocol, 400, "the request body could not be read")
        environ = wsgi_environ(scope, body)
        if self.cached is not None and (entry := self.cached(environ)) is not None:
            # a stored answer: no thread hand-off (each costs as much as the look-up, measured)
            return protocol.response_bytes(int(entry[0][:3]), entry[1], entry[2])
        if self.lane is not None and self.lane.accepts(environ) and await self.lane.evaluate(environ):
            return _respond(protocol, self._call(environ))  # evaluated: the rest of the app waits for nothing
        answer = asyncio.get_running_loop().create_future()
        self.pool.submit(self._call_into, environ, answer)
        _respond(protocol, await answer)

    async def _read(self, protocol) -> bytes:
        chunks, size = [], 0
        async for chunk in protocol:
            size += len(chunk)
            if size > self.max_body:
                raise _TooLarge
            chunks.append(chunk)
        return b"".join(chunks)

    def _call_into(self, environ: dict, answer: asyncio.Future) -> None:
        """`_call` in a pool thread, its outcome handed to the loop's future in one call_soon_threadsafe
        (run_in_executor chains a second future through three more callbacks: ~8 % of the GIL time per
        uncached lookup, py-spy)."""
        try:
            outcome, failed = self._call(environ), False
        except BaseException as e:  # noqa: BLE001 - raised again on the loop, where the request is awaited
            outcome, failed = e, True
        answer.get_loop().call_soon_threadsafe(_settle, answer, outcome, failed)

    def _call(self, environ: dict) -> tuple[int, list[tuple[str, str]], bytes | str]:
        """Run the WSGI app in a pool thread: (status, headers, the body, or the path of a file to send)."""
        started: list = []

        def start_response(status: str, headers: list, exc_info=None):
            if exc_info and started:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [int(status[:3]), headers]
            return written.append

        written: list[bytes] = []
        result: Iterable[bytes] = self.wsgi_app(environ, start_response)
        try:
            if type(result) is FileWrapper and isinstance(getattr(result.file, "name", None), str) and not written:
                return started[0], started[1], result.file.name
            if type(result) is list and len(result) == 1 and not written:
                return started[0], started[1], result[0]
            written.extend(result)
            return started[0], started[1], b"".join(written)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()


def _respond(protocol, answer: tuple[int, list, bytes | str]) -> None:
    status, headers, result = answer
    if isinstance(result, str):
        protocol.response_file(status, headers, result)
    else:
        protocol.response_bytes(status, headers, result)


def _settle(answer: asyncio.Future, outcome, failed: bool) -> None:
    if answer.cancelled():  # the request went away meanwhile
        return
    if failed:
        answer.set_exception(outcome)
    else:
        answer.set_result(outcome)


def _refuse(protocol, status: int, message: str) -> None:
    body = f"{status} {STATUS_TEXT[status]}: {message}\n".encode()
    protocol.response_bytes(status, [("content-type", "text/plain; charset=utf-8"), ("connection", "close")], body)


def wsgi_environ(scope, body: bytes) -> dict:
    """The PEP 3333 environ of an RSGI request scope and its whole body."""
    server_host, _, server_port = scope.server.rpartition(":")
    client_host, _, client_port = scope.client.rpartition(":")
    environ = {
        "REQUEST_METHOD": scope.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": scope.path.encode().decode("latin-1"),  # granian decoded it; PEP 3333 wants bytes as latin-1
        "QUERY_STRING": scope.query_string,
        "SERVER_NAME": server_host.strip("[]"),
        "SERVER_PORT": server_port,
        "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
        "REMOTE_ADDR": client_host.strip("[]"),
        "REMOTE_PORT": client_port,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.file_wrapper": FileWrapper,
    }
    for key, value in scope.headers.items():
        if "_" in key:  # as waitress: X_Forwarded_For must not pass for X-Forwarded-For
            continue
        if key == "content-type":
            environ["CONTENT_TYPE"] = value
            continue
        if key == "content-length":
            environ["CONTENT_LENGTH"] = value
            continue
        name = "HTTP_" + key.upper().replace("-", "_")
        environ[name] = f"{environ[name]},{value}" if name in environ else value
    if "HTTP_HOST" not in environ and scope.authority:
        environ["HTTP_HOST"] = scope.authority
    return environ
