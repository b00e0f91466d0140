"""Record checks: SPARQL SELECT queries in mappings/checks/*.rq name the record graphs to quarantine."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from ..config import MAPPINGS


def load_checks(kind: str | None = None, folder: Path | None = None) -> list[Path]:
    """The checks of a record kind: `mappings/<kind>/checks/*.rq` if it has its own, else the
    single-study checks in `mappings/checks/`."""
    root = folder or MAPPINGS
    own = sorted((root / kind / "checks").glob("*.rq")) if kind else []
    return own or sorted((root / "checks").glob("*.rq"))


def failing_records(staging: ox.Store, checks: list[Path] | None = None) -> dict[str, str]:
    """Record graph IRI → reason, for every record that fails a check (first reason wins)."""
    failures: dict[str, str] = {}
    for check in checks if checks is not None else load_checks():
        for row in staging.query(check.read_text(encoding="utf-8")):
            g = row["g"].value
            failures.setdefault(g, f"{row['reason'].value} (check {check.stem})")
    return failures
