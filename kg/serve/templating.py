"""Jinja attribute look-ups on plain dicts without an exception each.

Templates read page data as `s.name`, and Jinja's `Environment.getattr` tries the Python attribute
first: on a dict that raises and catches an AttributeError before it reads the key — about half of a
study page's template time (a page reads a few hundred such values). `dict_attributes_first` answers a
plain dict's key directly when the name is not one of dict's own attributes (`items`, `get`, …), which
is exactly what the look-up would have returned; everything else takes Jinja's own path.
"""

from __future__ import annotations

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
