"""Content negotiation for every page and the endpoint, from the current request.

One rule for a page's JSON twin (`json_twin_requested`), one for error bodies (`errors_as_json`), one for
when /sparql shows the query page instead of results (`wants_query_page`), and one chooser for pages with
RDF representations (`page_representation`). All honour the Accept header; `?format=` overrides it.
"""

from __future__ import annotations

from functools import lru_cache

import pyoxigraph as ox
from flask import abort, request
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from ..formats import best_match, lookup, media_types

HTML, JSON = "text/html", "application/json"


def _format_words(req=None) -> list[str]:
    return [w.strip().lower() for w in (req or request).values.getlist("format") if w.strip()]


def preferred(offers: list[str]) -> str | None:
    """The offer the request's Accept header prefers (the first offer without a header)."""
    return best_match(request.headers.get("Accept"), offers)


def json_twin_requested() -> bool:
    """A page's JSON twin: `?format=json`, or (without `format=`) an Accept header preferring JSON to HTML."""
    words = _format_words()
    if words:
        return words[0] == "json"
    return preferred([HTML, JSON]) == JSON


def errors_as_json() -> bool:
    """Error bodies are JSON unless the client takes HTML: browsers get an error page, programs JSON."""
    words = _format_words()
    if words:
        return words[0] != "html"
    return preferred([HTML, JSON]) != HTML


def wants_query_page(req=None) -> bool:
    """/sparql with a query shows the query page (and its results) instead of a result document when the
    client names text/html and prefers it to every result and RDF format (a browser's address bar), or
    asks for `format=html`. `*/*` alone (curl, requests) gets results. `req`: a request outside Flask's
    context (the /sparql fast path), else the current one."""
    req = req or request
    words = _format_words(req)
    if words:
        return words[0] in ("html", HTML)
    accept = req.headers.get("Accept") or ""
    return _accept_prefers_page_cached(accept) if len(accept) <= 512 else _accept_prefers_page(accept)


def _accept_prefers_page(accept: str) -> bool:
    """The Accept part of `wants_query_page`."""
    if not any(v == HTML and q > 0 for v, q in parse_accept_header(accept, MIMEAccept)):
        return False
    offers = [HTML, *media_types("solutions"), *media_types("graph")]

    def canonical(media: str) -> str | None:
        f = lookup("solutions", media) or lookup("graph", media) if "*" not in media else None
        return f.media_type if f is not None else None

    return best_match(accept, offers, canonical) == HTML


_accept_prefers_page_cached = lru_cache(maxsize=256)(_accept_prefers_page)  # clients send a handful of headers


def page_representation(json_twin: bool = True, html_first: bool = True) -> str | ox.RdfFormat:
    """'html', 'json' (when the page has a JSON twin) or the RdfFormat a page is asked for, by `?format=`
    (html, json, ttl, jsonld, nt, rdf, …) or the Accept header; 400 for an unknown word, 406 if nothing fits.
    Without a preference, HTML (pages) or Turtle (`html_first=False`: RDF documents such as VoID)."""
    words = _format_words()
    if words:
        word = words[0]
        if word == "html" or (json_twin and word == "json"):
            return word
        found = lookup("graph", word)
        if found is None:
            abort(
                400,
                description=f"unknown format {word!r}; use one of html, {'json, ' if json_twin else ''}ttl, jsonld, nt, rdf",
            )
        return found
    offers = [*([JSON] if json_twin else []), *media_types("graph")]
    offers = [HTML, *offers] if html_first else [*offers, HTML]

    def canonical(media: str) -> str | None:
        if media in offers or "*" in media:
            return None
        f = lookup("graph", media)
        return f.media_type if f is not None else None

    media = best_match(request.headers.get("Accept"), offers, canonical)
    if media is None:
        abort(406, description="no acceptable representation; offered: " + ", ".join(offers))
    if media == HTML:
        return "html"
    return "json" if media == JSON else lookup("graph", media)
