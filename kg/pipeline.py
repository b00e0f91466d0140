"""Harvest → mapping → validation → store, for one source at a time.

Composes the stages (the CLI, the tests and the benchmarks call it; `serve` never does). A source's
graph is replaced only after its records are mapped and checked; any failure before the swap leaves the
previous graph served and is recorded as a failed run in the provenance graph.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from .config import Source
from .harvest import rocrate_dir, rocrate_http
from .harvest.http import Fetcher
from .records import Quarantined, RawRecord, utcnow
from .mapping.engine import RuleSet, map_crates
from .mapping.idr_study import parse_idr_study
from .mapping.rdf_file import parse_turtle
from .mapping.rocrate import parse_crate
from .namespaces import source_graph
from .store.oxigraph_store import OxigraphStore
from .store.provenance import RunRecord, derivation_quads, record_quads, run_count_quads, run_quads
from .validate import failing_records, load_checks

UNASSIGNED = "unassigned"
CHUNK_RECORDS = 2000  # records mapped at a time; a source's chunks reach the store through its writer


@dataclass(frozen=True)
class RecordKind:
    """How to find and read one kind of record: adding a source kind is one entry here plus its mapping."""

    pattern: str  # file-name pattern in a snapshot folder
    parse: Callable  # bytes, graph, fix_iri -> ParsedCrate
    rules: str  # mapping folder under mappings/
    suffix: str  # file-name suffix taken from a live listing
    known_studies: bool = False  # the rules reconcile against the studies already served


KINDS = {
    "rocrate": RecordKind("*ro-crate-metadata.json", parse_crate, "rocrate", "ro-crate-metadata.json"),
    "idr-study": RecordKind("*-study.txt", parse_idr_study, "idr-study", "-study.txt"),
    "ssbd-rdf": RecordKind("*.ttl", parse_turtle, "ssbd-rdf", ".ttl", known_studies=True),
}
KNOWN_STUDIES = ox.NamedNode("urn:kg:known-studies")


def known_studies(store: OxigraphStore) -> list[ox.Quad]:
    """Identifier and publisher of every served study, for rules that reconcile native records."""
    rows = store.query(
        "SELECT ?s ?id ?pub WHERE { ?s a <http://schema.org/Dataset> ; <http://schema.org/identifier> ?id ; <http://schema.org/publisher> ?pub }"
    )
    out = []
    for r in rows:
        out.append(ox.Quad(r["s"], ox.NamedNode("http://schema.org/identifier"), r["id"], KNOWN_STUDIES))
        out.append(ox.Quad(r["s"], ox.NamedNode("http://schema.org/publisher"), r["pub"], KNOWN_STUDIES))
    return out


@dataclass
class SourceReport:
    source: str
    records: int = 0
    studies: int = 0
    quarantined: list[Quarantined] = field(default_factory=list)
    triples: int = 0
    error: str = ""
    run_iri: str = ""
    seconds: float = 0.0
    live: dict = field(default_factory=dict)
    changes: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)  # seconds: map (parse, rules, checks), load (store write)
    run_extra: dict = field(default_factory=dict)  # record counts of the run (added / removed / changed)

    @property
    def ok(self) -> bool:
        return not self.error


Progress = Callable[[int], None]


def _assigner(sources: dict[str, Source], fixed: str | None):
    """Decide which source a crate belongs to, from its publisher and study IRI."""
    by_publisher = {s.publisher.rstrip("/"): s for s in sources.values() if s.kind == "rocrate"}

    def assign(rec: RawRecord, study: str | None, publisher: str | None) -> str | None:
        if study is None:  # a record of many studies (native RDF): its source is the one harvested
            if fixed in sources:
                rec.source = fixed
                return None
            return "a record without a single study can only be harvested as a configured source"
        pub = (publisher or "").rstrip("/")
        src = sources.get(fixed) if fixed else by_publisher.get(pub)
        if src is None:
            if fixed:
                return f"unknown source {fixed!r}"
            for s in sources.values():
                if re.match(s.root, study):
                    src = s
                    break
        if src is None:
            return f"publisher {publisher!r} and study IRI {study} match no configured source"
        if pub and pub != src.publisher.rstrip("/"):
            return f"crate is published by {publisher}, but source {src.name!r} publishes as {src.publisher}"
        if not re.match(src.root, study):
            return f"study IRI {study} does not look like a {src.label} study (expected {src.root})"
        rec.source = src.name
        return None

    return assign


def harvest_records(
    store: OxigraphStore,
    sources: dict[str, Source],
    records: Iterable[RawRecord],
    only: str | None = None,
    progress: Progress | None = None,
    rules: RuleSet | None = None,
    extra_quarantine: list[Quarantined] | None = None,
    chunk_records: int = CHUNK_RECORDS,
) -> list[SourceReport]:
    """Map a stream of records and swap in one graph per source they belong to.

    Records are mapped `chunk_records` at a time (rules and checks are per record, so chunks change no
    result) and each chunk goes to the source's writer, which keeps it or stages it in the store: memory
    stays bounded for a source of any size, and the served graph is replaced only at the end."""
    t0 = utcnow()
    clock = time.perf_counter()
    kind_name = sources[only].kind if only else "rocrate"
    kind = KINDS[kind_name]
    rules = rules or RuleSet.load(kind.rules)
    context = known_studies(store) if kind.known_studies else []
    checks = load_checks(kind_name)
    assign = _assigner(sources, only)
    seen: dict[str, str] = {}
    quarantined = list(extra_quarantine or [])
    by_source: dict[str, list] = {}
    writers: dict[str, object] = {}
    load_seconds: dict[str, float] = {}
    map_seconds = 0.0
    try:
        for chunk in _chunks(records, chunk_records):
            c = time.perf_counter()
            result = map_crates(chunk, assign, rules=rules, progress=progress, parser=kind.parse, context=context, seen=seen)
            failures = failing_records(result.staging, checks)
            quarantined += result.quarantined
            graphs: dict[str, list[ox.NamedNode]] = {}
            for m in result.mapped:
                reason = failures.get(m.graph.value)
                if reason:
                    quarantined.append(Quarantined(m.record, reason))
                    continue
                by_source.setdefault(m.record.source, []).append(m)
                graphs.setdefault(m.record.source, []).append(m.graph)
                m.record.content = b""  # mapped: only its name, location, time and hash are still needed
            map_seconds += time.perf_counter() - c
            for name, record_graphs in graphs.items():
                c = time.perf_counter()
                if name not in writers:
                    writers[name] = store.source_writer(source_graph(name), name)
                writers[name].add_graphs(result.staging, record_graphs)
                load_seconds[name] = load_seconds.get(name, 0.0) + time.perf_counter() - c
            del result
    except BaseException:
        for w in writers.values():
            w.abort()
        raise
    groups: dict[str, list[Quarantined]] = {}
    for q in quarantined:
        groups.setdefault(q.record.source or only or UNASSIGNED, []).append(q)
    targets = [only] if only else sorted(set(by_source) | set(groups))
    try:
        return [_finish(store, name, by_source.get(name, []), groups.get(name, []), sources, writers, rules, t0, clock,
                        map_seconds, load_seconds.get(name, 0.0)) for name in targets]
    finally:
        for w in writers.values():
            w.abort()  # a no-op for a committed writer; drops the staging graph of one that was not


def _finish(store, name, mapped, q_here, sources, writers, rules, t0, clock, map_seconds, load_seconds) -> SourceReport:
    """Record the run of one source and swap its new graph in (or record why nothing loaded)."""
    label = sources[name].label if name in sources else "records of no known source"
    run = RunRecord(source=name, started=t0, mapping_kind=rules.kind, mapping_version=rules.version,
                    mapping_files=rules.file_digests())
    run.records_seen = len(mapped) + len(q_here)
    run.quarantined = len(q_here)
    run.target_graph = source_graph(name)
    report = SourceReport(name, records=run.records_seen, quarantined=q_here, run_iri=run.iri)
    if not mapped:
        run.status, run.ended = "failed", utcnow()
        if name != UNASSIGNED:
            run.error = report.error = f"no record of {label} could be loaded ({len(q_here)} quarantined)"
        prov = run_quads(run) + [x for q in q_here for x in record_quads(run, q.record, None, q.reason)]
        store.append(prov)
        return report
    run.studies_loaded = len({st for m in mapped for st in m.studies})
    old = store.record_hashes(name)
    new = {m.record.name: m.record.sha256 for m in mapped}
    run.extra.update(
        recordsAdded=len(new.keys() - old.keys()),
        recordsRemoved=len(old.keys() - new.keys()),
        recordsChanged=sum(1 for k in new.keys() & old.keys() if new[k] != old[k]),
        recordsUnchanged=sum(1 for k in new.keys() & old.keys() if new[k] == old[k]),
    )
    run.status, run.ended = "succeeded", utcnow()
    prov = run_quads(run)
    for m in mapped:
        prov += record_quads(run, m.record, None)
        for st in m.studies:
            prov += derivation_quads(run, m.record, st)
    for q in q_here:
        prov += record_quads(run, q.record, None, q.reason)
    load_clock = time.perf_counter()
    changes = writers[name].commit(prov)
    report.triples = changes.pop("triples")
    report.changes = changes
    store.append(run_count_quads(run, {"quadsAdded": changes["added"], "quadsRemoved": changes["removed"]}))
    report.timings = {"map": map_seconds, "load": load_seconds + time.perf_counter() - load_clock}
    report.studies = run.studies_loaded
    report.run_extra = dict(run.extra)
    report.seconds = time.perf_counter() - clock
    return report


def _chunks(records: Iterable[RawRecord], size: int):
    it = iter(records)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def rebuild_links(store: OxigraphStore) -> int:
    """Recompute the cross-repository links graph from what is served now; returns its size."""
    from .mapping.links import LINKS_GRAPH, derive_links

    triples = derive_links(store)
    store.replace_graph(LINKS_GRAPH, [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(LINKS_GRAPH)) for t in triples])
    return len(triples)


def rebuild_grounding(store: OxigraphStore, index=None) -> tuple[int, int]:
    """Ground the text-only organism / method values (curated SSSOM rows first); returns (grounded, left)."""
    from .terms import TermIndex
    from .terms.grounding import GROUNDING_GRAPH, decide_all, grounding_quads, text_values

    index = index or TermIndex.from_store(store)
    decisions = decide_all(index, text_values(store))
    store.replace_graph(GROUNDING_GRAPH, grounding_quads(decisions))
    grounded = sum(1 for d in decisions if d.iri)
    return grounded, len(decisions) - grounded


def record_failed_run(store: OxigraphStore, source: str, error: str) -> SourceReport:
    run = RunRecord(source=source, started=utcnow(), status="failed", error=error)
    run.ended = utcnow()
    store.append(run_quads(run))
    return SourceReport(source, error=error, run_iri=run.iri)


def harvest_snapshot(store: OxigraphStore, source: Source, progress: Progress | None = None,
                     chunk_records: int = CHUNK_RECORDS) -> SourceReport:
    """Harvest one source from its bundled snapshot folder."""
    if source.snapshot is None or not Path(source.snapshot).is_dir():
        return record_failed_run(store, source.name, f"snapshot folder {source.snapshot} not found")
    records = rocrate_dir.iter_records(source.snapshot, source.name, KINDS[source.kind].pattern)
    return harvest_records(store, {source.name: source}, records, only=source.name, progress=progress, chunk_records=chunk_records)[0]


def harvest_live(
    store: OxigraphStore, source: Source, cache_dir: Path, fetcher: Fetcher | None = None, progress: Progress | None = None
) -> SourceReport:
    """Harvest one source live: a file listing over HTTP, or a CONSTRUCT against a SPARQL endpoint."""
    if source.live.get("endpoint"):
        return _harvest_sparql(store, source, progress)
    if not source.live.get("listing"):
        return record_failed_run(store, source.name, "no live listing URL configured")
    stats = rocrate_http.LiveStats()
    cache = rocrate_http.CrateCache(Path(cache_dir) / source.name)
    try:
        records = list(
            rocrate_http.iter_live(
                source.name, source.live["listing"], source.live.get("suffix", KINDS[source.kind].suffix), cache, fetcher, stats
            )
        )
    except rocrate_http.ListingError as e:
        return record_failed_run(store, source.name, str(e))
    report = harvest_records(
        store, {source.name: source}, records, only=source.name, progress=progress, extra_quarantine=stats.failed
    )[0]
    report.live = {
        "listed": stats.listed,
        "downloaded": stats.downloaded,
        "unchanged": stats.unchanged,
        "failed": len(stats.failed),
        "stale": list(stats.stale),
    }
    return report


def _harvest_sparql(store: OxigraphStore, source: Source, progress: Progress | None = None) -> SourceReport:
    from .config import MAPPINGS
    from .harvest.http import FetchError
    from .harvest.sparql_endpoint import construct_record

    query_file = MAPPINGS / source.live.get("query", f"{KINDS[source.kind].rules}/live-construct.rq")
    try:
        record = construct_record(source.name, source.live["endpoint"], query_file.read_text(encoding="utf-8"))
    except (FetchError, OSError) as e:
        return record_failed_run(store, source.name, str(e))
    size = len(record.content)
    report = harvest_records(store, {source.name: source}, [record], only=source.name, progress=progress)[0]
    report.live = {"endpoint": source.live["endpoint"], "bytes": size}
    return report


def harvest_folder(
    store: OxigraphStore, sources: dict[str, Source], folder: Path, progress: Progress | None = None
) -> list[SourceReport]:
    """Harvest every crate under a folder; each crate's source is read from the crate itself."""
    return harvest_records(store, sources, rocrate_dir.iter_records(folder), progress=progress)
