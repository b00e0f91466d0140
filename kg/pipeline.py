"""Harvest → mapping → checks → store, and the harvest sequence around it.

Composes the stages (the CLI, the tests and the benchmarks call it; `serve` never does). `run_harvest`
is the one harvest sequence: the load phase (ontologies, each source mapped, checked and swapped in, then
the derived graphs: links, closure, grounding) and the follow-up phase (SHACL validation of the sources
that changed, dumps), which can also run on its own once a server already answers. A source's graph is
replaced only after its records are mapped and checked; any failure before the swap leaves the previous
graph served and is recorded as a failed run in the provenance graph.
"""

from __future__ import annotations

import functools
import itertools
import os
import re
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyoxigraph as ox

from .config import Source, default_cache_path
from .derived_marker import clear_derived_stale, derived_stale, mark_derived_stale
from .harvest import rocrate_dir, rocrate_http
from .harvest.http import Fetcher
from .mapping.engine import RuleSet, map_crates
from .mapping.idr_study import parse_idr_study
from .mapping.rdf_file import parse_turtle
from .mapping.rocrate import parse_crate
from .namespaces import source_graph
from .records import Quarantined, RawRecord, utcnow
from .store.interface import SourceWriter, Store
from .store.provenance import RunRecord, derivation_quads, record_quads, run_count_quads, run_quads
from .validate import failing_records, load_checks

UNASSIGNED = "unassigned"
CHUNK_RECORDS = 2000  # records mapped at a time; a source's chunks reach the store through its writer
# records a mapping worker maps at a time: a staging store of 500 crates maps each crate ~10 % faster than one of
# 2,000 (at 30x: the workers' CPU 39 s against 44 s), and a source's last chunk leaves the other worker idle less long
WORKER_CHUNK_RECORDS = 500


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


def known_studies(store: Store) -> list[ox.Quad]:
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
    new_source: bool = False  # a publisher no source is configured for: its graph was derived from it
    graph: str = ""  # the named graph the source's records went to

    @property
    def ok(self) -> bool:
        return not self.error


Progress = Callable[[int], None]


def _assigner(sources: dict[str, Source], fixed: str | None, derived: set[str], new: set[str]):
    """Decide which source a crate belongs to, from its publisher and study IRI. In a folder harvest
    (`fixed` None), a crate of a publisher no source is configured for gets a source derived from the
    publisher (kg/new_sources.py), added to `sources`, `derived` and `new`."""
    from .new_sources import derive_source

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
                if s.name not in derived and re.match(s.root, study):
                    src = s
                    break
        if src is None and pub:
            src = derive_source(pub, set(sources))
            if src is not None:
                sources[src.name] = by_publisher[pub] = src
                derived.add(src.name)
                new.add(src.name)
        if src is None:
            return f"publisher {publisher!r} and study IRI {study} match no configured source, and the publisher is no http(s) IRI to derive a source from"
        if pub and pub != src.publisher.rstrip("/"):
            return f"crate is published by {publisher}, but source {src.name!r} publishes as {src.publisher}"
        if not re.match(src.root, study):
            return f"study IRI {study} does not look like a {src.label} study (expected {src.root})"
        rec.source = src.name
        return None

    return assign


