"""/sparql results without Flask's per-request machinery, for the requests that dominate a public endpoint.

A small lookup costs ~0.1 ms in the query engine, but Flask's request context, routing and hooks cost
several times that in the serving process (profiled; half of waitress's requests/s on a trivial route).
This WSGI layer sits under the response cache, in front of the Flask app. For `GET /sparql?query=…` it
builds a werkzeug request and runs the view's own `evaluate` (guards, dataset, formats, worker process,
limits), and answers a result itself with the view's headers (`result_headers`; the app adds its common
headers around both). An app with `after_request` hooks (`kg up` has one) gets a werkzeug response
passed through them (so they must not need a request context). Everything else goes to Flask:
other methods and paths, the query page, the service description, and every error — with its outcome
already evaluated (sparql.OUTCOME_KEY), so a query never runs twice and error bodies and handlers stay
the app's. Under granian the outcome usually arrives evaluated already, by the event loop's lane
(sparql_lane.py), in the same environ key.
"""

from __future__ import annotations

from werkzeug.wrappers import Response

from .sparql import OUTCOME_KEY, evaluate, result_headers


def asks_results(environ: dict) -> bool:
    """`GET /sparql?query=…`: the requests this path answers (and the event loop's lane evaluates)."""
    return (
        environ.get("REQUEST_METHOD") == "GET"
        and environ.get("PATH_INFO") == "/sparql"
        and "query=" in environ.get("QUERY_STRING", "")
    )


class SparqlFastPath:
    """WSGI middleware around the Flask app's `wsgi_app` (see the module docstring)."""

    def __init__(self, wsgi_app, app):
        self.next = wsgi_app  # the Flask app's own request handling
        self.app = app

    def __call__(self, environ, start_response):
        if not asks_results(environ):
            return self.next(environ, start_response)
        app = self.app
        outcome = environ.pop(OUTCOME_KEY, None)  # evaluated on the event loop already (sparql_lane.py)
        if outcome is None:
            try:
                outcome = evaluate(app.request_class(environ), app.config, app.logger)
            except Exception as e:  # noqa: BLE001 - the view raises it again, inside the app's error handling
                outcome = e
        if isinstance(outcome, BaseException) or outcome.page or outcome.status != 200:
            environ[OUTCOME_KEY] = outcome
            return self.next(environ, start_response)
        headers = result_headers(outcome.ctype, app.config.get("KG_RESULT_CAP"), outcome.cut)
        hooks = app.after_request_funcs.get(None)
        if not hooks:
            start_response("200 OK", [*headers, ("Content-Length", str(len(outcome.body)))])
            return [outcome.body]
        resp = Response(outcome.body, headers=headers)
        for hook in reversed(hooks):
            resp = hook(resp)
        return resp(environ, start_response)
