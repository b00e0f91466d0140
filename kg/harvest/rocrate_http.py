"""GIDE RO-Crates from a published crate repository over HTTP (the live path).

The listing is a JSON array in the shape of the GitHub contents API (`name`, `type`, `sha`,
`download_url`). Every record is kept in a local cache as fetched, with its ETag and listing `sha`:
an entry whose `sha` is unchanged is not downloaded again, and a download uses If-None-Match.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..records import Quarantined, RawRecord, utcnow
from .http import Fetcher, FetchError


class ListingError(RuntimeError):
    """The listing itself could not be fetched or read: nothing can be harvested."""


@dataclass
class LiveStats:
    listed: int = 0
    downloaded: int = 0
    unchanged: int = 0
    failed: list[Quarantined] = field(default_factory=list)  # download failed, no earlier copy: quarantined
    stale: list[str] = field(default_factory=list)  # download failed, last good copy used instead


class CrateCache:
    """Raw records as fetched, one file each, plus an index of sha / ETag / fetch time."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.index_path = self.folder / "index.json"
        self.index: dict = json.loads(self.index_path.read_text()) if self.index_path.exists() else {}

    def get(self, name: str) -> tuple[dict, bytes] | None:
        meta = self.index.get(name)
        path = self.folder / name
        if meta and path.exists():
            return meta, path.read_bytes()
        return None

    def put(self, name: str, content: bytes, meta: dict) -> None:
        (self.folder / name).write_bytes(content)
        self.index[name] = meta

    def save(self) -> None:
        tmp = self.index_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.index, indent=1, sort_keys=True))
        tmp.replace(self.index_path)


def git_blob_sha(content: bytes) -> str:
    """The SHA-1 git gives a file's content (what the GitHub contents API lists as `sha`)."""
    import hashlib

    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def _safe_name(name: str) -> bool:
    return bool(name) and "/" not in name and "\\" not in name and name not in (".", "..")


def iter_live(
    source: str,
    listing_url: str,
    suffix: str,
    cache: CrateCache,
    fetcher: Fetcher | None = None,
    stats: LiveStats | None = None,
) -> Iterator[RawRecord]:
    fetcher = fetcher or Fetcher()
    stats = stats if stats is not None else LiveStats()
    try:
        listing = json.loads(fetcher.get(listing_url, accept="application/json").content)
    except (FetchError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ListingError(f"cannot read the listing {listing_url}: {e}") from e
    if not isinstance(listing, list):
        raise ListingError(f"listing {listing_url} is not a JSON array")
    entries = [
        e
        for e in listing
        if isinstance(e, dict) and e.get("type", "file") == "file" and str(e.get("name", "")).endswith(suffix)
    ]
    stats.listed = len(entries)
    try:
        for entry in entries:
            name, url, sha = entry.get("name", ""), entry.get("download_url"), entry.get("sha")
            if not _safe_name(name) or not url:
                continue
            cached = cache.get(name)
            if cached and sha and cached[0].get("sha") == sha:
                meta, content = cached
                stats.unchanged += 1
            else:
                try:
                    resp = fetcher.get(url, etag=cached[0].get("etag") if cached else None)
                except FetchError as e:
                    if cached:  # keep the last good copy rather than lose the study
                        stats.stale.append(f"{name}: {e}")
                        meta, content = cached
                        yield _record(name, source, meta, content)
                    else:
                        stats.failed.append(
                            Quarantined(RawRecord(name, url, b"", source=source), f"download failed: {e}")
                        )
                    continue
                if resp.not_modified and cached:
                    meta, content = cached
                    stats.unchanged += 1
                else:
                    content = resp.content
                    # the listing's sha is git's blob hash: a body that does not match it (truncated, an error
                    # page) is still handed on (and quarantined if unreadable) but not trusted next time
                    trusted = sha if sha and git_blob_sha(content) == sha else None
                    meta = {
                        "sha": trusted,
                        "etag": resp.etag if trusted or not sha else None,
                        "url": url,
                        "fetched_at": utcnow().isoformat(),
                    }
                    cache.put(name, content, meta)
                    stats.downloaded += 1
            yield _record(name, source, meta, content)
    finally:
        cache.save()


def _record(name: str, source: str, meta: dict, content: bytes) -> RawRecord:
    return RawRecord(
        name=name,
        location=meta.get("url", ""),
        content=content,
        source=source,
        fetched_at=datetime.fromisoformat(meta["fetched_at"]) if meta.get("fetched_at") else utcnow(),
        etag=meta.get("etag"),
    )
