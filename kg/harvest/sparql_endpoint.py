"""Native RDF from a public SPARQL endpoint (SSBD's live path): one CONSTRUCT, kept as one Turtle record."""

from __future__ import annotations

from SPARQLWrapper import TURTLE, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

from .http import USER_AGENT, FetchError
from ..records import RawRecord


def construct_record(source: str, endpoint: str, query: str, name: str = "sparql-construct.ttl", timeout: int = 120) -> RawRecord:
    """Run a CONSTRUCT query against `endpoint` and return its Turtle answer as a raw record."""
    sw = SPARQLWrapper(endpoint, agent=USER_AGENT)
    sw.setQuery(query)
    sw.setReturnFormat(TURTLE)
    sw.setTimeout(timeout)
    try:
        response = sw.query().response
        content = response.read()
    except (SPARQLWrapperException, OSError) as e:
        raise FetchError(f"{endpoint}: CONSTRUCT failed: {e}") from e
    return RawRecord(name=name, location=endpoint, content=content, source=source)
