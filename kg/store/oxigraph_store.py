"""Embedded pyoxigraph store with atomic per-source graph replacement.

A new harvest of a source is written to a staging graph, then one SPARQL Update moves it over the
served graph and swaps the source's provenance in the same transaction. Oxigraph runs each update as
one transaction with repeatable-read isolation, so a reader sees the old graph or the new one, never a
half. Staging graphs are hidden from readers by always querying an explicit list of public graphs.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path

import pyoxigraph as ox

from ..namespaces import KG, PROV, PROVENANCE_GRAPH, STAGING_PREFIX
from .interface import StoreUnavailable
from .updates import quad_block, swap_update

# N-Triples per bulk load (~300k quads): large enough that the loader's cost per call (sorting, SST files) is
# paid rarely, small enough that loading starts early and runs beside the mapping (writer docstring)
LOAD_BYTES = 64 * 2**20


class OxigraphStore:
    """The embedded store (implements `interface.Store`): pyoxigraph in memory, or on disk in a folder."""

    def __init__(self, path: str | Path | None = None, read_only: bool = False):
        self.path = Path(path) if path else None
        try:
            if self.path is None:
                self.store = ox.Store()
            elif read_only:
                self.store = ox.Store.read_only(str(self.path))
            else:
                self.path.mkdir(parents=True, exist_ok=True)
                self.store = ox.Store(str(self.path))
        except OSError as e:
            raise StoreUnavailable(f"cannot open the store at {self.path}: {e}") from e
        self._write_lock = threading.Lock()
        self._public: list[ox.NamedNode] | None = None
        self._has_staging = False
        self._busy = 0  # writes and staged harvests in progress in this process
        self._flags = threading.Lock()
        self.spill_quads = 250_000  # a source's new graph is staged in the store beyond this (source_writer)
        self.load_bytes = LOAD_BYTES  # N-Triples a source writer gathers per bulk load

    @property
    def local_path(self) -> Path | None:
        """The store's folder (None in memory): the app's query workers open it read-only."""
        return self.path

    # -- reading ---------------------------------------------------------------------------------
    def public_graphs(self) -> list[ox.NamedNode]:
        """The named graphs readers see (not staging ones). Remembered until this object writes: listing
        graphs costs ~2 ms, as much as a small query, and no other process writes a store we have open
        (RocksDB's lock; read-only handles see the store as it was when opened)."""
        if self._public is None:
            graphs = [g for g in self.store.named_graphs() if isinstance(g, ox.NamedNode)]
            self._has_staging = any(g.value.startswith(STAGING_PREFIX) for g in graphs)
            self._public = sorted((g for g in graphs if not g.value.startswith(STAGING_PREFIX)), key=lambda g: g.value)
        return self._public

    def query(
        self,
        sparql: str,
        default_graph: list[str] | None = None,
        named_graphs: list[str] | None = None,
        timeout: float | None = None,
    ):
        """Run a SPARQL query; the default graph is the union of all public graphs unless given.

        `timeout` is accepted for parity with RemoteStore and ignored: pyoxigraph cannot stop a running
        query, so the app bounds queries of an on-disk store with worker processes (serve/workers.py).

        When no staging graph exists and nothing is being written, the union is asked for as pyoxigraph's
        union of all named graphs, 4-16x faster than the same union given as a list of graphs (the
        named queries, measured). The check and the query's snapshot are taken under one lock that
        writers take before they create a staging graph, so a reader never sees a half-written one."""
        if not default_graph and not named_graphs:
            with self._flags:
                self.public_graphs()
                if not self._busy and not self._has_staging:
                    return self.store.query(sparql, use_default_graph_as_union=True)
        public = self.public_graphs()
        dg = [ox.NamedNode(g) for g in default_graph] if default_graph else (public or [ox.DefaultGraph()])
        ng = [ox.NamedNode(g) for g in named_graphs] if named_graphs else public
        return self.store.query(sparql, default_graph=dg, named_graphs=ng)

    def graph_sizes(self) -> dict[str, int]:
        rows = self.store.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
        return {r["g"].value: int(r["n"].value) for r in rows if not r["g"].value.startswith(STAGING_PREFIX)}

    def record_hashes(self, source_key: str) -> dict[str, str]:
        """File name -> SHA-256 of the records the source's served graph was built from."""
        rows = self.store.query(
            f"""SELECT ?f ?h WHERE {{ GRAPH <{PROVENANCE_GRAPH}> {{ ?r a <{KG}SourceRecord> ;
                <{KG}harvestSource> {ox.Literal(source_key)} ; <{KG}fileName> ?f ; <{KG}sha256> ?h }} }}"""
        )
        return {r["f"].value: r["h"].value for r in rows}

    def has_graph(self, graph: str) -> bool:
        return self.store.contains_named_graph(ox.NamedNode(graph))

    def staging_graphs(self) -> list[str]:
        """Staging graphs present now (none once every harvest has committed or aborted)."""
        return sorted(
            g.value
            for g in self.store.named_graphs()
            if isinstance(g, ox.NamedNode) and g.value.startswith(STAGING_PREFIX)
        )

    def count(self, graph: str, minus: str | None = None) -> int:
        """Triples in `graph` (that are not in `minus`)."""
        other = f"FILTER NOT EXISTS {{ GRAPH <{minus}> {{ ?s ?p ?o }} }}" if minus else ""
        rows = self.store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} {other} }}")
        return int(next(iter(rows))["n"].value)

    def quads(self, graph: str | None = None):
        g = ox.NamedNode(graph) if graph else None
        return self.store.quads_for_pattern(None, None, None, g)

    def quads_for_pattern(self, subject=None, predicate=None, object=None, graph: str | None = None):
        return self.store.quads_for_pattern(subject, predicate, object, ox.NamedNode(graph) if graph else None)

    def dump_graph(self, graph: str, format: ox.RdfFormat) -> bytes:
        """One graph serialised (N-Triples, Turtle…) in Rust, without Python objects per triple."""
        return self.store.dump(format=format, from_graph=ox.NamedNode(graph))

    # -- writing ---------------------------------------------------------------------------------
    def source_writer(self, graph: str, source_key: str) -> OxigraphSourceWriter:
        """Write a source's new graph in chunks; it replaces `graph` at `commit` (see the class)."""
        return OxigraphSourceWriter(self, graph, source_key, self.spill_quads, self.load_bytes)

    @contextmanager
    def _writing(self):
        """One writer at a time; the graph list is forgotten once the write is done."""
        with self._write_lock:
            self._begin()
            try:
                yield
            finally:
                self._end()

    def _begin(self) -> None:
        """Readers ask for explicit public graphs from now on (a staging graph may appear)."""
        with self._flags:
            self._busy += 1

    def _end(self) -> None:
        with self._flags:
            self._busy -= 1
            self._public = None

    def replace_source(
        self,
        graph: str,
        quads: Iterable[ox.Quad],
        provenance: Iterable[ox.Quad],
        source_key: str,
    ) -> dict[str, int]:
        """Atomically make `quads` the content of `graph` and swap the source's provenance.

        Provenance subjects of the source carry `kg:harvestSource "<source_key>"`; activities
        (harvest runs) are history and are kept. Only the difference is written, in one transaction:
        a first load is one `extend`, a re-harvest one SPARQL Update of DELETE DATA / INSERT DATA, so
        an unchanged source costs almost nothing. Returns the numbers of quads added and removed.
        """
        g = ox.NamedNode(graph)
        new = {ox.Quad(q.subject, q.predicate, q.object, g) for q in quads}
        new.update(provenance)
        with self._writing():
            old = set(self.store.quads_for_pattern(None, None, None, g))
            old.update(self._source_provenance(source_key))
            add, remove = new - old, old - new
            if not old and self.path is not None:
                # First load of this source: no served graph to protect, so the bulk loader (RocksDB
                # SST ingestion, ~2x faster than a transaction) writes it.
                self._load_bytes(ox.serialize(add, format=ox.RdfFormat.N_QUADS), ox.RdfFormat.N_QUADS)
            elif not remove:
                self.store.extend(add)
            elif any(isinstance(t, ox.BlankNode) for q in remove for t in (q.subject, q.object)):
                self._replace_by_move(graph, new, source_key)  # DELETE DATA cannot name blank nodes
            else:
                self.store.update(f"DELETE DATA {{ {quad_block(remove)} }} ;\nINSERT DATA {{ {quad_block(add)} }}")
        return {"added": len(add), "removed": len(remove)}

    def _source_provenance(self, source_key: str) -> list[ox.Quad]:
        pg = ox.NamedNode(PROVENANCE_GRAPH)
        rows = self.store.query(
            f"""SELECT ?s ?p ?o WHERE {{ GRAPH <{PROVENANCE_GRAPH}> {{
                ?s <{KG}harvestSource> {ox.Literal(source_key)} ; ?p ?o
                FILTER NOT EXISTS {{ ?s a <{PROV}Activity> }} }} }}"""
        )
        return [ox.Quad(r["s"], r["p"], r["o"], pg) for r in rows]

    def _replace_by_move(self, graph: str, new: set[ox.Quad], source_key: str) -> None:
        """Fallback swap through a staging graph and one MOVE (slower: copies the whole graph)."""
        tag = uuid.uuid4().hex
        data_stage = ox.NamedNode(f"{STAGING_PREFIX}{tag}:data")
        prov_stage = ox.NamedNode(f"{STAGING_PREFIX}{tag}:prov")
        try:
            self.store.extend(
                ox.Quad(
                    q.subject,
                    q.predicate,
                    q.object,
                    prov_stage if q.graph_name.value == PROVENANCE_GRAPH else data_stage,
                )
                for q in new
            )
            self.store.update(swap_update(data_stage.value, graph, prov_stage.value, source_key))
        finally:
            for st in (data_stage, prov_stage):
                if self.store.contains_named_graph(st):
                    self.store.remove_graph(st)

    def replace_graph(self, graph: str, quads: Iterable[ox.Quad]) -> None:
        """Atomically replace one graph (used for ontology graphs)."""
        if not self.has_graph(graph):
            with self._writing():
                g = ox.NamedNode(graph)
                self._load_bytes(
                    ox.serialize(
                        (ox.Quad(q.subject, q.predicate, q.object, g) for q in quads), format=ox.RdfFormat.N_QUADS
                    ),
                    ox.RdfFormat.N_QUADS,
                )
            return
        g = ox.NamedNode(graph)
        new = {ox.Quad(q.subject, q.predicate, q.object, g) for q in quads}
        with self._writing():
            old = set(self.store.quads_for_pattern(None, None, None, g))
            add, remove = new - old, old - new
            if not any(isinstance(t, ox.BlankNode) for q in add | remove for t in (q.subject, q.object)):
                # only the difference, in one transaction (the closure after a harvest changes by a few
                # quads: copying it through a staging graph cost seconds); blank nodes cannot be named
                if add or remove:
                    self.store.update(f"DELETE DATA {{ {quad_block(remove)} }} ;\nINSERT DATA {{ {quad_block(add)} }}")
                return
        stage = ox.NamedNode(f"{STAGING_PREFIX}{uuid.uuid4().hex}:graph")
        with self._writing():
            try:
                self.store.extend(ox.Quad(q.subject, q.predicate, q.object, stage) for q in new)
                self.store.update(f"MOVE SILENT GRAPH <{stage.value}> TO GRAPH <{graph}>")
            finally:
                if self.store.contains_named_graph(stage):
                    self.store.remove_graph(stage)

    def append(self, quads: Iterable[ox.Quad]) -> None:
        with self._writing():
            self.store.extend(quads)

    def _load_bytes(self, data: bytes, format: ox.RdfFormat, to_graph: str | None = None) -> None:
        """RDF bytes into the store: the bulk loader on disk (no transaction), a plain load in memory.
        The caller holds the write lock."""
        graph = ox.NamedNode(to_graph) if to_graph else None
        if self.path is not None:
            self.store.bulk_load(data, format=format, to_graph=graph)
        else:
            self.store.load(data, format=format, to_graph=graph)

    def remove(self, quads: Iterable[ox.Quad]) -> None:
        with self._writing():
            for q in quads:
                self.store.remove(q)

    def flush(self) -> None:
        if self.path is not None:
            self.store.flush()


