"""The /sparql endpoint's answer for a query result: format chosen, result capped, bytes written.

Shared by the in-process path and the query worker processes (which have no request: the Accept
header and format words travel with the job). Formats and negotiation live in kg/formats.py.
"""

from __future__ import annotations

import pyoxigraph as ox

from ..formats import cap_result, capped_json, choose, content_type, result_kind, serialize


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
