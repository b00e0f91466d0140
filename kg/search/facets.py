"""The search facets, licence labels and publisher names, read from data files (one declaration each).

`data/facets.toml` declares the facets (parameter, label, hierarchy, gide-search key) and licence labels;
publisher IRIs and their names come from `data/sources.toml`, so adding a source adds its publisher
to every search without code.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..config import DATA, load_sources


@dataclass(frozen=True)
class Facet:
    name: str  # the index's name for it
    param: str  # the URL parameter that filters on it
    label: str
    hierarchical: bool = False
    gide: str = ""  # its key in gide-search's response; "" for our own facets


@cache
def _raw(path: str = str(DATA / "facets.toml")) -> dict:
    with open(path, "rb") as f:
        return tomllib.load(f)


def facets() -> dict[str, Facet]:
    return {
        name: Facet(
            name=name,
            param=f["param"],
            label=f["label"],
            hierarchical=f.get("hierarchical", False),
            gide=f.get("gide", ""),
        )
        for name, f in _raw()["facets"].items()
    }


def licence_labels() -> dict[str, str]:
    return dict(_raw()["licences"])


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


@cache
def licence_aliases() -> dict[str, str]:
    """Short names (any case and punctuation: `CC-BY-4.0`, `cc by 4.0`, `CC0`) → licence IRI."""
    out = {_norm(label): iri for iri, label in licence_labels().items()}
    out["cc0"] = "https://creativecommons.org/publicdomain/zero/1.0/"
    return out


@dataclass(frozen=True)
class Publisher:
    iri: str  # as the graph holds it
    short: str  # sources.toml `short`
    label: str  # sources.toml `label`
    gide_name: str  # the name gide-search's facet answers with


@cache
def publishers(sources_path: str | None = None) -> tuple[Publisher, ...]:
    """One per publisher IRI of the configured sources (the first source declaring it names it)."""
    gide_names = _raw().get("gide_publisher_names", {})
    out: dict[str, Publisher] = {}
    for s in load_sources(Path(sources_path) if sources_path else None).values():
        if s.publisher not in out:
            slashed = s.publisher if s.publisher.endswith("/") else s.publisher + "/"
            out[s.publisher] = Publisher(s.publisher, s.short, s.label, gide_names.get(slashed, s.short))
    return tuple(out.values())


@cache
def publisher_aliases() -> dict[str, str]:
    """Normalised name (source name, short name, label, gide-search's name) → publisher IRI."""
    out: dict[str, str] = {}
    for s in load_sources().values():
        for name in (s.name, s.short, s.label):
            out.setdefault(_norm(name), s.publisher)
    for p in publishers():
        out.setdefault(_norm(p.gide_name), p.iri)
    return out


def publisher_iri(value: str) -> str:
    """The publisher IRI as the graph holds it, from a name or from the IRI with or without its final slash."""
    v = value.strip()
    if v.startswith(("http://", "https://")):
        bare = v.rstrip("/")
        return next((p.iri for p in publishers() if p.iri.rstrip("/") == bare), v)
    return publisher_aliases().get(_norm(v), v)


def gide_publisher_name(iri: str) -> str | None:
    bare = iri.rstrip("/")
    return next((p.gide_name for p in publishers() if p.iri.rstrip("/") == bare), None)
