"""IDR study files (`idrNNNN-study.txt`) → RDF quads, driven by mappings/idr-study/mapping.toml.

The reader is generic: it copes with what the real files contain (UTF-8 or cp1252, CRLF / CR line
endings, quoted multi-line cells, trailing tabs) and returns sections of key → cells: the study
section, then one section per `Screen Number` / `Experiment Number` block. What each key means is data.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pyoxigraph as ox

from ..config import MAPPINGS
from ..namespaces import PREFIXES, RDF, SCHEMA, term_namespaces
from .order_lists import FIRST, NIL, REST, cell_iris
from .rocrate import CrateError, ParsedCrate

BLOCK_STARTS = {"Screen Number": "screen", "Experiment Number": "experiment"}


@dataclass
class Section:
    kind: str  # "study", "screen" or "experiment"
    number: str = ""
    rows: dict[str, list[str]] = field(default_factory=dict)

    def cells(self, key: str) -> list[str]:
        return self.rows.get(key, [])

    def first(self, key: str) -> str:
        return next((c for c in self.cells(key) if c), "")


def decode(content: bytes) -> str:
    """UTF-8 when it is, else Windows-1252 (13 of the real files); line endings made \\n."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("cp1252", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_sections(content: bytes) -> list[Section]:
    sections = [Section("study")]
    for row in csv.reader(io.StringIO(decode(content)), delimiter="\t", quotechar='"'):
        if not row:
            continue
        key = row[0].strip()
        if not key or key.startswith("#"):
            continue
        cells = [c.strip() for c in row[1:]]
        while cells and not cells[-1]:
            cells.pop()
        if key in BLOCK_STARTS:
            sections.append(Section(BLOCK_STARTS[key], cells[0] if cells else str(len(sections))))
            continue
        sections[-1].rows.setdefault(key, cells)
    return sections


