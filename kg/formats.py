"""Result and RDF formats: choosing one by media type, Accept header or format word, and writing results.

Shared by the CLI (`kg query`), the web layer and the query worker processes, so it needs no request.
pyoxigraph's `RdfFormat` / `QueryResultsFormat` know the media types and file extensions; werkzeug parses
Accept headers. The one table here holds the format words clients send that are neither (SPARQLWrapper's
`rdf+xml`, `json-ld`, `turtle`; Virtuoso's `ntriples`).
"""

from __future__ import annotations

import functools
import io
import itertools
import json

import pyoxigraph as ox
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from .namespaces import PREFIXES

Format = ox.RdfFormat | ox.QueryResultsFormat

#: what each kind of result can be written as, in order of preference (the first is the default)
OFFERS: dict[str, list[Format]] = {
    "solutions": [
        ox.QueryResultsFormat.JSON,
        ox.QueryResultsFormat.XML,
        ox.QueryResultsFormat.CSV,
        ox.QueryResultsFormat.TSV,
    ],
    "graph": [
        ox.RdfFormat.TURTLE,
        ox.RdfFormat.N_TRIPLES,
        ox.RdfFormat.JSON_LD,
        ox.RdfFormat.RDF_XML,
        ox.RdfFormat.N_QUADS,
        ox.RdfFormat.TRIG,
        ox.RdfFormat.N3,
    ],
}
OFFERS["boolean"] = OFFERS["solutions"]

#: format words and media types that are not pyoxigraph extensions / media types, to ones that are
WORDS = {
    "turtle": "ttl",
    "ntriples": "nt",
    "n-triples": "nt",
    "nquads": "nq",
    "rdfxml": "rdf",
    "rdf+xml": "rdf",
    "xml-rdf": "rdf",
    "json-ld": "jsonld",
    "application/x-json+ld": "application/ld+json",
    "text/rdf+n3": "text/n3",
    "application/javascript": "application/sparql-results+json",
    "text/javascript": "application/sparql-results+json",
}


def result_kind(result) -> str:
    """'boolean' (ASK), 'solutions' (SELECT) or 'graph' (CONSTRUCT / DESCRIBE, or a list of triples)."""
    if isinstance(result, ox.QueryBoolean):
        return "boolean"
    if isinstance(result, ox.QuerySolutions):
        return "solutions"
    return "graph"


def lookup(kind: str, name: str) -> Format | None:
    """The format a media type or format word names for this kind of result (None if it names none).

    Words are file extensions, so a word of the other family falls back to its sibling the way Virtuoso
    and Fuseki do: `xml` is RDF/XML for a graph, `json` is JSON-LD."""
    name = name.strip().lower().split(";")[0].strip()
    name = WORDS.get(name, name)
    if not name:
        return None
    family = ox.RdfFormat if kind == "graph" else ox.QueryResultsFormat
    found = family.from_media_type(name) if "/" in name else family.from_extension(name)
    return found if found in OFFERS[kind] else None


def media_types(kind: str) -> list[str]:
    return [f.media_type for f in OFFERS[kind]]


def best_match(accept: str | None, offers: list[str], canonical=None) -> str | None:
    """The offer an Accept header prefers (q-value, then specificity, then offer order); the first offer
    when there is no header; None when nothing fits. `canonical` maps a client's media type to an offer
    (e.g. application/json → application/sparql-results+json)."""
    if not accept or not accept.strip():
        return offers[0]
    parsed = parse_accept_header(accept, MIMEAccept)
    if canonical is not None:
        parsed = MIMEAccept([(canonical(v) or v, q) for v, q in parsed])
    return parsed.best_match(offers)


def choose(kind: str, accept: str | None, words: list[str] | None = None) -> Format | None:
    """The format to answer with: the first format word that fits the result, else the Accept header.

    A format word that fits no result of this kind (SPARQLWrapper sends `format=csv` with a CONSTRUCT)
    lets the Accept header decide, and the default format when that does not fit either; without words,
    an Accept header nothing fits gives None (406). Remembered per (kind, Accept, words): clients send a
    handful of combinations, and parsing them costs as much as a small query."""
    key = tuple(words or ())
    if (accept is None or len(accept) <= 512) and sum(map(len, key)) <= 512:
        return _choose_cached(kind, accept, key)
    return _choose(kind, accept, key)