def harvest_records(
    store: Store,
    sources: dict[str, Source],
    records: Iterable[RawRecord],
    only: str | None = None,
    progress: Progress | None = None,
    rules: RuleSet | None = None,
    extra_quarantine: list[Quarantined] | None = None,
    chunk_records: int = CHUNK_RECORDS,
    workers: int | None = None,
) -> list[SourceReport]:
    """Map a stream of records and swap in one graph per source they belong to.

    Records are mapped `chunk_records` at a time (rules and checks are per record, so chunks change no
    result) and each chunk goes to the source's writer, which keeps it or stages it in the store: memory
    stays bounded for a source of any size, and the served graph is replaced only at the end. A
    single-source harvest of several chunks maps them in `workers` processes (default `harvest_workers()`)."""
    t0 = utcnow()
    clock = time.perf_counter()
    kind_name = sources[only].kind if only else "rocrate"
    kind = KINDS[kind_name]
    rules = rules or RuleSet.load(kind.rules)
    context = known_studies(store) if kind.known_studies else []
    checks = load_checks(kind_name)
    derived: set[str] = set()
    new: set[str] = set()
    if only is None:  # a folder of crates: publishers seen before without configuration have their source
        from .new_sources import derived_sources

        known = derived_sources(store)
        derived |= set(known) - set(sources)
        sources = {**known, **sources}
    else:
        sources = dict(sources)
    assign = _assigner(sources, only, derived, new)
    seen: dict[str, str] = {}
    quarantined = list(extra_quarantine or [])
    by_source: dict[str, list] = {}
    writers: dict[str, SourceWriter] = {}
    load_seconds: dict[str, float] = {}
    map_seconds = 0.0

    def in_process(chunk: list[RawRecord]) -> _Chunk:
        result = map_crates(
            chunk, assign, rules=rules, progress=progress, parser=kind.parse, context=context, seen=seen
        )
        passed, checked = result.split(failing_records(result.staging, checks))
        return _Chunk(
            passed, result.quarantined + checked, lambda w, ms: w.add_graphs(result.staging, [m.graph for m in ms])
        )

    chunks = _chunks(records, chunk_records)
    head = list(itertools.islice(chunks, 2))
    chunks = itertools.chain(head, chunks)
    workers = harvest_workers() if workers is None else workers
    if workers > 1 and len(head) > 1 and only is not None and not context:  # a source of several chunks
        job = functools.partial(_chunk_job, functools.partial(_assign_to, sources, only), kind.parse, rules, checks)
        small = _chunks(itertools.chain.from_iterable(chunks), min(chunk_records, WORKER_CHUNK_RECORDS))
        stream = _in_workers(small, workers, job, seen, in_process, progress)
    else:
        stream = map(in_process, chunks)
    try:
        while True:
            c = time.perf_counter()
            chunk = next(stream, None)
            map_seconds += time.perf_counter() - c
            if chunk is None:
                break
            quarantined += chunk.quarantined
            groups: dict[str, list] = {}
            for m in chunk.passed:
                by_source.setdefault(m.record.source, []).append(m)
                groups.setdefault(m.record.source, []).append(m)
                m.record.content = b""  # mapped: only its name, location, time and hash are still needed
            for name, ms in groups.items():
                c = time.perf_counter()
                if name not in writers:
                    writers[name] = store.source_writer(source_graph(name), name)
                chunk.write(writers[name], ms)
                load_seconds[name] = load_seconds.get(name, 0.0) + time.perf_counter() - c
            del chunk
    except BaseException:
        for w in writers.values():
            w.abort()
        raise
    finally:
        close = getattr(stream, "close", None)
        if close:
            close()  # stops the worker processes of a stream that ended early
    groups: dict[str, list[Quarantined]] = {}
    for q in quarantined:
        groups.setdefault(q.record.source or only or UNASSIGNED, []).append(q)
    targets = [only] if only else sorted(set(by_source) | set(groups))
    try:
        return [
            _finish(
                store,
                _Outcome(
                    name,
                    by_source.get(name, []),
                    groups.get(name, []),
                    writers.get(name),
                    rules,
                    t0,
                    clock,
                    map_seconds,
                    load_seconds.get(name, 0.0),
                    derived_from=_publisher_of(sources, name, derived),
                    new=name in new,
                ),
                sources,
            )
            for name in targets
        ]
    finally:
        for w in writers.values():
            w.abort()  # a no-op for a committed writer; drops the staging graph of one that was not


@dataclass
class _Outcome:
    """What mapping one source's records gave, handed to `_finish` to record the run and swap the graph."""

    name: str
    mapped: list  # MappedRecord of each record that passed
    quarantined: list[Quarantined]
    writer: SourceWriter | None  # holds the new graph (None when nothing mapped)
    rules: RuleSet
    started: datetime
    clock: float  # perf_counter at the start of the harvest
    map_seconds: float
    load_seconds: float
    derived_from: str = ""  # publisher IRI of a source derived from it (not configured)
    new: bool = False  # first harvest of that derived source


def _publisher_of(sources: dict[str, Source], name: str, derived: set[str]) -> str:
    return sources[name].publisher if name in derived and name in sources else ""


