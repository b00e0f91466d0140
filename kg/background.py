"""The harvest's follow-up (SHACL validation, dumps) run in a thread of the serving process.

`kg up` on an empty store serves as soon as the source graphs, links, closure and grounding are in:
those are what searches and pages read. Validation and dumps read the graph but change nothing that the
indexes read (validation writes only the validation graph), so they run afterwards, beside the server,
through the same store handle (the embedded store's RocksDB lock allows one writing process). Their state
is what /health, /quality and /downloads report while they run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

PENDING, RUNNING, DONE, SKIPPED, FAILED = "pending", "running", "done", "skipped", "failed"
NOTES = {  # what a page says while a step has not finished
    ("validation", PENDING): "SHACL validation has not started yet; findings follow",
    ("validation", RUNNING): "validation running… SHACL findings appear here when it has finished",
    ("dumps", PENDING): "dumps pending: they are written after validation",
    ("dumps", RUNNING): "dumps being written…",
}


class BackgroundFollowUp:
    """Runs `pipeline.follow_up` once, in a daemon thread; `state()` says where each step is."""

    def __init__(self, store, sources: dict, summary, options, on_step: Callable | None = None):
        from .pipeline import HarvestOptions

        self.store, self.sources, self.summary = store, sources, summary
        self.options: HarvestOptions = options
        self.on_step = on_step
        work = summary.changed
        self._state = {
            "validation": PENDING if work and options.validate else SKIPPED,
            "dumps": PENDING if work and options.dumps is not None else SKIPPED,
        }
        self.errors: dict[str, str] = {}
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="kg-follow-up", daemon=True)
        self._answered = threading.Event()  # set once the server has answered a request (see `attach`)
        self.grace = 0.0  # seconds the follow-up waits for that first answer before it starts anyway
        self.workers = None  # the served app's /sparql query workers (`attach`)

    def attach(self, app, grace: float = 15.0) -> BackgroundFollowUp:
        """Report on `app` (/health, /quality, /downloads) and start once it has answered its first request
        (or after `grace` s): on two cores, validation beside the first search would slow that search."""
        app.config["KG_BACKGROUND"] = self
        self.grace = grace
        self.workers = app.config.get("KG_QUERY_WORKERS")  # renewed once validation has written its graph

        @app.after_request
        def answered(resp):
            self._answered.set()
            return resp

        return self.start()

    def start(self) -> BackgroundFollowUp:
        """Start the follow-up (once; later calls only return it)."""
        with self._lock:
            if self._thread.ident is None:
                self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the follow-up; True when it has finished."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def state(self) -> dict[str, str]:
        with self._lock:
            return dict(self._state)

    @property
    def epoch(self) -> int:
        """Steps finished so far: page caches keyed by the harvest generation add it (validation changes
        the validation graph, and so /quality and VoID, without a new harvest run)."""
        return sum(1 for v in self.state().values() if v in (DONE, FAILED))

    @property
    def finished(self) -> bool:
        return all(v in (DONE, SKIPPED, FAILED) for v in self.state().values())

    def note(self, step: str) -> str:
        """A sentence for a page about `step` while it has not finished (empty once it has)."""
        status = self.state().get(step, DONE)
        if status == FAILED:
            return f"{step} failed: {self.errors.get(step, 'see the server log')}"
        return NOTES.get((step, status), "")

    def _set(self, step: str, status: str) -> None:
        with self._lock:
            if step in self._state:
                self._state[step] = status

    def _begin(self, step: str) -> None:
        self._set(step, RUNNING)

    def _end(self, step: str, summary) -> None:
        if step == "validation" and self.workers is not None:
            self.workers.renew()  # /sparql's workers see the store as they opened it: the findings are new
        self._set(step, DONE)
        if self.on_step is not None:
            self.on_step(step, summary)

    def _run(self) -> None:
        from .pipeline import follow_up

        if self.grace:
            self._answered.wait(self.grace)
        try:
            follow_up(self.store, self.sources, self.summary, self.options, on_step=self._end, on_begin=self._begin)
        except Exception as e:  # reported on /health; the graph already served stays as it is
            log.exception("the harvest follow-up failed")
            with self._lock:
                for step, status in self._state.items():
                    if status in (PENDING, RUNNING):
                        self._state[step] = FAILED
                        self.errors[step] = f"{type(e).__name__}: {e}"
