"""Shared fixtures: in-memory stores with the ontologies and the bundled snapshots harvested.

`harvested_store` holds the four repositories' GIDE crates (the crate-level facts most tests check);
`full_store` adds the native sources (IDR study files) that meet the crates on the same study IRIs.
Building them takes a few seconds, so they are session-scoped; tests must only read from them (tests
that need to write build their own store).
"""

from __future__ import annotations

import fcntl
import pickle
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.config import load_sources
from kg.pipeline import HarvestOptions, run_harvest
from kg.store import open_store

# Test files, slowest first (summed test times per file under `pytest -n 3 --dist loadfile`, 2026-12-02; a
# file missing here runs after these, in collection order). pytest-xdist hands each whole file to the next
# free worker in collection order (`pytest_configure` below turns its reordering by test count off), so the
# long files start first and the workers finish together instead of one of them starting a 100 s file late.
SLOWEST_FIRST = [
    "test_store_backends.py",
    "test_cli_commands.py",
    "test_rocrate_export.py",
    "test_gide_contract.py",
    "test_portal_browser.py",
    "test_slow_clients.py",
    "test_scale_out.py",
    "test_fuzz_api.py",
    "test_index_lifecycle.py",
    "test_query_page_browser.py",
    "test_exchange.py",
    "test_harvest_interrupted.py",
    "test_sparql_endpoint.py",
    "test_query_limits.py",
    "test_grounding.py",
    "test_first_answer.py",
    "test_reproducible.py",
    "test_quarantine.py",
]


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: unknown (and never called) without it
def pytest_xdist_auto_num_workers(config) -> int | None:
    """`-n auto`: one worker more than cores (PYTEST_XDIST_AUTO_NUM_WORKERS still decides when set). About a
    sixth of the suite's time is waiting (servers starting, deadlines, sockets), so on 2 cores a third
    worker keeps both busy: 337 s with 2 workers, 301 s with 3, back to back on the same machine."""
    import os

    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # pytest-xdist's own hook reads it
    return len(os.sched_getaffinity(0)) + 1


