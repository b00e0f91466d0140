"""Downloadable dumps of the graph (written at harvest time, with checksums) and the VoID / DCAT
descriptions of what the store holds."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from ..namespaces import DCT, GRAPH, KG, PROV, PROVENANCE_GRAPH, RDF, SCHEMA, XSD
from .canonical import canonical_graphs

VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
FOAF = "http://xmlns.com/foaf/0.1/"
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


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _int(n: int) -> ox.Literal:
    return ox.Literal(str(n), datatype=_n(XSD + "integer"))


def dcat_catalog(store, base: str, sources: dict, dumps: dict | None) -> list[ox.Triple]:
    """A DCAT catalogue: one dcat:Dataset per harvest source, with its dumps as distributions and the
    SPARQL endpoint as a data service."""
    cat = _n(base + "/catalog")
    service = _n(base + "/sparql")
    t = [
        ox.Triple(cat, _n(RDF + "type"), _n(DCAT + "Catalog")),
        ox.Triple(
            cat,
            _n(DCT + "title"),
            ox.Literal("GIDE knowledge graph: the study metadata of the GIDE image repositories"),
        ),
        ox.Triple(cat, _n(DCAT + "service"), service),
        ox.Triple(service, _n(RDF + "type"), _n(DCAT + "DataService")),
        ox.Triple(service, _n(DCAT + "endpointURL"), service),
        ox.Triple(service, _n(DCT + "conformsTo"), _n("https://www.w3.org/TR/sparql11-protocol/")),
    ]
    modified = {}
    for (
        r
    ) in store.query(f"""SELECT ?src (MAX(?end) AS ?m) WHERE {{ GRAPH <{PROVENANCE_GRAPH}> {{ ?run a <{KG}HarvestRun> ;
            <{KG}harvestSource> ?src ; <{KG}status> "succeeded" ; <{PROV}endedAtTime> ?end }} }} GROUP BY ?src"""):
        modified[r["src"].value] = r["m"]
    counts = {
        r["g"].value: int(r["n"].value)
        for r in store.query(
            f"SELECT ?g (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH ?g {{ ?s a <{SCHEMA}Dataset> }} }} GROUP BY ?g"
        )
    }
    files = {(d.get("graph"), d["format"]): d for d in (dumps or {}).get("dumps", [])}
    for name, src in sources.items():
        g = GRAPH + name
        if g not in counts:
            continue
        ds = _n(f"{base}/catalog#{name}")
        t += [
            ox.Triple(cat, _n(DCAT + "dataset"), ds),
            ox.Triple(ds, _n(RDF + "type"), _n(DCAT + "Dataset")),
            ox.Triple(ds, _n(DCT + "title"), ox.Literal(src.label)),
            ox.Triple(
                ds,
                _n(DCT + "description"),
                ox.Literal(
                    f"{counts[g]} studies harvested from {src.label} ({src.kind} records), normalised into the GIDE knowledge graph."
                ),
            ),
            ox.Triple(ds, _n(DCT + "publisher"), _n(src.publisher)),
            ox.Triple(ds, _n(DCAT + "landingPage"), _n(src.landing or src.publisher)),
            ox.Triple(ds, _n(KG + "namedGraph"), _n(g)),
            ox.Triple(ds, _n(DCAT + "keyword"), ox.Literal("bioimaging")),
        ]
        if name in modified:
            t.append(ox.Triple(ds, _n(DCT + "modified"), modified[name]))
        for fmt in ("application/n-quads", "text/turtle"):
            d = files.get((g, fmt))
            if d:
                dist = _n(f"{base}/downloads/{d['file']}")
                t += [
                    ox.Triple(ds, _n(DCAT + "distribution"), dist),
                    ox.Triple(dist, _n(RDF + "type"), _n(DCAT + "Distribution")),
                    ox.Triple(dist, _n(DCAT + "downloadURL"), dist),
                    ox.Triple(dist, _n(DCAT + "mediaType"), _n(f"https://www.iana.org/assignments/media-types/{fmt}")),
                    ox.Triple(
                        dist,
                        _n(DCAT + "compressFormat"),
                        _n("https://www.iana.org/assignments/media-types/application/gzip"),
                    ),
                    ox.Triple(dist, _n(DCAT + "byteSize"), _int(d["bytes"])),
                    ox.Triple(dist, _n("http://spdx.org/rdf/terms#checksum"), ox.Literal("sha256:" + d["sha256"])),
                ]
        t.append(ox.Triple(service, _n(DCAT + "servesDataset"), ds))
    return t
