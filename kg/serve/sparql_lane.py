"""GET /sparql on granian's event loop: a query waits for its worker process as a coroutine, not a thread.

A small lookup that missed the cache cost ~0.5 ms of the serving process's CPU, most of it in hand-offs:
to a pool thread, the thread waiting on the worker's pipe, the answer back to the loop, each step taking
the GIL from another thread (py-spy; CPU seconds per request from /proc). Here the loop prepares the query
itself (`sparql.prepare`: the same guards, dataset and formats); a lookup (one triple pattern, bounded:
`sparql.lookup`) it answers from the store at once, any other query it sends to a worker, awaiting the
worker's pipe (`QueryWorkers.run_async`: the same admission, time limit and errors; the first such query
starts the workers in a thread). The outcome then goes through the app's WSGI chain on the loop, where
nothing waits any more: the response cache stores it, the common headers are added, the fast path answers
a result, the view an error. A request for the query page still goes to a thread, its outcome evaluated."""

from __future__ import annotations

import asyncio

from .sparql import OUTCOME_KEY, Outcome, answered, lookup, prepare, refused
from .sparql_fast import asks_results
from .workers import QueryBusy, QueryCrashed, QueryTimeout


class SparqlLane:
    """The lane of a Flask app whose /sparql queries run in query workers (`KG_QUERY_WORKERS`)."""

    def __init__(self, app, slots: int = 8):
        self.app = app
        self.workers = app.config["KG_QUERY_WORKERS"]
        # as many queries in evaluation at once as a pool of `slots` threads would hold, the rest waiting
        # their turn in order: the workers' admission (and its 503s) sees what it saw with threads
        self.slots = asyncio.Semaphore(slots)

    def accepts(self, environ: dict) -> bool:
        """The requests `SparqlFastPath` answers (`GET /sparql?query=…`)."""
        return asks_results(environ)

    async def evaluate(self, environ: dict) -> bool:
        """Evaluate the request into `environ[OUTCOME_KEY]` (an outcome, or the exception it raised);
        True when what is left of the answer may run on the loop (no template to render)."""
        app = self.app
        try:
            step = prepare(app.request_class(environ), app.config)
            if isinstance(step, Outcome):
                environ[OUTCOME_KEY] = step
                return not step.page
            outcome = lookup(step, app.config, app.logger)  # a lookup, on the loop: bounded, no worker
            if outcome is not None:
                environ[OUTCOME_KEY] = outcome
                return True
            if not self.workers.started:  # the first query for a worker: they start in a thread, once
                await asyncio.get_running_loop().run_in_executor(None, self.workers.start)
            async with self.slots:
                try:
                    environ[OUTCOME_KEY] = answered(await self.workers.run_async(step.job))
                except (QueryBusy, QueryTimeout, QueryCrashed) as e:
                    environ[OUTCOME_KEY] = refused(e, app.config)
        except Exception as e:  # noqa: BLE001 - the view raises it again, inside the app's error handling
            environ[OUTCOME_KEY] = e
            return False
        return True