@cache
def load_mapping(folder: str = str(MAPPINGS / "idr-study")) -> tuple[dict, dict[str, str]]:
    folder_p = Path(folder)
    with open(folder_p / "mapping.toml", "rb") as f:
        spec = tomllib.load(f)
    sources = {row["prefix"].lower(): row["namespace"] for row in term_namespaces()}
    for line in (folder_p / "term-sources.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            prefix, ns = line.split("\t")[:2]
            sources[prefix.lower()] = ns
    return spec, sources


def _expand(curie: str) -> ox.NamedNode:
    prefix, local = curie.split(":", 1)
    return ox.NamedNode(PREFIXES[prefix] + local)


_ACCESSION = re.compile(r"^([A-Za-z][A-Za-z-]*?)[_: ]\s*([A-Za-z]?[0-9][0-9A-Za-z]*)$")


def term_iri(accession: str, source_ref: str, sources: dict[str, str]) -> str | None:
    """IRI of an accession written FBbi_00000246, Fbbi_…, FBbi:…, NCBITaxon_9606, 9606 (+ REF) or a full IRI."""
    acc = accession.strip().strip('"')
    if not acc:
        return None
    if re.match(r"^https?://\S+$", acc):
        return acc
    m = _ACCESSION.match(acc)
    if m and m.group(1).lower() in sources:
        return sources[m.group(1).lower()] + m.group(2)
    if re.fullmatch(r"[0-9]+", acc) and source_ref.strip().lower() in sources:
        return sources[source_ref.strip().lower()] + acc
    return None


class _Builder:
    """Accumulates quads for one study file."""

    def __init__(self, graph, fix_iri: Callable[[str], str | None] | None, sources: dict[str, str]):
        self.graph = graph or ox.DefaultGraph()
        self.fix = fix_iri
        self.sources = sources
        self.quads: list[ox.Quad] = []

    def add(self, s, p, o) -> None:
        self.quads.append(ox.Quad(s, p if isinstance(p, ox.NamedNode) else _expand(p), o, self.graph))

    def ordered(self, subject: ox.NamedNode, p: str, items: list) -> None:
        """`subject p ( item … )`: the items as an rdf:List (stable cell IRIs), in the file's order."""
        if not items:
            return
        cells = [ox.NamedNode(c) for c in cell_iris(subject.value, _expand(p).value, "idr-study", len(items))]
        self.add(subject, p, cells[0])
        for i, (cell, item) in enumerate(zip(cells, items, strict=True)):
            self.add(cell, ox.NamedNode(FIRST), item)
            self.add(cell, ox.NamedNode(REST), cells[i + 1] if i + 1 < len(cells) else ox.NamedNode(NIL))

    def iri(self, value: str) -> ox.NamedNode | None:
        value = value.strip()
        fixed = self.fix(value) if self.fix else None
        try:
            return ox.NamedNode(fixed or value)
        except ValueError:
            return None

    def value(self, kind: str, cell: str):
        """The RDF term for one cell of the given kind (None when the cell cannot be one)."""
        cell = cell.strip()
        if not cell:
            return None
        if kind == "iri":
            return self.iri(cell) if re.match(r"^https?://\S+$", cell) else None
        if kind == "doi":
            m = re.search(r"(10\.[0-9]+/\S+)", cell)
            return self.iri("https://doi.org/" + m.group(1)) if m else None
        if kind == "pubmed":
            return self.iri("https://pubmed.ncbi.nlm.nih.gov/" + cell) if cell.isdigit() else None
        if kind == "orcid":
            m = re.search(r"([0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{3}[0-9X])", cell)
            return self.iri("https://orcid.org/" + m.group(1)) if m else None
        return ox.Literal(cell)

    def terms(self, section: Section, key: str, spec: dict) -> list[tuple[ox.NamedNode | None, str]]:
        """(IRI or None, name) for each column of a term row and its aligned accession / source rows."""
        names = section.cells(key)
        stem = key[: -len(" Term Name")] if key.endswith(" Term Name") else key
        accs = section.cells(spec.get("accession", f"{stem} Term Accession"))
        refs = section.cells(spec.get("source", f"{stem} Term Source REF"))
        out = []
        for i in range(max(len(names), len(accs))):
            name = names[i] if i < len(names) else ""
            acc = accs[i] if i < len(accs) else ""
            ref = refs[i] if i < len(refs) else (refs[0] if len(refs) == 1 else "")
            allowed = [x.lower() for x in spec.get("sources", [])]
            if spec.get("numbers_are") and acc.strip().isdigit() and ref.strip().lower() not in allowed:
                ref = spec["numbers_are"]
            iri = term_iri(acc, ref, self.sources)
            node = self.iri(iri) if iri else None
            if node is not None or name:
                out.append((node, name))
        return out

    def fields(self, subject: ox.NamedNode, section: Section, spec: dict, study: ox.NamedNode | None = None) -> None:
        for key, f in spec.items():
            if not isinstance(f, dict) or key not in section.rows:
                continue
            kind = f.get("kind", "literal")
            if kind == "term":
                for node, name in self.terms(section, key, f):
                    if node is None:  # no usable accession: keep the name as text on the same predicate
                        self.add(subject, f["p"], ox.Literal(name))
                        continue
                    self.add(subject, f["p"], node)
                    if study is not None and f.get("also_on_study"):
                        self.add(study, f["p"], node)
                    if name:
                        self.add(node, "rdfs:label", ox.Literal(name))
                continue
            terms = [t for t in (self.value(kind, cell) for cell in section.cells(key)) if t is not None]
            for term in terms:
                self.add(subject, f["p"], term)
            if f.get("order"):  # the cells' order, kept as a list besides the statements
                self.ordered(subject, f["order"], terms)


def parse_idr_study(content: bytes, graph_name: ox.NamedNode | None = None, fix_iri=None) -> ParsedCrate:
    """One study file → quads about `https://idr.openmicroscopy.org/study/<accession>/` (a ParsedCrate)."""
    spec, sources = load_mapping()
    sections = read_sections(content)
    study_sec = sections[0]
    accession = study_sec.first(spec["accession_key"])
    if not re.fullmatch(r"idr[0-9]{4}", accession):
        raise CrateError(f"no IDR study accession ({spec['accession_key']!r} is {accession!r})")
    if not study_sec.first("Study Title"):
        raise CrateError("study file has no Study Title")
    b = _Builder(graph_name, fix_iri, sources)
    study = ox.NamedNode(spec["study_iri"].format(accession=accession))
    b.add(study, ox.NamedNode(RDF + "type"), ox.NamedNode(SCHEMA + "Dataset"))
    b.add(study, "schema:identifier", ox.Literal(accession))
    b.add(study, "schema:publisher", ox.NamedNode(spec["publisher"]))
    b.fields(study, study_sec, spec["study"])
    pub = spec.get("publication", {})
    title = study_sec.first(pub.get("title", ""))
    for q in [q for q in b.quads if q.subject == study and q.predicate.value == SCHEMA + "citation"]:
        b.add(q.object, ox.NamedNode(RDF + "type"), ox.NamedNode(SCHEMA + "ScholarlyArticle"))
        if title:
            b.add(q.object, "schema:name", ox.Literal(title))
        if study_sec.first(pub.get("authors", "")):
            b.add(q.object, "kg:authorList", ox.Literal(study_sec.first(pub["authors"])))
    for name, group in spec.get("groups", {}).items():
        _group(b, study, study, study_sec, name, group)
    counters: dict[str, int] = {}
    for sec in sections[1:]:
        counters[sec.kind] = counters.get(sec.kind, 0) + 1
        node = ox.NamedNode(f"{study.value}#{sec.kind}-{counters[sec.kind]}")
        b.add(node, ox.NamedNode(RDF + "type"), _expand(f"kg:{sec.kind.capitalize()}"))
        b.add(study, "schema:hasPart", node)
        b.add(node, "schema:isPartOf", study)
        b.fields(node, sec, spec["block"], study)
        for name, group in spec.get("groups", {}).items():
            _group(b, study, node, sec, f"{sec.kind}-{counters[sec.kind]}-{name}", group)
    return ParsedCrate(root=study.value, publisher=spec["publisher"], quads=b.quads)


def _group(b: _Builder, study: ox.NamedNode, owner: ox.NamedNode, section: Section, name: str, group: dict) -> None:
    """One node per column of a set of aligned rows (persons, protocols)."""
    columns = {k: v for k, v in group.items() if isinstance(v, dict) and k in section.rows and k != "id"}
    if not columns:
        return
    width = max(len(section.cells(k)) for k in columns)
    id_spec = group.get("id")
    linked: list[ox.NamedNode] = []
    for i in range(width):
        if not any(i < len(section.cells(k)) and section.cells(k)[i] for k in columns):
            continue
        node = None
        if id_spec:
            cells = section.cells(id_spec["key"])
            node = b.value(id_spec["kind"], cells[i]) if i < len(cells) else None
        node = node or ox.NamedNode(f"{study.value}#{name}-{i + 1}")
        b.add(owner, group["link"], node)
        linked.append(node)
        b.add(node, ox.NamedNode(RDF + "type"), _expand(group["type"]))
        one = Section(
            section.kind,
            section.number,
            {k: [section.cells(k)[i]] if i < len(section.cells(k)) else [] for k in columns},
        )
        b.fields(node, one, columns)
        names = [one.first(k) for k in ("Study Person First Name", "Study Person Last Name") if one.first(k)]
        if names:
            b.add(node, "schema:name", ox.Literal(" ".join(names)))
    if group.get("order"):  # the columns' order (e.g. the authors'), kept as a list besides the links
        b.ordered(owner, group["order"], linked)
