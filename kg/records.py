"""Record types shared by harvest, mapping and the pipeline: the raw record (one fetched document, kept
exactly as fetched, with what provenance needs) and a quarantined record with its reason.

A neutral module below harvest and mapping, so mapping does not import from harvest."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class RawRecord:
    """A document as fetched from a source: bytes plus where and when it came from."""

    name: str  # file name, unique within the source
    location: str  # URL or file:// URI it was read from
    content: bytes
    source: str | None = None  # harvest source name; None until read from the crate itself
    fetched_at: datetime = field(default_factory=utcnow)
    etag: str | None = None
    sha256: str = ""

    def __post_init__(self) -> None:
        if not self.sha256:
            self.sha256 = hashlib.sha256(self.content).hexdigest()


@dataclass
class Quarantined:
    """A record that could not be loaded, and why."""

    record: RawRecord
    reason: str
