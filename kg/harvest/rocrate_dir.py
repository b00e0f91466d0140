"""GIDE RO-Crates from a folder: every `*ro-crate-metadata.json` below it (the bundled snapshot path)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from .records import RawRecord

PATTERN = "*ro-crate-metadata.json"


def crate_files(folder: Path) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"no such folder: {folder}")
    return sorted(p for p in folder.rglob(PATTERN) if p.is_file())


def iter_records(folder: Path, source: str | None = None) -> Iterator[RawRecord]:
    for path in crate_files(folder):
        stat = path.stat()
        yield RawRecord(
            name=path.name,
            location=path.resolve().as_uri(),
            content=path.read_bytes(),
            source=source,
            fetched_at=datetime.fromtimestamp(stat.st_mtime, timezone.utc).replace(microsecond=0),
        )
