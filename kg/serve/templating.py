"""Two costs of rendering a page that do not change what it shows (measured on study pages).

- Templates read page data as `s.name`, and Jinja's `Environment.getattr` tries the Python attribute
  first: on a dict that raises and catches an AttributeError before it reads the key (a study page
  reads a few hundred such values). `dict_attributes_first` answers a plain dict's key directly when
  the name is not one of dict's own attributes (`items`, `get`, …), which is exactly what the look-up
  would have returned; everything else takes Jinja's own path.
- Flask's `url_for` builds through the URL map each time (~15 µs); every page's header has nine.
  `url_for_memo` keeps the paths it built, per script root: the routes never change in a running app.
"""

from __future__ import annotations

from flask import Flask, current_app, request, url_for
from jinja2 import Environment

_DICT_NAMES = frozenset(dir(dict))


def dict_attributes_first(env: Environment) -> None:
    """Make `env`'s attribute look-up read plain dicts' keys first (same results, no exceptions)."""
    generic = env.getattr

    def getattr_(obj, attribute):
        if type(obj) is dict and attribute not in _DICT_NAMES:
            try:
                return obj[attribute]
            except (KeyError, TypeError):
                pass
        return generic(obj, attribute)

    env.getattr = getattr_


def url_for_memo(endpoint: str, **values) -> str:
    """`url_for(endpoint, **values)` (a path, not an external URL), remembered per script root and
    values (with their types: raw=1 and raw=True are different URLs)."""
    if endpoint.startswith(".") or any(k.startswith("_") for k in values):
        return url_for(endpoint, **values)
    try:
        key = (request.script_root, endpoint, *sorted((k, type(v), v) for k, v in values.items()))
        memo = current_app.extensions.setdefault("kg_url_memo", {})
        found = memo.get(key)
    except (RuntimeError, TypeError):  # outside a request, or values that cannot be keys
        return url_for(endpoint, **values)
    if found is None:
        if len(memo) >= 8192:
            memo.clear()
        found = memo[key] = url_for(endpoint, **values)
    return found


def memoise_url_for(app: Flask) -> None:
    """Templates of `app` call `url_for_memo` as their `url_for`."""
    app.jinja_env.globals["url_for"] = url_for_memo
