"""Where things live: project root, bundled data, sources configuration, default store path.

Every path can be overridden (flags, or the KG_HOME / KG_STORE / KG_SOURCES environment variables),
so tests and deployments never depend on the working directory.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(os.environ.get("KG_HOME", Path(__file__).resolve().parent.parent))
DATA = ROOT / "data"
MAPPINGS = ROOT / "mappings"
ONTOLOGIES = ROOT / "ontologies"
QUERIES = ROOT / "queries"
CONTEXTS = DATA / "contexts"


def default_store_path() -> Path | str:
    """A folder (embedded store) or, when KG_STORE is an http(s) URL, that URL (remote store)."""
    value = os.environ.get("KG_STORE")
    if value and value.startswith(("http://", "https://")):
        return value
    return Path(value or ROOT / "var" / "store")


def _var() -> Path:
    store = default_store_path()
    return store.parent if isinstance(store, Path) else ROOT / "var"


def default_cache_path() -> Path:
    return _var() / "cache"


def default_dumps_path() -> Path:
    return Path(os.environ.get("KG_DUMPS", _var() / "dumps"))


def default_sources_path() -> Path:
    return Path(os.environ.get("KG_SOURCES", DATA / "sources.toml"))


@dataclass(frozen=True)
class Source:
    """One harvest source as declared in sources.toml."""

    name: str
    label: str
    short: str
    kind: str
    publisher: str
    root: str
    snapshot: Path | None = None
    landing: str = ""
    live: dict = field(default_factory=dict)


def load_sources(path: Path | None = None) -> dict[str, Source]:
    path = Path(path or default_sources_path())
    with open(path, "rb") as f:
        raw = tomllib.load(f)
    sources = {}
    for name, s in raw.get("sources", {}).items():
        snap = s.get("snapshot")
        snap_path = None
        if snap:
            snap_path = Path(snap)
            if not snap_path.is_absolute():
                snap_path = (ROOT / snap_path) if (ROOT / snap_path).exists() else (path.parent / snap_path)
        sources[name] = Source(
            name=name,
            label=s.get("label", name),
            short=s.get("short", name),
            kind=s.get("kind", "rocrate"),
            publisher=s["publisher"],
            root=s.get("root", ".*"),
            snapshot=snap_path,
            landing=s.get("landing", ""),
            live=dict(s.get("live", {})),
        )
    return sources