def _finish(store: Store, o: _Outcome, sources: dict[str, Source]) -> SourceReport:
    """Record the run of one source and swap its new graph in (or record why nothing loaded)."""
    name, mapped, q_here, rules = o.name, o.mapped, o.quarantined, o.rules
    label = sources[name].label if name in sources else "records of no known source"
    run = RunRecord(
        source=name,
        started=o.started,
        mapping_kind=rules.kind,
        mapping_version=rules.version,
        mapping_files=rules.file_digests(),
    )
    run.records_seen = len(mapped) + len(q_here)
    run.quarantined = len(q_here)
    run.target_graph = source_graph(name)
    if o.derived_from:
        from .new_sources import NEW_SOURCE_KEY

        run.extra[NEW_SOURCE_KEY] = o.derived_from
    report = SourceReport(
        name, records=run.records_seen, quarantined=q_here, run_iri=run.iri, graph=run.target_graph, new_source=o.new
    )
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
    changes = o.writer.commit(prov)
    report.triples = changes.pop("triples")
    report.changes = changes
    store.append(run_count_quads(run, {"quadsAdded": changes["added"], "quadsRemoved": changes["removed"]}))
    report.timings = {"map": o.map_seconds, "load": o.load_seconds + time.perf_counter() - load_clock}
    report.studies = run.studies_loaded
    report.run_extra = {k: v for k, v in run.extra.items() if isinstance(v, int)}
    report.seconds = time.perf_counter() - o.clock
    return report


@dataclass
class _Chunk:
    """One mapped chunk: the records that passed, those quarantined, and how to write the passing ones'
    graphs to a source's writer."""

    passed: list  # MappedRecord
    quarantined: list[Quarantined]
    write: Callable[[SourceWriter, list], None]


def harvest_workers() -> int:
    """Processes that map a large source's chunks: KG_HARVEST_WORKERS, else one per core (1: in process)."""
    value = os.environ.get("KG_HARVEST_WORKERS", "")
    return max(1, int(value)) if value.strip().isdigit() else (os.cpu_count() or 1)


def _assign_to(sources: dict[str, Source], only: str, rec: RawRecord, study: str | None, publisher: str | None):
    """The assignment of a single-source harvest (no side effect but `rec.source`), picklable for workers."""
    return _assigner(sources, only, set(), set())(rec, study, publisher)


def _chunk_job(assign, parser, rules, checks, records, out):
    from .mapping.workers import ChunkJob

    return ChunkJob(records, assign, parser, rules, functools.partial(failing_records, checks=checks), out)


def _in_workers(chunks, workers: int, job, seen: dict[str, str], in_process, progress: Progress | None):
    """Chunks mapped by worker processes (kg/mapping/workers.py), yielded in order as `_Chunk`s. A chunk
    that claims a study an earlier chunk described is mapped again in process with the harvest's `seen`,
    so the collision check, and with it every result, is the one of an in-process harvest."""
    from .mapping.workers import ChunkPool

    pool = ChunkPool(workers)
    try:
        for chunk, out in pool.run(chunks, job):
            if any(study in seen for study in out.seen):
                out.data.unlink()
                yield in_process(chunk)
                continue
            seen.update(out.seen)
            if progress:
                progress(len(chunk))
            data = out.data.read_bytes()
            out.data.unlink()
            yield _Chunk(out.passed, out.quarantined + out.checked, lambda w, ms, data=data: w.add_ntriples(data))
    finally:
        pool.close()


def _chunks(records: Iterable[RawRecord], size: int):
    it = iter(records)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def rebuild_links(store: Store) -> int:
    """Recompute the cross-repository links graph from what is served now; returns its size."""
    from .mapping.links import LINKS_GRAPH, derive_links

    triples = derive_links(store)
    store.replace_graph(
        LINKS_GRAPH, [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(LINKS_GRAPH)) for t in triples]
    )
    return len(triples)


def rebuild_grounding(store: Store, index=None) -> tuple[int, int]:
    """Ground the text-only organism / method values (curated SSSOM rows first); returns (grounded, left)."""
    from .terms import TermIndex
    from .terms.grounding import GROUNDING_GRAPH, decide_all, grounding_quads, text_values

    index = index or TermIndex.from_store(store)
    decisions = decide_all(index, text_values(store))
    store.replace_graph(GROUNDING_GRAPH, grounding_quads(decisions))
    grounded = sum(1 for d in decisions if d.iri)
    return grounded, len(decisions) - grounded


def record_failed_run(store: Store, source: str, error: str) -> SourceReport:
    run = RunRecord(source=source, started=utcnow(), status="failed", error=error)
    run.ended = utcnow()
    store.append(run_quads(run))
    return SourceReport(source, error=error, run_iri=run.iri)


def harvest_snapshot(
    store: Store, source: Source, progress: Progress | None = None, chunk_records: int = CHUNK_RECORDS
) -> SourceReport:
    """Harvest one source from its bundled snapshot folder."""
    if source.snapshot is None or not Path(source.snapshot).is_dir():
        return record_failed_run(store, source.name, f"snapshot folder {source.snapshot} not found")
    records = rocrate_dir.iter_records(source.snapshot, source.name, KINDS[source.kind].pattern)
    return harvest_records(
        store, {source.name: source}, records, only=source.name, progress=progress, chunk_records=chunk_records
    )[0]


