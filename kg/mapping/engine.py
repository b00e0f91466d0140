"""The generic mapping engine: parse records into a staging store, normalise IRIs, run the SPARQL rules.

Rules are data (`mappings/<kind>/*.ru`, applied in file-name order). Each record sits in its own named
graph of an in-memory staging store, so every rule runs once per source over all records (fast) while
a record can still be dropped alone when it fails a check.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from ..config import MAPPINGS
from ..namespaces import record_iri
from ..records import Quarantined, RawRecord
from .iri_rules import RDF_TYPE, IriNormaliser
from .rocrate import CrateError, parse_crate

DATASET = ox.NamedNode("http://schema.org/Dataset")


@dataclass
class RuleSet:
    """The ordered SPARQL Update rules of one record kind, and their combined version hash (which also
    covers the kind's TOML mapping data, e.g. mappings/rocrate/order.toml)."""

    kind: str
    files: list[Path]
    data: list[Path] = field(default_factory=list)

    @classmethod
    def load(cls, kind: str, folder: Path | None = None) -> RuleSet:
        """The rules of `mappings/<kind>/` plus the shared `mappings/common/`, in file-name order."""
        root = folder or MAPPINGS
        own = sorted((root / kind).glob("*.ru"))
        if not own and not (root / kind).is_dir():
            raise FileNotFoundError(f"no mapping folder {root / kind}")
        files = sorted(own + sorted((root / "common").glob("*.ru")), key=lambda p: p.name)
        return cls(kind, files, sorted((root / kind).glob("*.toml")))

    @property
    def version(self) -> str:
        h = hashlib.sha256()
        for f in self.files + self.data + [MAPPINGS / "iri-normalisation.tsv"]:
            if f.exists():
                h.update(f.name.encode() + b"\0" + f.read_bytes())
        return h.hexdigest()[:16]

    def file_digests(self) -> list[tuple[str, str]]:
        """(path under mappings/, SHA-256) of every file this rule set's version covers."""
        out = []
        for f in self.files + self.data + [MAPPINGS / "iri-normalisation.tsv"]:
            if f.exists():
                out.append(
                    (
                        str(f.relative_to(MAPPINGS)) if f.is_relative_to(MAPPINGS) else f.name,
                        hashlib.sha256(f.read_bytes()).hexdigest(),
                    )
                )
        return out

    def apply(self, store: ox.Store) -> None:
        for f in self.files:
            try:
                store.update(f.read_text(encoding="utf-8"))
            except SyntaxError as e:
                raise ValueError(f"mapping rule {f.name} is not valid SPARQL Update: {e}") from e


@dataclass
class MappedRecord:
    record: RawRecord
    graph: ox.NamedNode  # the record's graph in the staging store
    study: str | None  # root Dataset IRI (None for a record that describes many studies)
    publisher: str | None
    studies: list[str] = field(default_factory=list)  # every study the mapped record describes


@dataclass
class MappingResult:
    staging: ox.Store
    mapped: list[MappedRecord] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)
    rules: RuleSet | None = None
    iri_changes: dict[str, int] = field(default_factory=dict)

    def split(self, failures: dict[str, str]) -> tuple[list[MappedRecord], list[Quarantined]]:
        """The mapped records that passed the record checks, and those quarantined by `failures` (record
        graph IRI -> reason), in record order; in process and in the mapping workers alike."""
        passed, failed = [], []
        for m in self.mapped:
            reason = failures.get(m.graph.value)
            if reason:
                failed.append(Quarantined(m.record, reason))
            else:
                passed.append(m)
        return passed, failed


def map_crates(
    records: Iterable[RawRecord],
    assign: Callable[[RawRecord, str, str | None], str | None],
    rules: RuleSet | None = None,
    progress: Callable[[int], None] | None = None,
    parser: Callable = parse_crate,
    context: Iterable[ox.Quad] = (),
    seen: dict[str, str] | None = None,
) -> MappingResult:
    """Parse and map records (GIDE RO-Crates by default; `parser` reads another record kind).

    `assign(record, study_iri, publisher_iri)` returns a quarantine reason, or None to accept the record
    (it also sets `record.source` when the source is read from the crate). `context` quads go into the
    staging store before the rules run (e.g. the studies already served, for reconciliation rules). `seen`
    (study IRI -> record name) carries the collision check across the chunks of one harvest.
    """
    rules = rules or RuleSet.load("rocrate")
    staging = ox.Store()
    result = MappingResult(staging=staging, rules=rules)
    norm = IriNormaliser()

    def fix_iri(iri: str) -> str | None:
        node = norm.normalise(iri)
        return node.value if node is not None else None

    seen = {} if seen is None else seen
    batch: list[ox.Quad] = []
    for rec in records:
        if progress:
            progress(1)
        try:
            graph = ox.NamedNode(record_iri(rec.source or "unassigned", rec.name))
            parsed = parser(rec.content, graph, fix_iri)
        except CrateError as e:
            result.quarantined.append(Quarantined(rec, str(e)))
            continue
        study = (norm.normalise(parsed.root) or ox.NamedNode(parsed.root)).value if parsed.root else None
        reason = assign(rec, study, parsed.publisher)
        if reason is None and study is not None and study in seen:
            reason = f"study {study} is already described by record {seen[study]}"
        if reason is not None:
            result.quarantined.append(Quarantined(rec, reason))
            continue
        if rec.source and not graph.value.startswith(record_iri(rec.source, "")):
            graph = ox.NamedNode(record_iri(rec.source, rec.name))
            parsed.quads = [ox.Quad(q.subject, q.predicate, q.object, graph) for q in parsed.quads]
        if study is not None:
            seen[study] = rec.name
        batch.extend(norm.rewrite(parsed.quads))
        result.mapped.append(MappedRecord(rec, graph, study, parsed.publisher))
    staging.extend(batch)
    staging.extend(context)
    rules.apply(staging)
    studies: dict[str, list[str]] = {}  # an index scan: the same rows as a SPARQL SELECT, ~10x less time
    rows = staging.quads_for_pattern(None, RDF_TYPE, DATASET)
    for q in sorted(rows, key=lambda q: (isinstance(q.subject, ox.NamedNode), q.subject.value)):  # SPARQL order
        if isinstance(q.graph_name, ox.NamedNode):
            studies.setdefault(q.graph_name.value, []).append(q.subject.value)
    for m in result.mapped:
        m.studies = studies.get(m.graph.value, [])
    result.iri_changes = dict(norm.applied)
    return result