def pytest_configure(config) -> None:
    if hasattr(config.option, "loadscopereorder"):  # pytest-xdist's --no-loadscope-reorder (absent without it)
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(items) -> None:
    rank = {name: i for i, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: each file keeps its order


@pytest.fixture(scope="session", autouse=True)
def _dumps_outside_the_checkout(tmp_path_factory):
    """`kg harvest` run by a test without --dumps writes its dumps to KG_DUMPS: a folder of this test process,
    not the checkout's var/dumps (which a user's `kg up` serves, and which parallel workers would share)."""
    import os

    os.environ["KG_DUMPS"] = str(tmp_path_factory.mktemp("default-dumps"))


@pytest.fixture(scope="session")
def sources():
    """The configured harvest sources (data/sources.toml), by name."""
    return load_sources()


@pytest.fixture(scope="session")
def crate_sources(sources):
    """The sources whose records are GIDE RO-Crates (the four repositories)."""
    return {name: s for name, s in sources.items() if s.kind == "rocrate"}


def _once_per_run(request, tmp_path_factory, name: str, harvest: Callable[[], tuple]) -> tuple:
    """`harvest()` -> (in-memory store, picklable extra), run once per test run: under pytest-xdist the first
    worker that needs it harvests and leaves the quads (N-Quads) and the extra beside the workers' temp
    folders; the others wait on a lock and bulk-load them (a second or two instead of a harvest)."""
    if not hasattr(request.config, "workerinput"):  # a plain run: one process
        return harvest()
    shared = Path(tmp_path_factory.getbasetemp()).parent  # the run's folder, above every worker's own
    quads, extra = shared / f"{name}.nq", shared / f"{name}.pickle"
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if harvest() fails
        if extra.exists():
            store = open_store(None)
            store.store.bulk_load(path=str(quads), format=ox.RdfFormat.N_QUADS)
            return store, pickle.loads(extra.read_bytes())
        store, value = harvest()
        store.store.dump(str(quads), format=ox.RdfFormat.N_QUADS)
        extra.write_bytes(pickle.dumps(value))
        return store, value


@pytest.fixture(scope="session")
def _harvest(request, tmp_path_factory, crate_sources):
    def harvest():
        store = open_store(None)
        summary = run_harvest(
            store, crate_sources, HarvestOptions(derived=False, validate=False)
        )  # no links, no grounding
        return store, summary.reports

    return _once_per_run(request, tmp_path_factory, "crates", harvest)


@pytest.fixture(scope="session")
def full_store(request, tmp_path_factory, sources):
    """Every configured source harvested from its snapshot: crates and native records (read only!)."""

    def harvest():
        store = open_store(None)
        summary = run_harvest(store, sources, HarvestOptions(validate=False))  # with links, closure, grounding
        assert all(r.ok for r in summary.reports), [r.error for r in summary.reports]
        return store, None

    return _once_per_run(request, tmp_path_factory, "full", harvest)[0]


@pytest.fixture(scope="session")
def idr_store_dir(tmp_path_factory, sources):
    """An on-disk store folder (closed) with the ontologies and IDR's 127 crates, for `kg serve` and restarts."""
    import gc

    path = tmp_path_factory.mktemp("idr-store") / "store"
    store = open_store(path)
    summary = run_harvest(store, {"idr": sources["idr"]}, HarvestOptions(derived=False, validate=False))
    assert [r.ok for r in summary.reports] == [True]
    del store, summary
    gc.collect()  # releases RocksDB's lock
    return path


@pytest.fixture(scope="session")
def harvested_store(_harvest):
    """An in-memory OxigraphStore holding the ontologies and the four repositories' crates (read only!)."""
    return _harvest[0]


@pytest.fixture(scope="session")
def harvest_reports(_harvest):
    """The SourceReport of each snapshot harvest of `harvested_store`, in sources.toml order."""
    return _harvest[1]


# -- helpers for the harvest / mapping / query tests ------------------------------------------------

SPARQL_PREFIXES = """PREFIX schema: <http://schema.org/>
PREFIX kg: <https://w3id.org/gide-kg/vocab#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
PREFIX obo: <http://purl.obolibrary.org/obo/>
PREFIX dwc: <http://rs.tdwg.org/dwc/terms/>
PREFIX dwciri: <http://rs.tdwg.org/dwc/iri/>
PREFIX prov: <http://www.w3.org/ns/prov#>
"""


def select_rows(store, query: str):
    """Run a query (common prefixes added): a SELECT gives each row as {variable: term} with unbound
    variables left out, an ASK gives a bool."""
    result = store.query(SPARQL_PREFIXES + query)
    if isinstance(result, ox.QueryBoolean):
        return bool(result)
    names = [v.value for v in result.variables]
    return [{n: row[n] for n in names if row[n] is not None} for row in result]


@pytest.fixture(scope="session")
def select():
    """`select(store, query)` → list of {variable: pyoxigraph term} (bool for ASK); common prefixes declared."""
    return select_rows


@pytest.fixture(scope="session")
def crate_studies():
    """Study IRI → facts read from the bundled crate JSON with plain `json` (tests/crate_facts.py)."""
    from crate_facts import all_studies

    return all_studies()


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium (Debian's chromium + chromedriver) shared by the page tests; they skip without it."""
    from _browser import chromium, require_chromium

    require_chromium()

    with chromium() as driver:
        yield driver


# -- KG_REQUIRE_ALL=1 (set by .ci/run): no test may skip -------------------------------------------

_SKIPPED: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped and not hasattr(report, "wasxfail"):
        _SKIPPED.append(report.nodeid)


def _require_all() -> bool:
    import os

    return os.environ.get("KG_REQUIRE_ALL") == "1"


def pytest_sessionfinish(session, exitstatus):
    """Under KG_REQUIRE_ALL=1 a skipped test fails the run (the tools it needs are missing on CI)."""
    if _require_all() and _SKIPPED and session.exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter):
    if _require_all() and _SKIPPED:
        terminalreporter.write_line(
            f"KG_REQUIRE_ALL=1: {len(_SKIPPED)} test(s) skipped, so the run fails: {', '.join(_SKIPPED[:5])}", red=True
        )
