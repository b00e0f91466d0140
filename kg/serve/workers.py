"""Query worker processes: a time limit, a memory cap, no network, and a bounded queue in front of them.

pyoxigraph cannot stop a running query from another thread, so each query of the public endpoint runs in
one of a few worker processes holding a read-only handle on the on-disk store. A query that outlives the
time limit gets its worker killed (and replaced) and a 503; a worker that dies (stack overflow, memory cap)
is reported as a crash, not a time-out. Each worker caps its address space (RLIMIT_AS) and, unless SERVICE
federation is allow-listed, moves into a network namespace of its own (Linux, root or CAP_SYS_ADMIN), so a
query that slipped past the SERVICE check still cannot open a connection.

Waiting for a worker holds a server thread, so at most `size + queue` queries are admitted at once and a
queued one waits at most `queue_wait` seconds; the rest are refused at once with 503 + Retry-After and the
threads stay free for pages. While answers are flowing (a worker answered within the last `burst_wait`
seconds, as with many small lookups, or the workers were all idle until less than `burst_wait` ago), up to
`burst` more may wait, each at most `burst_wait` seconds: a burst of quick queries queues instead of being
refused, while runaway queries (no answer for that long) still leave only `size + queue` threads waiting.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import math
import multiprocessing as mp
import queue
import select
import signal
import threading
import time
import weakref
from collections import deque
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

CLONE_NEWNET = 0x40000000
DEFAULT_MEMORY_MB = 2048


class QueryTimeout(TimeoutError):
    pass


class QueryBusy(QueryTimeout):
    """Every worker is busy and the queue is full (or stayed full): try again after `retry_after` s."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class QueryCrashed(RuntimeError):
    pass


def isolate_network() -> str | None:
    """Move this process into a new, empty network namespace (only a down loopback); the reason if not."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(CLONE_NEWNET) != 0:
            import os

            return os.strerror(ctypes.get_errno())
    except (OSError, AttributeError) as e:  # not Linux / no libc unshare
        return str(e)
    return None


def _cap_memory(megabytes: int | None) -> None:
    if megabytes:
        import resource

        limit = megabytes << 20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _worker(path: str, conn, no_network: bool, memory_mb: int | None) -> None:
    from ..store.oxigraph_store import OxigraphStore
    from .sparql_results import render

    problem = isolate_network() if no_network else None
    store = OxigraphStore(path, read_only=True)
    _cap_memory(memory_mb)  # after opening the store: the cap bounds what queries allocate
    conn.send(("ready", problem))
    while True:
        job = conn.recv()
        if job is None:
            return
        query, accept, words, default_graph, named_graphs, cap = job
        try:
            result = store.query(query, default_graph=default_graph, named_graphs=named_graphs)
            conn.send(render(result, accept, words, cap))
        except SyntaxError as e:
            conn.send(("400", f"SPARQL syntax error: {e}", None, False))
        except MemoryError:
            conn.send(("500", f"the query needed more than the worker memory limit of {memory_mb} MiB", None, False))
        except (ValueError, OSError, RuntimeError) as e:
            # never echo: the message of a failed SERVICE call can hold the body of whatever it fetched
            conn.send(("500", "query evaluation failed: " + _safe_message(e), None, False))


def _poller(conn) -> select.poll:
    """A poll object that wakes when `conn` has an answer or its worker is gone (cheaper than conn.poll,
    which builds a selector on every call)."""
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN)
    return poller


def _safe_message(e: Exception) -> str:
    """An evaluation error's kind without its text (which may quote a fetched document)."""
    return f"{type(e).__name__}; the details are not shown"