def harvest_live(
    store: Store, source: Source, cache_dir: Path, fetcher: Fetcher | None = None, progress: Progress | None = None
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
                source.name,
                source.live["listing"],
                source.live.get("suffix", KINDS[source.kind].suffix),
                cache,
                fetcher,
                stats,
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


def _harvest_sparql(store: Store, source: Source, progress: Progress | None = None) -> SourceReport:
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
    store: Store, sources: dict[str, Source], folder: Path, progress: Progress | None = None
) -> list[SourceReport]:
    """Harvest every crate under a folder; each crate's source is read from the crate itself."""
    return harvest_records(store, sources, rocrate_dir.iter_records(folder), progress=progress)


# -- the harvest sequence ------------------------------------------------------------------------------

ProgressBar = Callable[[int, str], AbstractContextManager[Progress | None]]  # (total records, label) -> update


@dataclass
class HarvestOptions:
    """What `run_harvest` harvests and which steps it takes (the CLI's arguments, the fixtures' choices)."""

    sources: list[str] = field(default_factory=list)  # configured source names; empty: all
    rocrates: Path | None = None  # harvest every crate under this folder instead (source read from each crate)
    live: bool = False  # fetch over HTTP instead of the bundled snapshot
    cache: Path | None = None  # raw-record cache of live harvests
    derived: bool = True  # rebuild the links and grounding graphs (the closure is always rebuilt)
    validate: bool = True  # SHACL-validate the sources whose records changed
    dumps: Path | None = None  # write the dumps there (None: no dumps)
    indexes: bool = False  # build and persist the search and term indexes with an on-disk store (`kg harvest`)


@dataclass
class HarvestSummary:
    """What a harvest did: one report per source and the results of each later step (None: not run)."""

    reports: list[SourceReport] = field(default_factory=list)
    ontologies: dict[str, int] = field(default_factory=dict)  # ontology -> triples, for those (re)loaded
    links: int | None = None  # triples in the links graph
    closure: int | None = None  # quads in the closure graph
    grounded: tuple[int, int] | None = None  # text-only values grounded, left for curators
    validation: dict | None = None  # validate_all's summary ({"sources", "seconds"})
    dumps: list[dict] | None = None  # the dump files written
    indexes: str | None = None  # "built" or "loaded": the indexes persisted for the next `kg serve`
    seconds: dict[str, float] = field(default_factory=dict)  # per step: ontologies, harvest, links, ...

    @property
    def loaded(self) -> int:
        return sum(r.studies for r in self.reports)

    @property
    def quarantined(self) -> int:
        return sum(len(r.quarantined) for r in self.reports)

    @property
    def changed(self) -> bool:
        """Something was loaded: the derived graphs, validation and dumps have work to do."""
        return any(r.ok and r.studies for r in self.reports)


Step = Callable[[str, HarvestSummary], None]  # called after each step with its name: the CLI prints from it


def _no_bar(total: int, desc: str) -> AbstractContextManager[None]:
    return nullcontext()


def run_harvest(
    store: Store,
    sources: dict[str, Source],
    options: HarvestOptions | None = None,
    progress: ProgressBar = _no_bar,
    on_step: Step | None = None,
) -> HarvestSummary:
    """The harvest sequence: `load_phase`, then `follow_up`. Raises FileNotFoundError for a missing
    --rocrates folder and KeyError for an unknown source name (the CLI checks names first)."""
    options = options or HarvestOptions()
    summary = load_phase(store, sources, options, progress, on_step)
    summary = follow_up(store, sources, summary, options, on_step)
    if options.indexes and store.local_path is not None:
        with _stepper(summary, on_step)("indexes"):
            summary.indexes = persist_indexes(store)
    return summary


def persist_indexes(store: Store) -> str:
    """Build the search and term indexes of the store's generation into its folder (kg/indexes.py), so the
    next `kg serve` loads them in under a second instead of building them before it listens. Every
    harvest records a run, hence a new generation: this runs even when no record changed."""
    from .indexes import IndexService

    service = IndexService(store)
    service.warm()
    return "loaded" if service.loads else "built"


