"""The RO-Crate "folders" layout: one folder per study holding `ro-crate-metadata.json`.

RO-Crate readers (ro-crate-py's `ROCrate(path)`, the validators) open a crate by its folder and look for
that exact file name; the GIDE detached naming (`<identifier>-ro-crate-metadata.json`, many per folder)
is what gide-search reads. Same crate content (kg.export.rocrate.crate_for), another file layout.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..namespaces import GRAPH
from .rocrate import crate_for, studies_of

METADATA = "ro-crate-metadata.json"
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def folder_name(identifier: str) -> str:
    """A study identifier as one safe path segment (no separators, no dot-only names)."""
    name = _SAFE.sub("_", identifier).strip(".") or "_"
    return name[:200]


def write_study_folders(store, source: str, folder) -> int:
    """Write `<folder>/<identifier>/ro-crate-metadata.json` for every study of a source; returns how many."""
    folder = Path(folder)
    n = 0
    for study, ident in studies_of(store, GRAPH + source):
        target = folder / folder_name(ident)
        target.mkdir(parents=True, exist_ok=True)
        crate = crate_for(store, study, GRAPH + source, METADATA)
        (target / METADATA).write_text(json.dumps(crate, indent=1, ensure_ascii=False), encoding="utf-8")
        n += 1
    return n
