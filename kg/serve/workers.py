"""Query time limits: SPARQL queries run in worker processes that are killed at the limit.

pyoxigraph has no per-query timeout in Python and a running query cannot be interrupted from another
thread, so each query of the public endpoint runs in one of a few worker processes holding a read-only
handle on the on-disk store; a query that outlives the limit gets its worker killed (and replaced) and
the client a 503 with a clear message, while the other workers keep serving. For an in-memory store
(tests, embedding) queries run in-process without a limit.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import threading
from pathlib import Path


class QueryTimeout(TimeoutError):
    pass


def _worker(path: str, conn) -> None:
    from ..store.oxigraph_store import OxigraphStore
    from .sparql_results import render

    store = OxigraphStore(path, read_only=True)
    while True:
        job = conn.recv()
        if job is None:
            return
        query, accept, fmt, default_graph, named_graphs, cap = job
        try:
            result = store.query(query, default_graph=default_graph or None, named_graphs=named_graphs or None)
            conn.send(render(result, accept, fmt, cap))
        except SyntaxError as e:
            conn.send(("400", f"SPARQL syntax error: {e}", None, False))
        except (ValueError, OSError) as e:
            conn.send(("500", f"query evaluation failed: {e}", None, False))


class QueryWorkers:
    def __init__(self, store_path: str | Path, size: int = 2, timeout: float = 10.0):
        self.path, self.size, self.timeout = str(store_path), size, timeout
        self._ctx = mp.get_context("spawn")
        self._idle: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._started = False

    def _spawn(self):
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(target=_worker, args=(self.path, child), daemon=True)
        proc.start()
        return proc, parent

    def _ensure(self) -> None:
        with self._lock:
            if not self._started:
                for _ in range(self.size):
                    self._idle.put(self._spawn())
                self._started = True

    def run(self, query: str, accept: str | None, fmt: str | None, default_graph=None, named_graphs=None, cap: int | None = None):
        """(status, body or message, content type, truncated); raises QueryTimeout after `timeout` seconds."""
        self._ensure()
        try:
            proc, conn = self._idle.get(timeout=self.timeout)
        except queue.Empty:
            raise QueryTimeout(f"all {self.size} query workers stayed busy for {self.timeout:g} s; try again") from None
        try:
            conn.send((query, accept, fmt, default_graph, named_graphs, cap))
            if conn.poll(self.timeout):
                answer = conn.recv()
                self._idle.put((proc, conn))
                return answer
        except (EOFError, OSError, BrokenPipeError):
            pass
        proc.kill()  # the query is still running (or the worker died): replace the worker
        proc.join(5)
        self._idle.put(self._spawn())
        raise QueryTimeout(f"the query ran longer than the time limit of {self.timeout:g} s and was stopped")

    def close(self) -> None:
        while not self._idle.empty():
            proc, conn = self._idle.get_nowait()
            proc.kill()
