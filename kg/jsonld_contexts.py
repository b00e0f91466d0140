"""Offline JSON-LD contexts: known context URLs resolve to bundled files, unknown remote ones are refused.

The crates reference `https://w3id.org/ro/crate/1.2/context`; fetching it at parse time would make every
harvest depend on the network (gide-search's fragility). The same resolver backs pyld's document loader.
"""

from __future__ import annotations

import json
import tomllib
from functools import cache
from pathlib import Path

from .config import CONTEXTS


class ContextError(ValueError):
    """A JSON-LD context that cannot be resolved offline."""


@cache
def _index(folder: str) -> dict[str, Path]:
    folder_p = Path(folder)
    with open(folder_p / "contexts.toml", "rb") as f:
        return {url: folder_p / name for url, name in tomllib.load(f).items()}


def _norm(url: str) -> str:
    return url.replace("http://", "https://", 1).rstrip("/")


@cache
def load_context(url: str, folder: str = str(CONTEXTS)) -> dict:
    """The context document for `url`, from the bundled copy; ContextError if none is bundled."""
    known = {_norm(k): v for k, v in _index(folder).items()}
    path = known.get(_norm(url))
    if path is None:
        raise ContextError(
            f"remote JSON-LD context {url!r} is not bundled (known: {', '.join(sorted(_index(folder)))}); "
            "refusing to fetch it over the network"
        )
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def context_terms(url: str) -> dict:
    """The term definitions (`@context` object) of a bundled context document."""
    ctx = load_context(url)["@context"]
    if not isinstance(ctx, dict):
        raise ContextError(f"context {url!r} is not a single object; cannot be inlined")
    return ctx


def pyld_document_loader(url: str, options: dict | None = None) -> dict:
    """A pyld document loader that serves bundled contexts and refuses everything else."""
    try:
        doc = load_context(url)
    except ContextError as e:
        from pyld.jsonld import JsonLdError

        raise JsonLdError(str(e), "jsonld.LoadDocumentError", code="loading document failed") from e
    return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url, "document": doc}
