"""Which values may become links: the one rule every page uses (templates call `safe_href`).

Harvested values are untrusted: a crate may say its licence is `javascript:alert(1)`. Only http(s),
mailto and doi values and our own absolute paths become links; anything else is shown as text.
The decision is made on the parsed URL (scheme, host), never by matching the text.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

_CONTROL = re.compile(r"[\x00-\x20\x7f]")
_DOI = re.compile(r"(?i)^doi:\s*(10\.\d{4,9}/\S+)$")


def safe_href(value) -> str | None:
    """The href to use for `value`, or None when it must be shown as text."""
    if not isinstance(value, str):
        return None
    v = value.strip()
    if not v or _CONTROL.search(v):  # browsers drop tabs/newlines inside schemes ("java\tscript:")
        return None
    m = _DOI.match(v)
    if m:
        return "https://doi.org/" + quote(m.group(1), safe="/:;()._-")
    if v.startswith("/") and not v.startswith("//") and "\\" not in v:
        return v  # our own path
    try:
        parts = urlsplit(v)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        return v if parts.hostname else None
    if scheme == "mailto":
        return v if parts.path and "@" in parts.path else None
    return None


def is_iri(value) -> bool:
    """An absolute IRI we can make a browse page for (not plain text such as 'SPIM' or '(MF-HREM)')."""
    if not isinstance(value, str) or not value or _CONTROL.search(value) or any(c in value for c in '<>"{}|^`\\'):
        return False
    if value.startswith("urn:"):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme) and bool(parts.netloc)