def load_phase(
    store: Store,
    sources: dict[str, Source],
    options: HarvestOptions,
    progress: ProgressBar = _no_bar,
    on_step: Step | None = None,
) -> HarvestSummary:
    """Ontologies, each source swapped in, then links, closure and grounding: after it the graph can be served."""
    from .store.ontologies import load_ontologies, rebuild_closure

    summary = HarvestSummary()
    step = _stepper(summary, on_step)
    stale = derived_stale(store)  # an earlier harvest was stopped between a swap and the derived graphs
    if options.derived and not stale:
        mark_derived_stale(store)  # until links, closure and grounding match the swapped sources
    with step("ontologies"):
        summary.ontologies = load_ontologies(store)
    with step("harvest"):
        summary.reports = _harvest_all(store, sources, options, progress)
    if summary.changed or stale:
        if options.derived:
            with step("links"):
                summary.links = rebuild_links(store)
        with step("closure"):
            summary.closure = rebuild_closure(store)  # the terms the studies use may have changed
        if options.derived:
            with step("grounding"):
                summary.grounded = rebuild_grounding(store)
    if options.derived:
        clear_derived_stale(store)
    return summary


# -- links, closure and grounding follow the sources, even across a killed harvest: kg/derived_marker.py


def repair_derived(store: Store, on_step: Step | None = None) -> HarvestSummary | None:
    """Rebuild links, closure and grounding when a harvest was stopped before it rebuilt them (None:
    nothing to repair)."""
    from .store.ontologies import rebuild_closure

    if not derived_stale(store):
        return None
    summary = HarvestSummary()
    step = _stepper(summary, on_step)
    with step("links"):
        summary.links = rebuild_links(store)
    with step("closure"):
        summary.closure = rebuild_closure(store)
    with step("grounding"):
        summary.grounded = rebuild_grounding(store)
    clear_derived_stale(store)
    return summary


def follow_up(
    store: Store,
    sources: dict[str, Source],
    summary: HarvestSummary,
    options: HarvestOptions,
    on_step: Step | None = None,
    on_begin: Callable[[str], None] | None = None,
) -> HarvestSummary:
    """SHACL validation of the sources whose records changed (and of those never validated), then the dumps.
    Slow, and not needed to answer queries: `kg up` runs it beside the server (kg/background.py)."""
    if not summary.changed:
        return summary
    from .new_sources import derived_sources

    sources = {**derived_sources(store), **sources}  # crates of unconfigured publishers are validated and dumped too
    step = _stepper(summary, on_step, on_begin)
    if options.validate:
        from .validate.shacl import validate_all, validated_sources

        changed = {
            r.source
            for r in summary.reports
            if r.ok
            and any(v for k, v in r.run_extra.items() if k in ("recordsAdded", "recordsRemoved", "recordsChanged"))
        }
        with step("validation"):
            summary.validation = validate_all(store, sources, only=changed | (set(sources) - validated_sources(store)))
    if options.dumps is not None:
        from .store.dumps import write_dumps

        with step("dumps"):
            summary.dumps = write_dumps(store, Path(options.dumps), sources)
    return summary


def _harvest_all(
    store: Store, sources: dict[str, Source], options: HarvestOptions, progress: ProgressBar
) -> list[SourceReport]:
    if options.rocrates:
        folder = Path(options.rocrates)
        files = rocrate_dir.crate_files(folder)
        with progress(len(files), f"crates in {folder}") as bar:
            return harvest_folder(store, sources, folder, progress=bar)
    reports = []
    for name in options.sources or list(sources):
        src = sources[name]
        if options.live:
            with progress(0, f"{name} (live)") as bar:
                reports.append(harvest_live(store, src, Path(options.cache or default_cache_path()), progress=bar))
        else:
            pattern = KINDS[src.kind].pattern
            total = (
                len(rocrate_dir.crate_files(src.snapshot, pattern))
                if src.snapshot and Path(src.snapshot).is_dir()
                else 0
            )
            with progress(total, name) as bar:
                reports.append(harvest_snapshot(store, src, progress=bar))
    return reports


class _stepper:
    """`with step(name):` times a step into summary.seconds and reports it to `on_step` when it ends."""

    def __init__(self, summary: HarvestSummary, on_step: Step | None, on_begin: Callable[[str], None] | None = None):
        self.summary, self.on_step, self.on_begin = summary, on_step, on_begin

    def __call__(self, name: str):
        self.name = name
        return self

    def __enter__(self):
        if self.on_begin:
            self.on_begin(self.name)
        self.t = time.perf_counter()

    def __exit__(self, exc_type, *_):
        self.summary.seconds[self.name] = time.perf_counter() - self.t
        if exc_type is None and self.on_step:
            self.on_step(self.name, self.summary)
