"""The app's in-memory indexes (terms, studies): built once per harvest generation, never in a request.

Building the study index costs seconds to a minute of CPU (dozens of SPARQL queries); twenty first
requests that each built it stampeded the server. So an `IndexService`, owned by the app:

- builds in one background thread at a time (single flight); requests read the current indexes and
  never build — the very first ones, before anything is built, wait for that one build within their
  deadline (`kg serve` builds before its socket accepts, so they do not wait at all);
- keeps serving the previous generation while the next one builds; the generation (the harvest runs
  recorded in the provenance graph) is checked in the background at most every `check_interval` s;
- persists what it built with the store: an on-disk store gets `kg-indexes/indexes.pickle` inside its
  folder, stamped with the generation and a hash of the index code, so a restart loads it (about a
  second) instead of rebuilding; other stores keep built indexes in memory per store object.

The pickle is trusted like the store beside it: whoever can write the store folder can change the
graph anyway.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import pickle
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

from .config import ONTOLOGIES, QUERIES
from .namespaces import KG, PROVENANCE_GRAPH
from .search import StudyIndex
from .terms import TermIndex
from .terms.fields import field_index

log = logging.getLogger(__name__)

FORMAT = 3  # bump when the file layout (not the index classes: their source is hashed) changes
FOLDER = "kg-indexes"
FILE = "indexes.pickle"


class IndexesNotReady(RuntimeError):
    """No index has been built yet (the first build is running or failed); try again shortly."""


@dataclass(frozen=True)
class Indexes:
    """One generation's indexes; replaced as a whole, never changed. `summaries`: every study's page
    summary (kg/serve/describe.py) and similar studies, when computed with them, so a first visit of a
    study page is a look-up."""

    generation: str
    terms: TermIndex
    studies: StudyIndex
    summaries: Summaries | None = None


class Summaries:
    """Study IRI -> its page summary, each kept pickled (in memory, or in the index file, read with one
    positional read on demand): a restart does not unpickle 1,200 summaries it may never show, and
    every `record` is a fresh copy that a page may change."""

    def __init__(
        self,
        blobs: dict[str, bytes] | None = None,
        fd: int = -1,
        base: int = 0,
        table=None,
        pages: dict[tuple[str, str], str] | None = None,
    ):
        self._blobs = blobs
        self._fd, self._base, self._table = fd, base, table  # table: IRI -> (offset, length) after `base`
        self.pages = pages or {}  # (publisher, accession) -> study IRI (describe.study_pages)

    @classmethod
    def of(
        cls,
        summaries: dict[str, dict],
        labels: dict[str, dict[str, str]],
        similar: dict[str, list[tuple[str, float, list[str]]]] | None = None,
        pages: dict[tuple[str, str], str] | None = None,
    ) -> Summaries:
        """From each study's summary, the labels its statements are shown with, its similar studies
        (StudyIndex.similar_all), and which study each (publisher, accession) page shows."""
        similar = similar or {}
        return cls(
            {
                k: pickle.dumps((v, labels.get(k, {}), similar.get(k, [])), protocol=pickle.HIGHEST_PROTOCOL)
                for k, v in summaries.items()
            },
            pages=pages,
        )

    def __len__(self) -> int:
        return len(self._blobs if self._blobs is not None else self._table)

    def record(self, iri: str) -> tuple[dict, dict[str, str], list[tuple[str, float, list[str]]]] | None:
        """The study's page summary (describe.study_summary), the labels of the IRIs in its statements
        (describe.labels) and its similar studies as (IRI, score, shared labels); None if there is none."""
        try:
            blob = self._blob(iri)
            return pickle.loads(blob) if blob else None
        except (OSError, pickle.UnpicklingError, EOFError, ValueError) as e:  # the caller queries instead
            log.warning("cannot read the persisted summary of %s: %s", iri, e)
            return None

    def _blob(self, iri: str) -> bytes | None:
        """The study's pickled record (summary, labels, similar), from memory or with one positional read of the file."""
        if self._blobs is not None:
            return self._blobs.get(iri)
        at = self._table.get(iri)
        return os.pread(self._fd, at[1], self._base + at[0]) if at else None

    def blobs(self) -> dict[str, bytes]:
        return self._blobs if self._blobs is not None else {k: self._blob(k) for k in self._table}

    def __del__(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __reduce__(self):
        return (Summaries, (self.blobs(), -1, 0, None, self.pages))


def harvest_generation(store) -> str:
    """Which harvest the store holds: the number of harvest runs and the newest run's time stamp (both
    from the run IRIs, `…/run/<source>/<yyyymmddThhmmss.ffffffZ>`). Any harvest of any source changes it.
    Asked on every page request: the runs (a few per harvest) are listed and counted here, which costs
    a third of a COUNT / MAX(REPLACE(…)) aggregate over them."""
    runs = [
        r["r"].value
        for r in store.query(
            f"SELECT ?r WHERE {{ GRAPH <{PROVENANCE_GRAPH}> {{ ?r a <{KG}HarvestRun> }} }}",
            default_graph=[PROVENANCE_GRAPH],
            named_graphs=[PROVENANCE_GRAPH],
        )
    ]
    return f"{len(runs)}:{max((r.rsplit('/', 1)[-1] for r in runs), default='')}"


def code_version() -> str:
    """A hash of the code and data files that shape the indexes (kg/search, kg/terms, the ontology
    manifest and namespace table): a persisted index made by other code is rebuilt, not served."""
    here = Path(__file__).parent
    h = hashlib.sha256(str(FORMAT).encode())
    files = [
        *sorted((here / "search").glob("*.py")),
        *sorted((here / "terms").glob("*.py")),
        here / "study_nodes.py",
        here / "serve" / "describe.py",
        *sorted((QUERIES / "internal" / "study").glob("*.rq")),
        here.parent / "data" / "facets.toml",
        *sorted(ONTOLOGIES.glob("*.toml")),
        *sorted(ONTOLOGIES.glob("*.tsv")),
    ]
    for f in files:
        if f.is_file():
            h.update(f.name.encode() + f.read_bytes())
    return h.hexdigest()[:16]


def build(store, summaries: bool = False) -> tuple[TermIndex, StudyIndex, Summaries | None]:
    terms = TermIndex.from_store(store)
    field_index(terms)  # OLS v2 search fields: built (and persisted) with the terms, never in a request
    studies = StudyIndex.from_store(store, terms)
    if not summaries:
        return terms, studies, None
    from .serve.describe import statement_labels, study_pages, study_summaries

    summaries = study_summaries(store, [d.iri for d in studies.docs])
    labels = statement_labels(store, summaries)
    return terms, studies, Summaries.of(summaries, labels, studies.similar_all(), study_pages(store))


class IndexFile:
    """Indexes persisted in one file: a one-line header (format, code version, generation, sizes of the
    parts), the study and term indexes pickled, then the OLS v2 field index pickled apart (/search does
    not need it, so it is read on its first use, `kg.terms.fields.field_index`, not at start-up), then
    the study summaries, if any: a table IRI -> (offset, length) with the study of each (publisher,
    accession), and each study's record (summary, labels, similar studies) pickled on its own.
    Written to a temporary file, fsynced and renamed, so a reader sees the old file or the new one.

    Loading is mostly allocating a few hundred thousand small objects, during which Python's cyclic
    garbage collector would scan the growing heap again and again: it is paused for the load (about half
    the load time; benchmarks/bench_restart.py)."""

    def __init__(self, path: Path):
        self.path = path

    def header(self, generation: str) -> str:
        return f"kg-indexes {FORMAT} {code_version()} {generation}"

    def load(self, generation: str) -> Indexes | None:
        try:
            f = open(self.path, "rb")
        except FileNotFoundError:
            return None
        except OSError as e:
            log.warning("cannot read the persisted indexes at %s: %s", self.path, e)
            return None
        with f:
            try:
                head, *sizes = f.readline().decode("utf-8", "replace").rstrip("\n").rsplit(" ", 3)
                if head != self.header(generation) or not all(n.isdigit() for n in sizes):
                    return None
                n_main, n_fields, n_table = map(int, sizes)
                terms, studies = _unpickle(f.read(n_main))
                # the field index and the summaries stay in the file until asked for; an open descriptor
                # keeps this file's bytes readable even after a newer harvest's file replaces it
                at = f.tell()
                terms._field_index_source = _Part(os.dup(f.fileno()), at, n_fields, self.path)
                summaries = None
                if n_table:
                    table, pages = pickle.loads(os.pread(f.fileno(), n_table, at + n_fields))
                    summaries = Summaries(fd=os.dup(f.fileno()), base=at + n_fields + n_table, table=table, pages=pages)
            except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError, OSError) as e:
                # a damaged file, or classes that have changed shape: rebuild (and overwrite it)
                log.warning("ignoring the persisted indexes at %s: %s", self.path, e)
                return None
        return Indexes(generation, terms, studies, summaries)

    def save(self, idx: Indexes) -> None:
        tmp = self.path.with_suffix(f".tmp{os.getpid()}")
        fields = field_index(idx.terms)
        state = idx.terms.__dict__  # pickled without its field index (the second part), then put back
        kept = {k: state.pop(k) for k in ("_field_index", "_field_index_source") if k in state}
        try:
            main = pickle.dumps((idx.terms, idx.studies), protocol=pickle.HIGHEST_PROTOCOL)
        finally:
            state.update(kept)
        fields = pickle.dumps(fields, protocol=pickle.HIGHEST_PROTOCOL)
        blobs = idx.summaries.blobs() if idx.summaries is not None else {}
        table, at = {}, 0
        for iri, blob in blobs.items():
            table[iri] = (at, len(blob))
            at += len(blob)
        pages = idx.summaries.pages if idx.summaries is not None else {}
        table = pickle.dumps((table, pages), protocol=pickle.HIGHEST_PROTOCOL) if blobs else b""
        try:
            self.path.parent.mkdir(exist_ok=True)
            with open(tmp, "wb") as f:
                f.write(f"{self.header(idx.generation)} {len(main)} {len(fields)} {len(table)}\n".encode())
                f.write(main)
                f.write(fields)
                f.write(table)
                f.writelines(blobs.values())
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except OSError as e:  # a read-only folder: serve from memory, rebuild after a restart
            log.warning("cannot persist the indexes at %s: %s", self.path, e)
            tmp.unlink(missing_ok=True)


