"""Record checks: SPARQL SELECT queries in mappings/checks/*.rq name the record graphs to quarantine."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from ..config import MAPPINGS


def load_checks(folder: Path | None = None) -> list[Path]:
    return sorted((folder or MAPPINGS / "checks").glob("*.rq"))


def failing_records(staging: ox.Store, checks: list[Path] | None = None) -> dict[str, str]:
    """Record graph IRI → reason, for every record that fails a check (first reason wins)."""
    failures: dict[str, str] = {}
    for check in checks if checks is not None else load_checks():
        for row in staging.query(check.read_text(encoding="utf-8")):
            g = row["g"].value
            failures.setdefault(g, f"{row['reason'].value} (check {check.stem})")
    return failures
