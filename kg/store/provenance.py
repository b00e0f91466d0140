"""PROV-O description of a harvest: the run (activity), each source record (entity), each study's origin."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyoxigraph as ox

from ..namespaces import KG, MAPPING, PROV, PROVENANCE_GRAPH, RDF, RUN, XSD, record_iri


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _dt(value: datetime) -> ox.Literal:
    return ox.Literal(value.isoformat(), datatype=_n(XSD + "dateTime"))


def _int(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=_n(XSD + "integer"))


A = _n(RDF + "type")
G = _n(PROVENANCE_GRAPH)


@dataclass
class RunRecord:
    """What one harvest run of one source did."""

    source: str
    started: datetime
    ended: datetime | None = None
    status: str = "running"
    mapping_kind: str = "rocrate"
    mapping_version: str = ""
    records_seen: int = 0
    studies_loaded: int = 0
    quarantined: int = 0
    error: str = ""
    target_graph: str = ""
    extra: dict = field(default_factory=dict)
    mapping_files: list = field(default_factory=list)  # (path under mappings/, sha256)
    # `started` is kept to the second (for display); the IRI needs the microseconds, or two runs of a
    # source within one second (a failed run, then a retry) would share an IRI and merge their statements
    created: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def iri(self) -> str:
        return f"{RUN}{self.source}/{self.created.strftime('%Y%m%dT%H%M%S.%fZ')}"


def run_quads(run: RunRecord) -> list[ox.Quad]:
    r = _n(run.iri)
    q = [
        (r, A, _n(PROV + "Activity")),
        (r, A, _n(KG + "HarvestRun")),
        (r, _n(KG + "harvestSource"), ox.Literal(run.source)),
        (r, _n(PROV + "startedAtTime"), _dt(run.started)),
        (r, _n(KG + "status"), ox.Literal(run.status)),
        (r, _n(KG + "recordsSeen"), _int(run.records_seen)),
        (r, _n(KG + "studiesLoaded"), _int(run.studies_loaded)),
        (r, _n(KG + "recordsQuarantined"), _int(run.quarantined)),
        (r, _n(PROV + "wasAssociatedWith"), _n(KG + "Harvester")),
    ]
    if run.ended:
        q.append((r, _n(PROV + "endedAtTime"), _dt(run.ended)))
    if run.mapping_version:
        m = _n(f"{MAPPING}{run.mapping_kind}/{run.mapping_version}")
        q += [
            (r, _n(PROV + "used"), m),
            (m, A, _n(KG + "MappingVersion")),
            (m, _n(KG + "mappingKind"), ox.Literal(run.mapping_kind)),
        ]
        for path, digest in run.mapping_files:
            q.append((m, _n(KG + "mappingFile"), ox.Literal(f"{path} sha256:{digest}")))
    if run.error:
        q.append((r, _n(KG + "error"), ox.Literal(run.error)))
    if run.target_graph and run.status == "succeeded":
        q.append((r, _n(PROV + "generated"), _n(run.target_graph)))
    for k, v in run.extra.items():
        q.append((r, _n(KG + k), _int(v) if isinstance(v, int) else ox.Literal(str(v))))
    return [ox.Quad(s, p, o, G) for s, p, o in q]


def run_count_quads(run: RunRecord, counts: dict[str, int]) -> list[ox.Quad]:
    """Counts known only after the store write (quads added / removed), as statements on the run."""
    r = _n(run.iri)
    return [ox.Quad(r, _n(KG + k), _int(v), G) for k, v in counts.items()]


_ENTITY, _SOURCE_RECORD, _QUARANTINED = _n(PROV + "Entity"), _n(KG + "SourceRecord"), _n(KG + "QuarantinedRecord")
_HARVEST_SOURCE, _FILE_NAME, _SHA256 = _n(KG + "harvestSource"), _n(KG + "fileName"), _n(KG + "sha256")
_GENERATED_AT, _GENERATED_BY, _DERIVED_FROM = (
    _n(PROV + "generatedAtTime"),
    _n(PROV + "wasGeneratedBy"),
    _n(PROV + "wasDerivedFrom"),
)
_AT_LOCATION, _LOCATION, _ETAG, _REASON = (
    _n(PROV + "atLocation"),
    _n(KG + "location"),
    _n(KG + "etag"),
    _n(KG + "quarantineReason"),
)


def record_quads(run: RunRecord, record, study: str | None, reason: str | None = None) -> list[ox.Quad]:
    """Entity for one raw record; for a loaded one, the study it gave; for a quarantined one, why not.
    (Terms that every record shares are built once: a large harvest writes millions of these quads.)"""
    rec = _n(record_iri(run.source, record.name))
    src = ox.Literal(run.source)
    q = [
        (rec, A, _ENTITY),
        (rec, A, _QUARANTINED if reason else _SOURCE_RECORD),
        (rec, _HARVEST_SOURCE, src),
        (rec, _FILE_NAME, ox.Literal(record.name)),
        (rec, _SHA256, ox.Literal(record.sha256)),
        (rec, _GENERATED_AT, _dt(record.fetched_at)),
        (rec, _GENERATED_BY, _n(run.iri)),
    ]
    if record.location:
        try:
            q.append((rec, _AT_LOCATION, _n(record.location)))
        except ValueError:
            q.append((rec, _LOCATION, ox.Literal(record.location)))
    if record.etag:
        q.append((rec, _ETAG, ox.Literal(record.etag)))
    if reason:
        q.append((rec, _REASON, ox.Literal(reason)))
    quads = [ox.Quad(s, p, o, G) for s, p, o in q]
    if study:
        quads += derivation_quads(run, record, study)
    return quads


def derivation_quads(run: RunRecord, record, study: str) -> list[ox.Quad]:
    """The study derives from the record, in this run, for this source."""
    s, rec = _n(study), _n(record_iri(run.source, record.name))
    return [
        ox.Quad(s, _DERIVED_FROM, rec, G),
        ox.Quad(s, _GENERATED_BY, _n(run.iri), G),
        ox.Quad(s, _HARVEST_SOURCE, ox.Literal(run.source), G),
    ]
