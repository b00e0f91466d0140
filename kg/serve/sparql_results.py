"""The /sparql endpoint's answer for a query result: format chosen, result capped, bytes written.

Shared by the in-process path and the query worker processes (which have no request: the Accept
header and format words travel with the job). Formats and negotiation live in kg/formats.py.
`render_small` reads no more of a result than a bound, for lookups answered in the serving process.
"""

from __future__ import annotations

import pyoxigraph as ox

from ..formats import (
    cap_result,
    capped_json,
    choose,
    content_type,
    json_bytes,
    read_solutions,
    result_kind,
    serialize,
    solutions_of,
)


def render(
    result, accept: str | None, words: list[str] | None, cap: int | None
) -> tuple[str, bytes | str, str | None, bool]:
    """("200", body, content type, cut to the cap) or ("406", message, None, False)."""
    kind = result_kind(result)
    fmt = choose(kind, accept, words)
    if fmt is None:
        return "406", f"no acceptable format for a {kind} result (Accept: {accept})", None, False
    if cap and fmt == ox.QueryResultsFormat.JSON and kind == "solutions":  # the common case, written at once
        body, cut = capped_json(result, cap)
        return "200", body, content_type(fmt), cut
    result, cut = cap_result(result, cap)
    body, ctype = serialize(result, fmt)
    return "200", body, ctype, cut


def render_small(
    result, accept: str | None, words: list[str] | None, cap: int | None, limit: int
) -> tuple[str, bytes | str, str | None, bool] | None:
    """`render` of a result that has at most `limit` solutions, reading no more than limit + 1 of them;
    None when it has more (the caller then runs the query where a time limit holds). The same bytes as
    `render`: a SPARQL JSON document cut to the cap, other formats written from it by pyoxigraph."""
    kind = result_kind(result)
    fmt = choose(kind, accept, words) if kind == "solutions" else None
    if fmt is None:
        return render(result, accept, words, cap)  # ASK (one value) or no acceptable format: nothing to read
    doc, more = read_solutions(result, limit)
    if more:
        return None
    bindings = doc["results"]["bindings"]
    cut = bool(cap) and len(bindings) > cap
    if cut:
        del bindings[cap:]
    if fmt == ox.QueryResultsFormat.JSON:
        return "200", json_bytes(doc), content_type(fmt), cut
    body, ctype = serialize(solutions_of(doc), fmt)
    return "200", body, ctype, cut