def _choose(kind: str, accept: str | None, words: tuple[str, ...]) -> Format | None:
    words = [w for w in words if w and w.strip()]
    for w in words:
        found = lookup(kind, w)
        if found is not None:
            return found
    offers = media_types(kind)

    def canonical(media: str) -> str | None:
        f = lookup(kind, media) if "*" not in media else None
        return f.media_type if f is not None else None

    media = best_match(accept, offers, canonical)
    if media is None:
        return OFFERS[kind][0] if words else None
    return lookup(kind, media)


_choose_cached = functools.lru_cache(maxsize=512)(_choose)


def unknown_words(words: list[str]) -> list[str]:
    """The format words that name no result format of any kind (a client's typo: 400, not a guess)."""
    return [w for w in words if w and w.strip() and not any(lookup(k, w) for k in ("solutions", "graph"))]


def content_type(fmt: Format) -> str:
    ctype = fmt.media_type
    if ctype.startswith("text/") or ctype.endswith(("json", "xml")):
        ctype += "; charset=utf-8"
    return ctype


def serialize(result, fmt: Format, prefixes: dict[str, str] | None = None) -> tuple[bytes, str]:
    """Bytes and Content-Type of a query result (or a list of triples) in a format that fits it; Turtle,
    TriG and N3 declare `prefixes` (default: the project's)."""
    out = io.BytesIO()
    if isinstance(fmt, ox.RdfFormat):
        if result_kind(result) != "graph":
            raise ValueError(f"a {result_kind(result)} result cannot be written as {fmt.name}")
        extra = (
            {"prefixes": prefixes or PREFIXES}
            if fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG, ox.RdfFormat.N3)
            else {}
        )
        ox.serialize(result, out, fmt, **extra)
    else:
        if result_kind(result) == "graph":
            raise ValueError(f"a graph result cannot be written as {fmt.name}")
        result.serialize(out, fmt)
    return out.getvalue(), content_type(fmt)


def serialize_as(result, name: str) -> tuple[bytes, str]:
    """`serialize` with the format given by media type or word (ValueError if it does not fit the result)."""
    kind = result_kind(result)
    fmt = lookup(kind, name)
    if fmt is None:
        other = lookup("solutions" if kind == "graph" else "graph", name)
        raise ValueError(f"a {kind} result cannot be written as {other.media_type if other else name}")
    return serialize(result, fmt)


def _term_json(t) -> dict:
    if isinstance(t, ox.NamedNode):
        return {"type": "uri", "value": t.value}
    if isinstance(t, ox.BlankNode):
        return {"type": "bnode", "value": t.value}
    if isinstance(t, ox.Triple):
        return {
            "type": "triple",
            "value": {
                "subject": _term_json(t.subject),
                "predicate": _term_json(t.predicate),
                "object": _term_json(t.object),
            },
        }
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
    if not cap or isinstance(result, ox.QueryBoolean):
        return result, False
    if isinstance(result, ox.QuerySolutions):
        doc, cut = read_solutions(result, cap)
        return solutions_of(doc), cut
    triples = list(itertools.islice(result, cap + 1))
    return triples[:cap], len(triples) > cap


def capped_json(solutions: ox.QuerySolutions, cap: int) -> tuple[bytes, bool]:
    """SPARQL JSON of the first `cap` solutions, and whether there were more: `cap_result` + `serialize`
    without parsing the JSON back (the bytes are pyoxigraph's own, tested)."""
    doc, cut = read_solutions(solutions, cap)
    return json_bytes(doc), cut


def read_solutions(solutions: ox.QuerySolutions, cap: int) -> tuple[dict, bool]:
    """The first `cap` solutions as a SPARQL JSON document, and whether there were more (cap + 1 are read)."""
    names = [v.value for v in solutions.variables]
    rows = list(itertools.islice(solutions, cap + 1))
    doc = {
        "head": {"vars": names},
        "results": {"bindings": [{n: _term_json(row[n]) for n in names if row[n] is not None} for row in rows[:cap]]},
    }
    return doc, len(rows) > cap


def json_bytes(doc: dict) -> bytes:
    """A SPARQL JSON document written as pyoxigraph writes it."""
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def solutions_of(doc: dict) -> ox.QuerySolutions:
    """A SPARQL JSON document as a QuerySolutions again, for pyoxigraph's other result writers."""
    return ox.parse_query_results(json.dumps(doc), format=ox.QueryResultsFormat.JSON)
