"""Records from a folder: every file matching a pattern below it (the bundled snapshot path).

Crates (`*ro-crate-metadata.json`) by default; IDR study files use `*-study.txt`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from ..records import RawRecord

PATTERN = "*ro-crate-metadata.json"


def crate_files(folder: Path, pattern: str = PATTERN) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"no such folder: {folder}")
    return sorted(p for p in folder.rglob(pattern) if p.is_file())


def iter_records(folder: Path, source: str | None = None, pattern: str = PATTERN) -> Iterator[RawRecord]:
    for path in crate_files(folder, pattern):
        stat = path.stat()
        yield RawRecord(
            name=path.name,
            location=path.resolve().as_uri(),
            content=path.read_bytes(),
            source=source,
            fetched_at=datetime.fromtimestamp(stat.st_mtime, UTC).replace(microsecond=0),
        )