class QueryWorkers:
    def __init__(
        self,
        store_path: str | Path,
        size: int = 2,
        timeout: float | None = 10.0,
        memory_mb: int | None = DEFAULT_MEMORY_MB,
        queue_length: int | None = None,
        queue_wait: float | None = None,
        no_network: bool = True,
        burst: int | None = None,
        burst_wait: float = 0.5,
    ):
        self.path, self.size, self.timeout, self.memory_mb = str(store_path), size, timeout or None, memory_mb or None
        self.queue_length = size if queue_length is None else queue_length
        self.queue_wait = queue_wait if queue_wait is not None else min(self.timeout or 5.0, 5.0)
        self.burst = 4 * size if burst is None else burst
        self.burst_wait = min(burst_wait, self.queue_wait)
        self.no_network = no_network
        self._ctx = mp.get_context("spawn")
        self._idle: queue.Queue = queue.Queue()
        self._waiters: deque = deque()  # (future, its loop's thread) of coroutines waiting for a worker
        self._handing = threading.RLock()  # a returned worker goes to one waiter or to the idle queue
        self._waiting = 0  # queries admitted and not yet answered
        self._last_answer = float("-inf")  # time.monotonic() of the last answer a worker gave
        self._busy_since = float("-inf")  # when the first of the queries admitted now was admitted
        self._admission = threading.Lock()
        self._lock = threading.Lock()
        self._started = False
        self._closed = False
        self._procs: weakref.WeakSet = weakref.WeakSet()  # every live worker, idle or busy (for `close`)
        self._epoch = 0  # `renew`s so far: a worker opened before the last one sees an older store
        self.isolation_problem: str | None = None

    @property
    def retry_after(self) -> int:
        return max(1, math.ceil(self.timeout or self.queue_wait or 1))

    def _spawn(self):
        """A new worker: (process, connection, a poll object on the connection made once, not per query)."""
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(target=_worker, args=(self.path, child, self.no_network, self.memory_mb), daemon=True)
        proc.kg_epoch = self._epoch  # the store as of now is what its read-only handle will see
        proc.start()
        self._procs.add(proc)
        child.close()
        weakref.finalize(self, proc.kill)  # an app that goes away (tests, embedding) takes its workers along
        try:
            _, problem = parent.recv() if parent.poll(60) else ("", "no answer")
        except EOFError:  # the store could not be opened: the first query reports the crash
            log.error("a query worker exited while starting (exit status %s)", proc.exitcode)
            return proc, parent, _poller(parent)
        if problem and self.no_network and self.isolation_problem is None:
            log.warning(
                "query workers keep network access (no network namespace: %s); only the SERVICE check guards", problem
            )
        self.isolation_problem = problem if self.no_network else None
        return proc, parent, _poller(parent)

    def start(self) -> None:
        """Start the workers unless they run (blocks until each has opened the store)."""
        with self._lock:
            if not self._started:
                for _ in range(self.size):
                    self._idle.put(self._spawn())
                self._started = True

    def run(
        self,
        query: str,
        accept: str | None,
        words: list[str] | None,
        default_graph=None,
        named_graphs=None,
        cap: int | None = None,
    ):
        """(status, body or message, content type, truncated). Raises QueryBusy when the queue is full,
        QueryTimeout after `timeout` seconds, QueryCrashed when the worker died."""
        with self._admitted() as wait:
            return self._run((query, accept, words, default_graph, named_graphs, cap), wait)

    @contextmanager
    def _admitted(self):
        """A place among the admitted queries for the block (`_admit`), given up when it ends."""
        wait = self._admit()
        try:
            yield wait
        finally:
            with self._admission:
                self._waiting -= 1

    def _admit(self) -> float:
        """Take a place among the admitted queries: how long it may wait for a worker (QueryBusy if none)."""
        with self._admission:
            now = time.monotonic()
            if self._waiting == 0:
                self._busy_since = now
            if self._waiting < self.size + self.queue_length:
                wait = self.queue_wait
            elif (
                self._waiting < self.size + self.queue_length + self.burst
                and now - max(self._last_answer, self._busy_since) < self.burst_wait
            ):
                wait = self.burst_wait  # answers are flowing: a short wait, not a refusal
            else:
                raise QueryBusy(
                    f"all {self.size} query workers are busy and {self.queue_length} queries are waiting; try again later",
                    self.retry_after,
                )
            self._waiting += 1
            return wait

    def _run(self, job, wait: float):
        self.start()
        try:
            worker = self._idle.get(timeout=wait)
        except queue.Empty:
            raise self._busy(wait) from None
        proc, conn, _ = worker
        try:
            conn.send(job)
        except OSError:
            raise self._retire(proc, True, self._refill) from None
        answer = self._answer_of(worker)
        self._last_answer = time.monotonic()
        return answer

    def _answer_of(self, worker):
        """Wait in this thread for `worker`'s answer: the worker goes back to the pool and the answer is
        returned; or the worker is replaced (past the time limit, or it died) and why is raised."""
        proc, conn, poller = worker
        try:
            if poller.poll(None if self.timeout is None else math.ceil(self.timeout * 1000)):
                answer = conn.recv()  # the answer, or EOFError when the worker died
                self._give_back(worker)
                return answer
            crashed = False
        except (EOFError, OSError):
            crashed = True
        raise self._retire(proc, crashed, self._refill)

    @property
    def started(self) -> bool:
        """Whether the workers run (they start with the first query, which may wait for them)."""
        return self._started

    async def run_async(self, job: tuple):
        """`run` for a coroutine on an event loop: waiting for a worker and for its answer costs no thread
        (the answer wakes the loop through its pipe), with the same admission, time limit and errors.
        Only after `start`, which blocks."""
        with self._admitted() as wait:
            return await self._run_async(job, wait)

    async def _run_async(self, job: tuple, wait: float):
        loop = asyncio.get_running_loop()
        with self._handing:  # as `_give_back` decides: a worker it puts in the queue meanwhile is seen here
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                worker, waiter = None, loop.create_future()
                self._waiters.append((waiter, threading.get_ident()))
        if worker is None:
            timer = loop.call_later(wait, _settle, waiter, None)
            try:
                worker = await waiter
            finally:
                timer.cancel()
            if worker is None:
                raise self._busy(wait) from None
        proc, conn, _ = worker
        try:
            conn.send(job)
        except OSError:
            raise self._retire(proc, True, self._refill_later) from None
        ready = loop.create_future()
        loop.add_reader(conn.fileno(), _settle, ready, True)
        timer = loop.call_later(self.timeout, _settle, ready, False) if self.timeout is not None else None
        try:
            answered = await ready
        except BaseException:  # the request went away (cancelled) while the query runs
            threading.Thread(target=self._collect, args=(worker,), daemon=True).start()
            raise
        finally:
            loop.remove_reader(conn.fileno())
            if timer is not None:
                timer.cancel()
        if answered:
            try:
                answer = conn.recv()
            except (EOFError, OSError):
                raise self._retire(proc, True, self._refill_later) from None
            self._last_answer = time.monotonic()
            self._give_back(worker)
            return answer
        raise self._retire(proc, False, self._refill_later)

    def _busy(self, wait: float) -> QueryBusy:
        return QueryBusy(f"all {self.size} query workers stayed busy for {wait:g} s; try again later", self.retry_after)

    def renew(self) -> None:
        """The store was written since the workers opened it (`kg up`'s validation writes its graph while the
        server answers), and a read-only handle sees the store as it was when opened: each worker is
        replaced by a fresh one, an idle one now, a busy one once its query is answered (`_give_back`)."""
        with self._lock:
            self._epoch += 1
        while True:
            try:
                proc, _, _ = self._idle.get_nowait()
            except queue.Empty:
                return
            self._retire(proc, False, self._refill_later)

    def _give_back(self, worker) -> None:
        """A worker is free: to the longest-waiting coroutine still waiting, else to the idle queue (where
        threads wait); one opened before the last `renew` is replaced instead."""
        if worker[0].kg_epoch < self._epoch and not self._closed:
            self._retire(worker[0], False, self._refill_later)
            return
        with self._handing:
            while self._waiters:
                waiter, thread = self._waiters.popleft()
                if waiter.done():  # it stopped waiting
                    continue
                if thread == threading.get_ident():
                    self._hand(waiter, worker)
                else:
                    waiter.get_loop().call_soon_threadsafe(self._hand, waiter, worker)
                return
            self._idle.put(worker)

    def _hand(self, waiter: asyncio.Future, worker) -> None:
        if waiter.done():  # it gave up meanwhile: the next one
            self._give_back(worker)
        else:
            waiter.set_result(worker)

    def _collect(self, worker) -> None:
        """A thread that takes the answer nobody waits for any more, then frees the worker (or replaces it
        at the time limit)."""
        try:
            self._answer_of(worker)
        except (QueryTimeout, QueryCrashed):  # the worker was replaced
            pass

    def _retire(self, proc, crashed: bool, refill) -> QueryTimeout | QueryCrashed:
        """Kill a worker whose query is still running (or that died), have `refill` replace it, and say why."""
        proc.kill()
        proc.join(5)
        self._procs.discard(proc)
        if not self._closed:
            refill()
        if crashed:
            code = proc.exitcode
            how = f"killed by {signal.Signals(-code).name}" if code is not None and code < 0 else f"exit status {code}"
            return QueryCrashed(
                f"the query worker crashed ({how}: a stack overflow, an internal error of the query engine, or more memory than the limit of "
                f"{self.memory_mb} MiB); it was replaced"
            )
        return QueryTimeout(f"the query ran longer than the time limit of {self.timeout:g} s and was stopped")

    def _refill(self) -> None:
        self._give_back(self._spawn())

    def _refill_later(self) -> None:
        """`_refill` in a thread: starting a worker takes a while, and the event loop must not wait for it."""
        threading.Thread(target=self._refill, daemon=True).start()

    def close(self) -> None:
        """Stop every worker, busy ones included (their queries are answered as crashed)."""
        self._closed = True
        for proc in list(self._procs):
            proc.kill()
        while not self._idle.empty():
            self._idle.get_nowait()


def _settle(future: asyncio.Future, value) -> None:
    if not future.done():
        future.set_result(value)