class OxigraphSourceWriter:
    """A source's new graph written in chunks, swapped in at `commit`.

    Chunks are kept in memory and swapped by `replace_source` (only the difference written) unless they
    outgrow `spill` quads; then they go to a hidden staging graph in the store (or, on a first load of an
    on-disk store, straight into the new graph through the bulk loader) and `commit` swaps with one
    update, so memory stays bounded whatever the size of the source.

    Gathered N-Triples are bulk-loaded by a thread of the writer's own, one batch at a time, while the
    harvest goes on mapping (pyoxigraph's loader lets go of the GIL): a synchronous load held the harvest,
    and with it the mapping workers waiting for their next chunk, for 60 % of a large source's time."""

    def __init__(
        self, store: OxigraphStore, graph: str, source_key: str, spill: int = 250_000, load_bytes: int = LOAD_BYTES
    ):
        self.store, self.graph, self.key, self.spill = store, graph, source_key, spill
        self.buffer: list[ox.Quad] = []
        self.pending: list[bytes] = []  # N-Triples for the stage, loaded in large batches
        self.pending_bytes = 0
        self.load_bytes = load_bytes
        self.stage: str | None = None  # where chunks go once they leave memory
        self.direct = False  # the stage is the new graph itself (first load on disk)
        self.done = False
        self._released = False
        self._loader: ThreadPoolExecutor | None = None  # the background bulk loads (`_load_pending`)
        self._loading: Future | None = None  # the batch being loaded, if any

    def _first_load(self) -> bool:
        return self.store.path is not None and not self.store.has_graph(self.graph)

    def _open_stage(self) -> None:
        if self.stage is None:
            self.direct = self._first_load()
            self.stage = self.graph if self.direct else f"{STAGING_PREFIX}{uuid.uuid4().hex}:data"
            if not self.direct:
                self.store._begin()  # until commit or abort, readers name the public graphs

    def add(self, quads: Iterable[ox.Quad]) -> None:
        self.buffer.extend(quads)
        if len(self.buffer) >= self.spill:
            self._spill()

    def add_graphs(self, source: ox.Store, graphs: list[ox.NamedNode]) -> None:
        """Add the triples of `graphs` of a staging store. When they go to the store (first loads, large
        sources) they travel as N-Triples from store to store in Rust, with no Python object per quad."""
        if self._buffering():
            self.add(q for g in graphs for q in source.quads_for_pattern(None, None, None, g))
            return
        self.add_ntriples(b"".join(source.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=g) for g in graphs))

    def add_ntriples(self, data: bytes) -> None:
        """Add triples given as N-Triples (the output of the mapping workers)."""
        if self._buffering():
            self.add(ox.parse(data, format=ox.RdfFormat.N_TRIPLES))
            return
        self._spill()
        self.pending.append(data)
        self.pending_bytes += len(data)
        if self.pending_bytes >= self.load_bytes:
            self._load_pending()

    def _load_pending(self) -> None:
        """One bulk load of the N-Triples gathered so far, in the writer's loading thread once the batch
        before it is in (its error raised here): the loader's cost per call (sorting, SST files) is paid
        per ~300k quads instead of per chunk (a third less time than loads of 2,000 records), and at most
        one batch is loading while the next one gathers."""
        if self.pending:
            data, self.pending, self.pending_bytes = b"".join(self.pending), [], 0
            self._wait_loaded()
            if self._loader is None:
                self._loader = ThreadPoolExecutor(1, thread_name_prefix="kg-bulk-load")
            self._loading = self._loader.submit(self._load, data, self.stage)

    def _load(self, data: bytes, graph: str) -> None:
        with self.store._writing():
            self.store._load_bytes(data, ox.RdfFormat.N_TRIPLES, to_graph=graph)

    def _wait_loaded(self) -> None:
        """Wait for the batch being loaded; its error, if any, is raised here."""
        loading, self._loading = self._loading, None
        if loading is not None:
            loading.result()

    def _buffering(self) -> bool:
        """Chunks still stay in memory (a re-harvest below the spill size: the swap writes only the diff)."""
        return self.stage is None and not self._first_load() and len(self.buffer) < self.spill

    def _spill(self) -> None:
        """Open the stage if need be and move the buffered quads there."""
        self._open_stage()
        if not self.buffer:
            return
        g = ox.NamedNode(self.stage)
        data = ox.serialize(
            (ox.Quad(q.subject, q.predicate, q.object, g) for q in self.buffer), format=ox.RdfFormat.N_QUADS
        )
        self.buffer = []
        with self.store._writing():
            self.store._load_bytes(data, ox.RdfFormat.N_QUADS)

    def commit(self, provenance: Iterable[ox.Quad]) -> dict[str, int]:
        """Swap the new graph and the source's provenance in; {"added", "removed", "triples"}. On an
        error the new graph is dropped (abort) and the served one stays."""
        st = self.store
        try:
            if self.stage is None and not self._first_load():
                changes = st.replace_source(self.graph, self.buffer, provenance, self.key)
                changes["triples"] = len({(q.subject, q.predicate, q.object) for q in self.buffer})
            else:
                self._spill()  # a first load goes straight into the new graph: no diff to make
                self._load_pending()
                self._wait_loaded()
                changes = self._commit_staged(provenance)
        except BaseException:
            self.abort()
            raise
        self.done = True
        self._release()
        return changes

    def _commit_staged(self, provenance) -> dict[str, int]:
        st = self.store
        if self.direct:
            changes = {"added": st.count(self.graph), "removed": 0}
            if not st._source_provenance(self.key):  # nothing to swap out: the bulk loader adds it (a
                # transaction's extend of ~10 quads per record cost as much as loading the records)
                with st._writing():
                    st._load_bytes(ox.serialize(provenance, format=ox.RdfFormat.N_QUADS), ox.RdfFormat.N_QUADS)
                changes["triples"] = changes["added"]
                return changes
        else:
            changes = {
                "added": st.count(self.stage, minus=self.graph),
                "removed": st.count(self.graph, minus=self.stage),
            }
        prov_stage = ox.NamedNode(f"{STAGING_PREFIX}{uuid.uuid4().hex}:prov")
        with st._writing():
            try:
                st.store.extend(ox.Quad(q.subject, q.predicate, q.object, prov_stage) for q in provenance)
                st.store.update(
                    swap_update(None if self.direct else self.stage, self.graph, prov_stage.value, self.key)
                )
            finally:
                if st.store.contains_named_graph(prov_stage):
                    st.store.remove_graph(prov_stage)
        changes["triples"] = st.count(self.graph)
        return changes

    def _release(self) -> None:
        """The staging graph is gone (moved or dropped): readers may use the fast union again."""
        if self._loader is not None:
            self._loader.shutdown()
            self._loader = None
        if self.stage is not None and not self.direct and not self._released:
            self._released = True
            self.store._end()

    def abort(self) -> None:
        """Forget the new graph unless committed: the staging graph goes; a half first load is removed again."""
        if self.done:
            return
        self.done = True
        with suppress(Exception):  # a batch still loading must be in before its graph is dropped, failed or not
            self._wait_loaded()
        if self.stage is not None and self.store.store.contains_named_graph(ox.NamedNode(self.stage)):
            with self.store._writing():
                self.store.store.remove_graph(ox.NamedNode(self.stage))
        self._release()
        self.buffer, self.pending = [], []
