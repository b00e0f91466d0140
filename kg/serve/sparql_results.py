"""Serialising SPARQL results by media type, and choosing the media type from an Accept header.

SELECT/ASK → SPARQL JSON, XML, CSV, TSV; CONSTRUCT/DESCRIBE → Turtle, N-Triples, JSON-LD, RDF/XML
(N-Quads, TriG too). Follows Oxigraph server's negotiation: q-values, then specificity, first offer wins.
"""

from __future__ import annotations

import io

import pyoxigraph as ox

from ..namespaces import PREFIXES

RESULT_TYPES = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
RESULT_ALIASES = {"application/json": "application/sparql-results+json", "application/xml": "application/sparql-results+xml", "text/xml": "application/sparql-results+xml"}
GRAPH_TYPES = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/n-quads": ox.RdfFormat.N_QUADS,
    "application/trig": ox.RdfFormat.TRIG,
}
GRAPH_ALIASES = {"text/plain": "application/n-triples", "application/x-turtle": "text/turtle", "application/json": "application/ld+json"}
FORMAT_PARAM = {
    "json": "application/sparql-results+json", "srj": "application/sparql-results+json",
    "xml": "application/sparql-results+xml", "srx": "application/sparql-results+xml",
    "csv": "text/csv", "tsv": "text/tab-separated-values",
    "turtle": "text/turtle", "ttl": "text/turtle", "nt": "application/n-triples", "ntriples": "application/n-triples",
    "jsonld": "application/ld+json", "json-ld": "application/ld+json", "rdfxml": "application/rdf+xml", "rdf": "application/rdf+xml",
    "xml-rdf": "application/rdf+xml", "nq": "application/n-quads", "trig": "application/trig",
}


def parse_accept(header: str | None) -> list[tuple[str, float]]:
    """Media ranges of an Accept header, best first (q, then specificity, then order)."""
    items = []
    for i, part in enumerate((header or "").split(",")):
        bits = [b.strip() for b in part.split(";")]
        media = bits[0].lower()
        if not media:
            continue
        q = 1.0
        for b in bits[1:]:
            if b.startswith("q="):
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        spec = 0 if media == "*/*" else 1 if media.endswith("/*") else 2
        items.append((media, q, spec, i))
    items.sort(key=lambda t: (-t[1], -t[2], t[3]))
    return [(m, q) for m, q, _, _ in items if q > 0]


def negotiate(accept: str | None, offers: list[str], aliases: dict[str, str] | None = None) -> str | None:
    """The first offer the Accept header prefers; the first offer for a missing header; None if nothing fits."""
    ranges = parse_accept(accept)
    if not ranges:
        return offers[0]
    aliases = aliases or {}
    for media, _ in ranges:
        media = aliases.get(media, media)
        if media == "*/*":
            return offers[0]
        if media.endswith("/*"):
            for o in offers:
                if o.startswith(media[:-1]):
                    return o
        elif media in offers:
            return media
    return None


def result_kind(result) -> str:
    if isinstance(result, ox.QueryBoolean):
        return "boolean"
    if isinstance(result, ox.QuerySolutions):
        return "solutions"
    return "graph"


def choose_type(result, accept: str | None, fmt: str | None) -> str | None:
    kind = result_kind(result)
    offers = list(GRAPH_TYPES) if kind == "graph" else list(RESULT_TYPES)
    aliases = GRAPH_ALIASES if kind == "graph" else RESULT_ALIASES
    if fmt:
        media = FORMAT_PARAM.get(fmt.lower(), fmt.lower())
        media = aliases.get(media, media)
        return media if media in offers else None
    return negotiate(accept, offers, aliases)


def serialize_result(result, media_type: str) -> tuple[bytes, str]:
    """Bytes and Content-Type for a query result in the given media type (ValueError if impossible)."""
    kind = result_kind(result)
    if kind == "graph":
        fmt = GRAPH_TYPES.get(GRAPH_ALIASES.get(media_type, media_type))
        if fmt is None:
            raise ValueError(f"a graph result cannot be written as {media_type}")
        out = io.BytesIO()
        if fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG):
            ox.serialize(result, out, fmt, prefixes=PREFIXES)
        else:
            ox.serialize(result, out, fmt)
        ctype = fmt.media_type
    else:
        fmt = RESULT_TYPES.get(RESULT_ALIASES.get(media_type, media_type))
        if fmt is None:
            raise ValueError(f"a {kind} result cannot be written as {media_type}")
        out = io.BytesIO()
        result.serialize(out, fmt)
        ctype = fmt.media_type
    if "charset" not in ctype and (ctype.startswith("text/") or ctype.endswith("json") or ctype.endswith("xml")):
        ctype += "; charset=utf-8"
    return out.getvalue(), ctype


def _term_json(t) -> dict:
    if isinstance(t, ox.NamedNode):
        return {"type": "uri", "value": t.value}
    if isinstance(t, ox.BlankNode):
        return {"type": "bnode", "value": t.value}
    if isinstance(t, ox.Triple):
        return {"type": "triple", "value": {"subject": _term_json(t.subject), "predicate": _term_json(t.predicate), "object": _term_json(t.object)}}
    out = {"type": "literal", "value": t.value}
    if t.language:
        out["xml:lang"] = t.language
    elif t.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
        out["datatype"] = t.datatype.value
    return out


def cap_result(result, cap: int | None):
    """The result cut to `cap` solutions or triples, and whether it was cut (ASK results are never cut).

    pyoxigraph results are single-pass iterators that cannot be sliced and re-serialised, so the first
    cap + 1 solutions are read and handed back as a new QuerySolutions (through SPARQL JSON)."""
    import itertools
    import json

    if not cap or isinstance(result, ox.QueryBoolean):
        return result, False
    if isinstance(result, ox.QuerySolutions):
        names = [v.value for v in result.variables]
        rows = list(itertools.islice(result, cap + 1))
        cut = len(rows) > cap
        doc = {"head": {"vars": names}, "results": {"bindings": [
            {n: _term_json(row[n]) for n in names if row[n] is not None} for row in rows[:cap]]}}
        return ox.parse_query_results(json.dumps(doc), format=ox.QueryResultsFormat.JSON), cut
    triples = list(itertools.islice(result, cap + 1))
    return triples[:cap], len(triples) > cap


def render(result, accept: str | None, fmt: str | None, cap: int | None) -> tuple[str, bytes | str, str | None, bool]:
    """A query result as the endpoint answers it: ("200", body, content type, cut to the cap) or ("406",
    message, None, False). Shared by the in-process path and the query worker processes."""
    media = choose_type(result, accept, fmt)
    if media is None:
        return "406", f"no acceptable format for a {result_kind(result)} result (Accept: {accept})", None, False
    result, cut = cap_result(result, cap)
    body, ctype = serialize_result(result, media)
    return "200", body, ctype, cut
