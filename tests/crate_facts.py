"""What the bundled crate files say, read with plain `json` and independent of the `kg` code.

Tests compare the harvested store against these facts. The few normalisations needed to compare
(taxon / FBbi / publication IRIs) are written here from scratch, as simple as possible, on purpose:
they must not share code with kg/mapping.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import urljoin

ROOT = Path(__file__).resolve().parent.parent
CRATES = ROOT / "data" / "crates"
SOURCES = ("bia", "idr", "ssbd-database", "ssbd-repository")
SUFFIX = "ro-crate-metadata.json"


def crate_files(source: str) -> list[Path]:
    return sorted(p for p in (CRATES / source).iterdir() if p.name.endswith(SUFFIX))


def ids(value) -> list[str]:
    """The @id strings of a JSON-LD value (a reference, a list of references, or strings)."""
    if value is None:
        return []
    out = []
    for x in value if isinstance(value, list) else [value]:
        x = x.get("@id") if isinstance(x, dict) else x
        if isinstance(x, str):
            out.append(x)
    return out


def types(node: dict) -> list[str]:
    t = node.get("@type", [])
    return t if isinstance(t, list) else [t]


def taxon_iri(raw: str) -> str | None:
    m = re.search(r"(?i)ncbitaxon[_:]\s*0*([0-9]+)$", raw) or re.search(r"/datasets/taxonomy/0*([0-9]+)/?$", raw)
    return f"http://purl.obolibrary.org/obo/NCBITaxon_{int(m.group(1))}" if m else None


def fbbi_iri(raw: str) -> str | None:
    m = re.search(r"(?i)fbbi[_:]\s*([0-9]+)$", raw)
    return f"http://purl.obolibrary.org/obo/FBbi_{int(m.group(1)):08d}" if m else None


def publication_iri(raw: str, study: str) -> str:
    raw = raw.strip()
    m = re.fullmatch(r"(?i)(?:https?://(?:dx\.)?doi\.org/|doi:)\s*(10\..+)", raw)
    if m:
        return "https://doi.org/" + m.group(1).lower()
    m = re.fullmatch(r"https?://(?:www\.)?(?:ncbi\.nlm\.nih\.gov/pubmed|pubmed\.ncbi\.nlm\.nih\.gov)/([0-9]+)/?", raw)
    if m:
        return "https://pubmed.ncbi.nlm.nih.gov/" + m.group(1)
    if raw.isdigit():
        return "https://pubmed.ncbi.nlm.nih.gov/" + raw
    if raw.startswith("#"):
        return study + raw
    return raw


def author_iri(raw: str, study: str) -> str:
    """An author @id as the graph names it: resolved against the study IRI, characters no IRI may hold
    percent-encoded (one IDR crate writes "https://orcid.org/… (Name)")."""
    return re.sub(r'[\x00-\x20<>"{}|\\^`]', lambda m: f"%{ord(m.group()):02X}", urljoin(study, raw.strip()))


@dataclass
class Study:
    source: str  # folder under data/crates
    file: Path
    iri: str
    publisher: str
    publisher_name: str
    date: str | None
    license: str | None
    organisms: set[str] = field(default_factory=set)
    methods: set[str] = field(default_factory=set)
    citations: set[str] = field(default_factory=set)
    authors: int = 0
    author_ids: list[str] = field(default_factory=list)  # the root's `author` array, in its order
    keywords: list[str] = field(default_factory=list)  # the root's `keywords`, in order, each once


def read_study(source: str, path: Path) -> Study:
    doc = json.loads(path.read_bytes())
    nodes = {n["@id"]: n for n in doc["@graph"]}
    descriptor = next(n for n in doc["@graph"] if n["@id"].endswith(SUFFIX))
    iri = ids(descriptor["about"])[0]
    root = nodes[iri]
    publisher = ids(root["publisher"])[0]
    study = Study(
        source=source,
        file=path,
        iri=iri,
        publisher=publisher,
        publisher_name=nodes[publisher]["name"],
        date=root.get("datePublished"),
        license=root.get("license"),
        authors=len(ids(root.get("author"))),
        author_ids=[author_iri(a, iri) for a in ids(root.get("author"))],
        keywords=list(dict.fromkeys(ids(root.get("keywords")))),
    )
    for ref in ids(root.get("about")):
        node = nodes.get(ref, {})
        if taxon_iri(ref):  # an NCBI taxon in `about`, typed Taxon or (203-Tanabe) DefinedTerm
            study.organisms.add(taxon_iri(ref))
        for t in ids(node.get("taxonomicRange")):
            if taxon_iri(t):
                study.organisms.add(taxon_iri(t))
    for ref in ids(root.get("measurementMethod")):
        if fbbi_iri(ref):
            study.methods.add(fbbi_iri(ref))
        for t in ids(nodes.get(ref, {}).get("measurementTechnique")):
            if fbbi_iri(t):
                study.methods.add(fbbi_iri(t))
    for ref in ids(root.get("citation")) + ids(root.get("seeAlso")):
        study.citations.add(publication_iri(ref, iri))
    return study


@cache
def all_studies() -> dict[str, Study]:
    """Study IRI → facts, for every bundled crate of every source."""
    out = {}
    for source in SOURCES:
        for path in crate_files(source):
            s = read_study(source, path)
            assert s.iri not in out, f"{s.iri} is described twice in the bundled snapshot"
            out[s.iri] = s
    return out
