"""HTTP fetching for live harvests: retries with exponential backoff, Retry-After, conditional GET."""

from __future__ import annotations

import time
from dataclasses import dataclass

import requests

from .. import __version__

USER_AGENT = f"gide-kg/{__version__} (+https://w3id.org/gide-kg)"
RETRY_STATUS = {429, 500, 502, 503, 504}


class FetchError(RuntimeError):
    """A URL that could not be fetched after all retries."""


@dataclass
class Response:
    url: str
    status: int
    content: bytes
    etag: str | None
    not_modified: bool = False


class Fetcher:
    def __init__(self, retries: int = 4, backoff: float = 0.5, timeout: float = 20.0, max_wait: float = 30.0):
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.retries, self.backoff, self.timeout, self.max_wait = retries, backoff, timeout, max_wait
        self.requests_made = 0

    def get(self, url: str, etag: str | None = None, accept: str | None = None) -> Response:
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if accept:
            headers["Accept"] = accept
        last = "no attempt"
        wait = 0.0  # before the next attempt: exponential backoff, or the server's Retry-After
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(min(self.max_wait, wait))
            wait = self.backoff * (2**attempt)
            try:
                self.requests_made += 1
                r = self.session.get(url, headers=headers, timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout) as e:
                last = f"{type(e).__name__}: {e}"
                continue
            if r.status_code == 304:
                return Response(url, 304, b"", etag, not_modified=True)
            if r.status_code in RETRY_STATUS:
                last = f"HTTP {r.status_code}"
                ra = r.headers.get("Retry-After", "")
                if ra.isdigit():
                    wait = float(ra)
                continue
            if r.status_code >= 400:
                raise FetchError(f"{url}: HTTP {r.status_code}")
            return Response(url, r.status_code, r.content, r.headers.get("ETag"))
        raise FetchError(f"{url}: gave up after {self.retries + 1} attempts ({last})")
