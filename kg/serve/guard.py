"""Query guards for the public endpoint, decided on the query's tokens (kg/sparql_text.py).

SERVICE: pyoxigraph calls any URL a query names (server-side request forgery on a public endpoint), so
every SERVICE keyword is found, its target resolved through PREFIX and BASE, and the query refused unless
each target is in KG_SERVICE_ALLOW (a variable or an unresolvable target is always refused). The query is
checked as written and with \\u escapes replaced, since a parser may apply those anywhere in the text.
Nesting: a query nested deeper than MAX_DEPTH is refused before a parser's recursion can overflow the stack.
The worker processes add a second, independent line (workers.py: no network namespace access).
"""

from __future__ import annotations

import os
from functools import lru_cache

from ..sparql_text import Structure, structure, unescape_codepoints

MAX_DEPTH = int(os.environ.get("KG_QUERY_MAX_DEPTH", "100"))
MAX_TOKENS = 250_000  # ~1 s of tokenizing; a 1 MiB query of IRIs has far fewer, one of 1-character tokens more
REMEMBERED_CHARS = 16 << 10  # decisions on queries up to this size are kept (1,024 of them: at most ~32 MiB)


class ServiceRefused(PermissionError):
    pass


class QueryTooDeep(ValueError):
    """Nested too deep or too many tokens: refused before a parser spends its stack or our time on it."""


def allowed_services() -> set[str]:
    return {u.strip() for u in os.environ.get("KG_SERVICE_ALLOW", "").split(",") if u.strip()}


def check_query(query: str, allowed: set[str] | None = None) -> Structure:
    """The query's structure (with \\u escapes applied, as the parser applies them inside IRIs, so FROM
    IRIs come out right); raises ServiceRefused or QueryTooDeep when the query may not run here.

    A query that passed is remembered with the allow-list it passed under (an LRU keyed by the exact
    text): clients repeat the same queries, and tokenizing a named query costs ~1 ms. Refusals are
    decided afresh each time (they are cheap to repeat and rare)."""
    allowed = frozenset(allowed_services() if allowed is None else allowed)
    if len(query) <= REMEMBERED_CHARS:
        return _checked_cached(query, allowed)
    return _checked(query, allowed)


def _checked(query: str, allowed: frozenset[str]) -> Structure:
    st = structure(query, MAX_TOKENS)
    unescaped = unescape_codepoints(query)
    views = [st] if unescaped == query else [st, structure(unescaped, MAX_TOKENS)]
    for view in views:
        if view.truncated:
            raise QueryTooDeep(f"the query has more than {MAX_TOKENS:,} tokens; split it (e.g. page a VALUES block)")
        if view.depth > MAX_DEPTH:
            raise QueryTooDeep(f"the query nests groups {view.depth} deep; at most {MAX_DEPTH} levels are allowed")
        for target in view.unresolved:
            raise ServiceRefused(f"SERVICE {target} is not allowed on this endpoint (its endpoint cannot be resolved)")
        for target in view.services:
            if target.startswith(("?", "$")):
                raise ServiceRefused(f"SERVICE with a variable endpoint ({target}) is not allowed on this endpoint")
            if target not in allowed:
                hint = (
                    f"allowed: {', '.join(sorted(allowed))}"
                    if allowed
                    else "no federation endpoint is allowed (KG_SERVICE_ALLOW)"
                )
                raise ServiceRefused(f"SERVICE <{target}> is not allowed on this endpoint; {hint}")
    if len(views) > 1:  # \u escapes: which reading the parser follows is not ours to guess, so no shortcut
        views[-1].lookup = False
        views[-1].volatile = any(view.volatile for view in views)
    return views[-1]


_checked_cached = lru_cache(maxsize=1024)(_checked)
