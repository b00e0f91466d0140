"""Native RDF from a public SPARQL endpoint (SSBD's live path): one CONSTRUCT, kept as one Turtle record.

The query goes out as a SPARQL 1.1 Protocol GET through the harvest's Fetcher, the same requests stack
(with retries) as every other live download and as the remote store's client; see RemoteStore for why
the project speaks the protocol with requests rather than through SPARQLWrapper.
"""

from __future__ import annotations

from urllib.parse import urlencode

from ..records import RawRecord
from .http import Fetcher, FetchError


def construct_record(
    source: str,
    endpoint: str,
    query: str,
    name: str = "sparql-construct.ttl",
    timeout: float = 120.0,
    fetcher: Fetcher | None = None,
) -> RawRecord:
    """Run a CONSTRUCT query against `endpoint` and return its Turtle answer as a raw record."""
    fetcher = fetcher or Fetcher(retries=2, timeout=timeout)
    url = f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode({'query': query})}"
    try:
        response = fetcher.get(url, accept="text/turtle")
    except FetchError as e:
        raise FetchError(f"{endpoint}: CONSTRUCT failed: {e}") from e
    return RawRecord(name=name, location=endpoint, content=response.content, source=source)
