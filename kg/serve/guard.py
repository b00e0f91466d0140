"""Query guards for the public endpoint: SPARQL SERVICE federation is refused unless allow-listed.

pyoxigraph would otherwise call any URL a query names (server-side request forgery on a public
endpoint). The check is lexical but conservative: comments, strings and IRIs are blanked out before the
SERVICE keyword is looked for, and a SERVICE whose endpoint is a variable is refused.
"""

from __future__ import annotations

import os
import re

from ..sparql_text import STRINGS_AND_COMMENTS

_SERVICE = re.compile(r"\bSERVICE\b\s*(?:SILENT\b\s*)?(<[^>]*>|\?\w+|\$\w+|[A-Za-z_][\w.-]*:[\w.-]*)", re.I)


class ServiceRefused(PermissionError):
    pass


def allowed_services() -> set[str]:
    return {u.strip() for u in os.environ.get("KG_SERVICE_ALLOW", "").split(",") if u.strip()}


def check_services(query: str, allowed: set[str] | None = None) -> None:
    """Raise ServiceRefused when the query calls a SERVICE that is not allow-listed."""
    allowed = allowed_services() if allowed is None else allowed
    code = STRINGS_AND_COMMENTS.sub(lambda m: " " if m.group(0).startswith("#") else '""', query)
    # IRIs stay (SERVICE <…> needs them); a '#' inside an IRI was not a comment, so match on the original too
    for m in _SERVICE.finditer(code):
        target = m.group(1)
        if target.startswith(("?", "$")):
            raise ServiceRefused(f"SERVICE with a variable endpoint ({target}) is not allowed on this endpoint")
        iri = target[1:-1] if target.startswith("<") else target
        if iri not in allowed:
            hint = f"allowed: {', '.join(sorted(allowed))}" if allowed else "no federation endpoint is allowed (KG_SERVICE_ALLOW)"
            raise ServiceRefused(f"SERVICE {target} is not allowed on this endpoint; {hint}")
