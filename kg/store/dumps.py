"""Downloadable dumps of the graph, written at harvest time with checksums, and their manifest (dumps.json),
which the DCAT catalogue (kg/serve/dcat.py) describes."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from ..namespaces import GRAPH
from .canonical import canonical_graphs

MANIFEST = "dumps.json"


TMP_PREFIX = ".partial-"  # dumps being written; renamed over the served file once whole and on disk


def _write_gz(path: Path, data: bytes) -> tuple[dict, Path]:
    """Gzip `data` into a temporary file beside `path` (fsynced); the caller renames it into place once
    every dump is written. Returns the manifest entry and the temporary file."""
    tmp = path.with_name(TMP_PREFIX + path.name)
    with open(tmp, "wb") as raw_file:
        with gzip.GzipFile(fileobj=raw_file, mode="wb", compresslevel=6, mtime=0) as f:
            f.write(data)  # mtime=0: the same content gives the same bytes and checksum
        raw_file.flush()
        os.fsync(raw_file.fileno())
    raw = tmp.read_bytes()
    return {"file": path.name, "bytes": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}, tmp


def _replace_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(TMP_PREFIX + path.name)
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _fsync_dir(folder: Path) -> None:
    """Make the renames in `folder` durable (a crash after it cannot bring the old names back)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _turtle(nt: bytes) -> tuple[bytes, int]:
    """Turtle of canonical N-Triples (each triple once), and its number of triples. Serialised straight from
    the sorted lines: loading them into a store would give the blank nodes fresh random labels."""
    lines = sorted(set(nt.splitlines(keepends=True)))
    return ox.serialize(ox.parse(b"".join(lines), format=ox.RdfFormat.N_TRIPLES), format=ox.RdfFormat.TURTLE), len(
        lines
    )


def write_dumps(store, folder: Path, sources: dict) -> list[dict]:
    """N-Quads and Turtle (gzip) of the whole graph and of each repository's graph, plus dumps.json."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(TMP_PREFIX + "*"):  # left by a run that was killed while writing
        stale.unlink(missing_ok=True)
    public = [g.value for g in store.public_graphs()]
    entries, written = [], []

    def add(path: Path, data: bytes, **fields) -> None:
        e, tmp = _write_gz(path, data)
        e.update(fields)
        entries.append(e)
        written.append((tmp, path))

    # Serialised in Rust graph by graph: N-Triples lines end with " .\n" (newlines inside literals are
    # escaped), so appending the graph name gives N-Quads without building Python objects.
    # Canonical (sorted lines, blank-node labels from content): the same graph gives the same bytes.
    per_graph = canonical_graphs({g: store.dump_graph(g, ox.RdfFormat.N_TRIPLES) for g in public})
    whole_nq = b"".join(nt.replace(b" .\n", f" <{g}> .\n".encode()) for g, nt in per_graph.items())
    add(
        folder / "gide-kg.nq.gz",
        whole_nq,
        graph=None,
        format="application/n-quads",
        quads=whole_nq.count(b"\n"),
        title="Whole knowledge graph (all named graphs)",
    )
    turtle, triples = _turtle(b"".join(per_graph.values()))  # the union of the graphs, each triple once
    add(
        folder / "gide-kg.ttl.gz",
        turtle,
        graph=None,
        format="text/turtle",
        triples=triples,
        title="Whole knowledge graph (union of the graphs)",
    )
    for name, src in sources.items():
        g = GRAPH + name
        if g not in per_graph:
            continue
        nt = per_graph[g]
        add(
            folder / f"{name}.nq.gz",
            nt.replace(b" .\n", f" <{g}> .\n".encode()),
            graph=g,
            format="application/n-quads",
            quads=nt.count(b"\n"),
            title=f"{src.label} (N-Quads)",
        )
        add(
            folder / f"{name}.ttl.gz",
            _turtle(nt)[0],
            graph=g,
            format="text/turtle",
            triples=nt.count(b"\n"),
            title=f"{src.label} (Turtle)",
        )
    # Every file is whole on disk before any is renamed, and the manifest goes last: a run killed at any
    # point leaves each served file either the old one or the new one, and a file that does not match the
    # manifest (renamed, manifest not yet) is refused by `verified` until the manifest catches up.
    for tmp, path in written:
        os.replace(tmp, path)
    manifest = {"created": datetime.now(UTC).isoformat(timespec="seconds"), "dumps": entries}
    _replace_atomically(folder / MANIFEST, json.dumps(manifest, indent=1).encode())
    _fsync_dir(folder)
    return entries


def read_manifest(folder: Path | None) -> dict | None:
    if folder is None or not (Path(folder) / MANIFEST).exists():
        return None
    try:
        return json.loads((Path(folder) / MANIFEST).read_text())
    except (OSError, ValueError):  # unreadable: as if no dumps had been written
        return None


_VERIFIED: dict[tuple[str, int, int], str] = {}  # (path, mtime_ns, size) -> its SHA-256, hashed once
_VERIFIED_LOCK = threading.Lock()


def file_sha256(path: Path) -> str | None:
    """SHA-256 of a dump file, computed once per (mtime, size) of the file; None when it is missing."""
    try:
        st = path.stat()
    except OSError:
        return None
    key = (str(path), st.st_mtime_ns, st.st_size)
    with _VERIFIED_LOCK:
        known = _VERIFIED.get(key)
    if known is None:
        h = hashlib.sha256()
        try:
            with open(path, "rb") as f:
                while block := f.read(1 << 20):
                    h.update(block)
        except OSError:
            return None
        known = h.hexdigest()
        with _VERIFIED_LOCK:
            _VERIFIED[key] = known
    return known


def verified(folder: Path, entry: dict) -> bool:
    """Whether the dump file of a manifest entry is whole: its size and SHA-256 are the manifest's."""
    path = Path(folder) / entry["file"]
    try:
        if path.stat().st_size != entry.get("bytes"):
            return False
    except OSError:
        return False
    return file_sha256(path) == entry.get("sha256")
