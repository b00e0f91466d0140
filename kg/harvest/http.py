"""HTTP fetching for live harvests: retries with exponential backoff, Retry-After, conditional GET.

Retries are urllib3's `Retry` mounted on the requests session (connection errors, read timeouts and the
statuses in RETRY_STATUS, the server's Retry-After honoured but capped), so no retry loop is written here;
this module only turns the outcome into a Response or a FetchError that says what happened.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .. import __version__

USER_AGENT = f"gide-kg/{__version__} (+https://w3id.org/gide-kg)"
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class FetchError(RuntimeError):
    """A URL that could not be fetched after all retries."""


@dataclass
class Response:
    url: str
    status: int
    content: bytes
    etag: str | None
    not_modified: bool = False


class CappedRetry(Retry):
    """urllib3's Retry with the server's Retry-After capped at `max_wait` seconds: a server asking for an
    hour must not stall a harvest for an hour (it counts as an attempt and the next one follows)."""

    max_wait = 30.0

    def get_retry_after(self, response) -> float | None:
        wait = super().get_retry_after(response)
        return None if wait is None else min(wait, self.max_wait)

    def new(self, **kw) -> CappedRetry:
        retry = super().new(**kw)
        retry.max_wait = self.max_wait
        return retry


class Fetcher:
    """GET with retries: `retries` more attempts after the first, waits growing from `backoff` seconds
    (capped at `max_wait`), each attempt bounded by `timeout` seconds."""

    def __init__(self, retries: int = 4, backoff: float = 0.5, timeout: float = 20.0, max_wait: float = 30.0):
        self.retries, self.timeout = retries, timeout
        retry = CappedRetry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            other=0,
            redirect=5,
            backoff_factor=backoff,
            backoff_max=max_wait,
            status_forcelist=RETRY_STATUS,
            allowed_methods=frozenset({"GET", "HEAD"}),
            respect_retry_after_header=True,
            raise_on_status=False,
        )  # the last answer comes back; its status is reported
        retry.max_wait = max_wait
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def get(self, url: str, etag: str | None = None, accept: str | None = None) -> Response:
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if accept:
            headers["Accept"] = accept
        attempts = f"gave up after {self.retries + 1} attempts"
        try:
            r = self.session.get(url, headers=headers, timeout=self.timeout)
        except requests.RequestException as e:
            raise FetchError(f"{url}: {attempts} ({_cause(e)})") from e
        if r.status_code == 304:
            return Response(url, 304, b"", etag, not_modified=True)
        if r.status_code in RETRY_STATUS:
            raise FetchError(f"{url}: {attempts} (HTTP {r.status_code})")
        if r.status_code >= 400:
            raise FetchError(f"{url}: HTTP {r.status_code}")
        return Response(url, r.status_code, r.content, r.headers.get("ETag"))


def _cause(e: requests.RequestException) -> str:
    """The last attempt's failure (e.g. "ReadTimeoutError: … Read timed out"), not urllib3's wrapper."""
    reason = getattr(e.args[0], "reason", None) if e.args else None
    err = reason or e
    return f"{type(err).__name__}: {err}"