def _unpickle(data: bytes):
    """pickle.loads with the cyclic garbage collector paused (see IndexFile)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return pickle.loads(data)
    finally:
        if enabled:
            gc.enable()


class _Part:
    """The rest of a persisted index file (the field index), read on demand through a descriptor of the
    file it was loaded from (positional reads: forked serving processes share the descriptor). Returns
    None when it cannot be read; the caller then builds the field index."""

    def __init__(self, fd: int, offset: int, size: int, path: Path):
        self.fd, self.offset, self.size, self.path = fd, offset, size, path
        self.read = False  # whether the field index came from the file (tests)

    def __call__(self):
        try:
            fields = _unpickle(os.pread(self.fd, self.size, self.offset))
            self.read = True
            return fields
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError, OSError) as e:
            log.warning("cannot read the field index persisted at %s: %s; building it", self.path, e)
            return None
        finally:
            self.close()

    def close(self) -> None:
        fd, self.fd = self.fd, -1
        if fd >= 0:
            os.close(fd)

    def __del__(self) -> None:
        self.close()

    def __reduce__(self):  # never persisted: a copy of the index reads (or builds) its field index itself
        return (_no_part, ())


def _no_part() -> None:
    return None


# Built indexes of stores without a folder (in memory, remote), per store object: several apps over one
# store object (tests, or an app recreated) share them.
_MEMORY: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class IndexService:
    """The indexes of one store, kept current with its harvest generation (see the module docstring).
    `builds` / `loads` count index builds and loads from a file (for tests and logs)."""

    def __init__(
        self,
        store,
        check_interval: float = 5.0,
        folder: Path | None = None,
        seed: Indexes | None = None,
        summaries: bool | None = None,
    ):
        self.store = store
        self.check_interval = check_interval
        path = store.local_path  # the store's folder, if it has one (kg/store/interface.py)
        folder = folder or (Path(path) / FOLDER if path is not None else None)
        self.file = IndexFile(folder / FILE) if folder is not None else None
        # every study's page summary is computed with the indexes (a few seconds more per build) where
        # they are persisted, so that it is paid once per harvest, not per process start; else pages
        # query per study and cache per generation
        self.summaries = self.file is not None if summaries is None else summaries
        self.builds = 0
        self.loads = 0
        self._current: Indexes | None = seed  # e.g. built by the parent of a forked serving process
        self._error: BaseException | None = None
        self._checked = float("-inf")
        self._lock = threading.Lock()  # guards _thread / _checked
        self._build_lock = threading.Lock()  # one load-or-build at a time
        self._thread: threading.Thread | None = None

    # -- for requests ------------------------------------------------------------------------------
    def current(self, wait: float | None = 30.0) -> Indexes:
        """The newest built indexes, at once. Starts a background generation check when one is due. Only
        before the first build has finished does this wait (at most `wait` s) — for that one build."""
        cur = self._current
        if cur is not None and time.monotonic() - self._checked < self.check_interval:
            return cur
        thread = self._kick()
        if cur is not None:
            return cur
        thread.join(wait)
        if self._current is None:
            if thread.is_alive():
                raise IndexesNotReady("the search and term indexes are being built; try again in a few seconds")
            raise IndexesNotReady(f"the indexes could not be built: {self._error}")
        return self._current

    # -- start-up and after a harvest --------------------------------------------------------------
    def warm(self) -> Indexes:
        """Load or build the indexes of the store's current generation now (before serving)."""
        self._checked = time.monotonic()
        return self._ensure(harvest_generation(self.store))

    def _kick(self) -> threading.Thread:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._checked = time.monotonic()
                self._thread = threading.Thread(target=self._refresh, name="kg-indexes", daemon=True)
                self._thread.start()
            return self._thread

    def _refresh(self) -> None:
        try:
            gen = harvest_generation(self.store)
            if self._current is None or self._current.generation != gen:
                self._ensure(gen)
        except Exception as e:  # reported to waiting requests; the next check tries again
            self._error = e
            log.exception("building the indexes failed")

    def _ensure(self, gen: str) -> Indexes:
        with self._build_lock:
            cur = self._current
            if cur is not None and cur.generation == gen:
                return cur
            idx = self._load(gen)
            if idx is None:
                started = time.perf_counter()
                idx = Indexes(gen, *build(self.store, self.summaries))
                self.builds += 1
                log.info("built the indexes of generation %s in %.1f s", gen, time.perf_counter() - started)
                self._save(idx)
            else:
                self.loads += 1
                log.info("loaded the indexes of generation %s", gen)
            self._current, self._error = idx, None
            return idx

    def _load(self, gen: str) -> Indexes | None:
        # indexes persisted without the study summaries (by `kg up`, which serves before computing them)
        # are served as they are: pages then query per study, rather than a restart rebuilding everything
        found = self.file.load(gen) if self.file is not None else _MEMORY.get(self.store)
        return found if found is not None and found.generation == gen else None

    def _save(self, idx: Indexes) -> None:
        if self.file is not None:
            self.file.save(idx)
        else:
            try:
                _MEMORY[self.store] = idx
            except TypeError:  # a store object that takes no weak references: nothing shared
                pass
