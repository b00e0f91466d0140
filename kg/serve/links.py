"""Which values may become links: the one rule every page uses (templates call `safe_href` and `ext`).

Harvested values are untrusted: a crate may say its licence is `javascript:alert(1)`. Only http(s),
mailto and doi values and our own absolute paths become links; anything else is shown as text.
The decision is made on the parsed URL (scheme, host), never by matching the text.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import quote, urlsplit

from markupsafe import Markup, escape

_CONTROL = re.compile(r"[\x00-\x20\x7f]")
_DOI = re.compile(r"(?i)^doi:\s*(10\.\d{4,9}/\S+)$")


def safe_href(value) -> str | None:
    """The href to use for `value`, or None when it must be shown as text."""
    if type(value) is str:  # plain strings (not Markup, whose result stays Markup) are decided once
        return _safe_href_of_str(value)
    return _safe_href(value) if isinstance(value, str) else None


def _safe_href(value: str) -> str | None:
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
    return _is_iri_str(value) if type(value) is str else _is_iri(value)


def _is_iri(value) -> bool:
    if not isinstance(value, str) or not value or _CONTROL.search(value) or any(c in value for c in '<>"{}|^`\\'):
        return False
    if value.startswith("urn:"):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme) and bool(parts.netloc)


# a study page asks both for each of its values; many (terms, publishers, predicates) recur on every page
_safe_href_of_str = lru_cache(maxsize=8192)(_safe_href)
_is_iri_str = lru_cache(maxsize=8192)(_is_iri)


def ext_link(value, text=None, cls=None) -> Markup:
    """A harvested value as an outside link (`rel="noopener"`) when `safe_href` allows it, else as text in
    `<span class="unsafe-link">`; shown as `text`, or the value itself. The templates' `ext`: a Python
    function, not a Jinja macro, because a study page makes dozens and a macro call costs ~20 µs."""
    label = escape(text or value)
    href = safe_href(value)
    css = escape(cls) if cls else ""
    if href:
        attr = f' class="{css}"' if cls else ""
        return Markup(f'<a{attr} href="{escape(href)}" rel="noopener">{label}</a>')
    return Markup(f'<span class="unsafe-link{" " if cls else ""}{css}">{label}</span>')
