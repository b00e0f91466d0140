"""`kg` command line: harvest, serve, up, query, stats. Composes the stages; nothing imports it."""

from __future__ import annotations

import argparse
import errno
import gc
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from . import __version__
from .config import default_cache_path, default_dumps_path, default_sources_path, default_store_path, load_sources

QUERY_FORMATS = ("json", "csv", "tsv", "xml", "turtle", "ntriples", "jsonld", "rdfxml")  # words kg.formats knows


def _store(args, read_only: bool = False):
    from .store import StoreUnavailable, is_remote, open_store

    if read_only and not is_remote(args.store) and not (Path(args.store) / "CURRENT").exists():
        print(f"kg: error: no store at {args.store}; run `kg harvest --store {args.store}` first", file=sys.stderr)
        sys.exit(3)
    try:
        return open_store(args.store, read_only=read_only)
    except StoreUnavailable as e:
        hint = ""
        if "lock" in str(e).lower():
            hint = " (another process holds it for writing, e.g. `kg serve` or `kg up` on this store: stop it first; `kg query` and `kg stats` work alongside)"
        print(f"kg: error: {e}{hint}", file=sys.stderr)
        sys.exit(3)


@contextmanager
def _bar(total: int, desc: str):
    """A progress bar on standard error (hidden when it is not a terminal); yields its update function."""
    from tqdm import tqdm

    with tqdm(total=total, desc=desc, unit="rec", file=sys.stderr, disable=None, leave=True) as bar:
        yield bar.update


def _print_step(step: str, summary, dumps: str = "") -> None:
    """One line on standard error per finished harvest step (see pipeline.run_harvest)."""
    if step == "ontologies" and summary.ontologies:
        print(
            f"ontologies loaded: {', '.join(f'{k} ({v} triples)' for k, v in summary.ontologies.items())}",
            file=sys.stderr,
        )
    elif step == "links":
        print(f"cross-repository links: {summary.links} triples in the links graph", file=sys.stderr)
    elif step == "grounding":
        grounded, left = summary.grounded
        print(
            f"grounding: {grounded} text-only organism / method values grounded, {left} left for curators (kg ground --report)",
            file=sys.stderr,
        )
    elif step == "validation":
        checked = ", ".join(f"{k} {v:.1f} s" for k, v in summary.validation["seconds"].items()) or "no source changed"
        print(f"SHACL validation in {summary.seconds['validation']:.1f} s ({checked}); see /quality", file=sys.stderr)
    elif step == "dumps":
        print(f"dumps: {len(summary.dumps)} files in {dumps}", file=sys.stderr)
    elif step == "indexes":
        print(
            f"search and term indexes {summary.indexes} in {summary.seconds['indexes']:.1f} s and kept with the store",
            file=sys.stderr,
        )


def _harvest_args(args):
    """Sources and options of a harvest from the command line; (None, None, exit code) when they are bad."""
    from .pipeline import HarvestOptions

    try:
        sources = load_sources(args.config)
    except (OSError, ValueError, KeyError) as e:
        print(f"kg: error: cannot read sources configuration: {e}", file=sys.stderr)
        return None, None, 2
    unknown = [s for s in args.sources if s not in sources]
    if unknown:
        print(f"kg: error: unknown source(s) {', '.join(unknown)}; configured: {', '.join(sources)}", file=sys.stderr)
        return None, None, 2
    options = HarvestOptions(
        sources=list(args.sources),
        rocrates=Path(args.rocrates) if args.rocrates else None,
        live=args.live,
        cache=Path(args.cache),
        validate=not args.no_validate,
        dumps=Path(args.dumps),
        indexes=not getattr(args, "no_indexes", True),  # `kg up` builds them itself before it serves
    )
    return sources, options, 0


def _print_reports(summary, store, seconds: float) -> int:
    """The per-source table and the total line on standard output; the exit code (1: nothing loaded)."""
    print(f"{'source':<18}{'records':>8}{'studies':>9}{'quarantined':>13}{'triples':>9}  status")
    for r in summary.reports:
        status = "ok" if r.ok else f"FAILED: {r.error} (previous graph kept)"
        if r.ok and r.new_source:
            status = f"ok, new source (graph {r.graph})"
        live = ""
        if r.live.get("listed") is not None:
            live = f" [listed {r.live['listed']}, downloaded {r.live['downloaded']}, unchanged {r.live['unchanged']}]"
        elif r.live.get("endpoint"):
            live = f" [CONSTRUCT from {r.live['endpoint']}, {r.live['bytes']} bytes]"
        print(f"{r.source:<18}{r.records:>8}{r.studies:>9}{len(r.quarantined):>13}{r.triples:>9}  {status}{live}")
        for q in r.quarantined:
            print(f"  quarantined {q.record.name}: {q.reason}")
        for stale in (r.live or {}).get("stale", []):
            print(f"  download failed, last good copy kept: {stale}")
    from .store.stats import distinct_studies

    new = [r.source for r in summary.reports if r.ok and r.new_source]
    print(
        f"total: {summary.loaded} studies loaded, {summary.quarantined} records quarantined, in {seconds:.1f} s; "
        f"the store holds {distinct_studies(store)} distinct studies"
        + (f"; new source(s): {', '.join(new)}" if new else ""),
        flush=True,
    )
    if summary.loaded == 0:
        print("kg: error: nothing could be loaded", file=sys.stderr)
        return 1
    return 0


DISK_FULL = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)


def is_disk_full(e: BaseException) -> bool:
    """A write failed for want of space: an OSError with ENOSPC / EFBIG / EDQUOT, or the store's own
    error carrying RocksDB's message for one (pyoxigraph passes it on as text)."""
    if isinstance(e, OSError) and e.errno in DISK_FULL:
        return True
    text = str(e)
    return any(os.strerror(n) in text for n in DISK_FULL)


def _disk_full(store, sources, options, e: OSError) -> int:
    """A harvest stopped by a full disk (or a file-size limit): say so plainly, record the failed run
    where the store still takes a write, exit 3 (the store is unusable for now)."""
    from .pipeline import record_failed_run

    what = getattr(e, "strerror", None) or str(e)
    print(
        f"kg: error: the harvest stopped because the disk is full ({what}); the graphs swapped in before it stay served, "
        "the others keep their previous graph. Free some space and run the harvest again.",
        file=sys.stderr,
    )
    names = [options.rocrates and "rocrates"] if options.rocrates else (options.sources or list(sources))
    try:
        for name in names:
            record_failed_run(store, name, f"disk full: {what}")
        store.flush()
    except (OSError, RuntimeError, ValueError) as again:  # the disk is still full: nothing more can be written
        print(
            f"kg: error: the failed run could not be recorded in the provenance graph either ({again})", file=sys.stderr
        )
    return 3


def cmd_harvest(args) -> int:
    from .pipeline import run_harvest

    sources, options, rc = _harvest_args(args)
    if sources is None:
        return rc
    store = _store(args)
    t0 = time.perf_counter()
    try:
        summary = run_harvest(
            store, sources, options, progress=_bar, on_step=lambda step, summary: _print_step(step, summary, args.dumps)
        )
    except FileNotFoundError as e:
        print(f"kg: error: {e}", file=sys.stderr)
        return 2
    except Exception as e:
        if is_disk_full(e):
            return _disk_full(store, sources, options, e)
        raise
    return _print_reports(summary, store, time.perf_counter() - t0)


def _store_is_empty(store, config=None) -> bool:
    from .namespaces import source_graph

    return not any(store.has_graph(source_graph(n)) for n in load_sources(config))


def _repair(store, args) -> None:
    """Links, closure and grounding left stale by a harvest killed after a swap: rebuilt before serving."""
    from .derived_marker import derived_stale  # not the harvester's imports: a restart checks this first

    if derived_stale(store):
        from .pipeline import repair_derived

        print(
            "an earlier harvest stopped before rebuilding the links, closure and grounding graphs; rebuilding them now",
            file=sys.stderr,
        )
        repair_derived(store, on_step=lambda step, summary: _print_step(step, summary, getattr(args, "dumps", "")))


def cmd_serve(args, store=None, background=None, sources=None) -> int:
    from .indexes import IndexService
    from .serve.app import create_app
    from .serve.server import Limits, serve, serve_granian
    from .store import is_remote, open_store

    store = store if store is not None else _store(args)
    _repair(store, args)
    if sources is not None:
        from .new_sources import derived_sources

        sources = {**derived_sources(store), **sources}
    if background is not None and args.processes > 1:
        # serving processes of their own would not see this process's thread: finish the follow-up first
        print("validation and dumps run before serving (several serving processes)", file=sys.stderr)
        background.start().join()
        background = None
    started = time.perf_counter()
    # `kg up` after a harvest: the study summaries (seconds more) are left out so /search answers sooner;
    # pages query per study until the next `kg harvest` persists indexes with them
    service = IndexService(store, summaries=False if background is not None else None)
    indexes = service.warm()  # before the socket accepts: no request waits for (or stampedes) an index build
    # what start-up allocated (indexes, modules) lives as long as the process: later garbage collections
    # skip it instead of scanning it again on every request (and forked processes share its pages)
    gc.freeze()
    how = "loaded" if service.loads else "built"
    print(f"search and term indexes {how} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    options = {
        "dumps_dir": getattr(args, "dumps", None),
        "query_timeout": args.query_timeout or None,
        "result_cap": args.result_cap or None,
        "request_timeout": args.request_timeout or None,
        "cache_bytes": int(args.cache_mb * (1 << 20)),
    }

    def make_app():
        if args.processes <= 1:
            app = create_app(store, sources=sources, index_service=service, **options)
            if background is not None:  # `kg up`: searches are answered at once, the follow-up runs beside them
                background.attach(app)
            return app
        # a forked serving process: its own store handle (read-only on disk: this process holds the lock)
        own = open_store(args.store, read_only=not is_remote(args.store))
        return create_app(own, sources=sources, index_service=IndexService(own, seed=indexes), **options)

    limits = Limits(threads=args.threads, read_timeout=args.read_timeout, connection_limit=args.connection_limit)
    server = args.server
    print(
        f"serving the GIDE knowledge graph at http://{args.host}:{args.port}/ (SPARQL: /sparql) with {server}, "
        f"{args.processes} process(es)",
        file=sys.stderr,
    )
    if server == "granian":
        # several processes: each worker opens the store and loads the indexes just persisted (this one keeps the lock)
        if args.processes > 1:
            del service, indexes
        serve_granian(make_app, {"store": args.store, **options}, args.host, args.port, limits, args.processes)
    else:
        serve(make_app, args.host, args.port, limits, processes=args.processes)
    return 0


def cmd_up(args) -> int:
    """Harvest when the store is empty, serve as soon as the graphs are in, and finish the harvest
    (validation, dumps) in the background of the serving process: it holds the store (kg/background.py)."""
    from .background import BackgroundFollowUp
    from .pipeline import load_phase

    store = _store(args)
    if not (_store_is_empty(store, args.config) or args.reharvest):
        print(f"store {args.store} already holds a harvest; serving it (use --reharvest to refresh)", file=sys.stderr)
        return cmd_serve(args, store, sources=load_sources(args.config))
    args.sources, args.rocrates, args.live = [], None, False
    sources, options, rc = _harvest_args(args)
    if sources is None:
        return rc
    t0 = time.perf_counter()
    try:
        summary = load_phase(
            store, sources, options, progress=_bar, on_step=lambda step, summary: _print_step(step, summary, args.dumps)
        )
    except Exception as e:
        if is_disk_full(e):
            return _disk_full(store, sources, options, e)
        raise
    rc = _print_reports(summary, store, time.perf_counter() - t0)
    if rc != 0:
        return rc
    background = BackgroundFollowUp(
        store, sources, summary, options, on_step=lambda step, s: _print_step(step, s, args.dumps)
    )
    pending = [k for k, v in background.state().items() if v != "skipped"]
    if pending:
        print(f"serving now; {' and '.join(pending)} continue in the background (see /health)", file=sys.stderr)
    return cmd_serve(args, store, background, sources=sources)


def cmd_query(args) -> int:
    from .formats import serialize_as

    text = args.query
    if text == "-":
        text = sys.stdin.read()
    elif "\n" not in text and len(text) < 1024 and Path(text).is_file():  # a path, not a query text
        text = Path(text).read_text(encoding="utf-8")
    elif text.endswith((".rq", ".sparql")) and "\n" not in text:
        print(f"kg: error: no such query file: {text}", file=sys.stderr)
        return 2
    store = _store(args, read_only=True)
    try:
        result = store.query(text)
    except SyntaxError as e:
        print(f"kg: query error: {e}", file=sys.stderr)
        return 2
    except (TimeoutError, ValueError, OSError) as e:  # evaluation failed (remote store: the server's message)
        print(f"kg: query failed: {e}", file=sys.stderr)
        return 1
    try:
        body, _ = serialize_as(result, args.format)
    except ValueError as e:
        print(f"kg: error: {e}", file=sys.stderr)
        return 2
    sys.stdout.buffer.write(body)
    if body and not body.endswith(b"\n"):  # ASK results (text/boolean) end without one; a shell prompt would follow
        sys.stdout.buffer.write(b"\n")
    return 0


def cmd_stats(args) -> int:
    from .store.stats import collect_stats

    store = _store(args, read_only=True)
    stats = collect_stats(store, load_sources(args.config))
    print("triples per graph:")
    for g, n in stats["graphs"].items():
        print(f"  {n:>8}  {g}")
    print(f"distinct studies: {stats['studies']}")
    print("studies per source:")
    for s in stats["sources"]:
        print(f"  {s['studies']:>8}  {s['label']} ({s['name']})")
    print("last harvest per source:")
    for s in stats["sources"]:
        h = s.get("last_run") or {}
        print(
            f"  {s['name']:<18} {h.get('status', 'never'):<10} {h.get('ended', '')}  loaded {h.get('loaded', '-')}, quarantined {h.get('quarantined', '-')}"
        )
    return 0


def cmd_reconcile(args) -> int:
    from .config import QUERIES
    from .namespaces import compact

    store = _store(args, read_only=True)
    rows = list(store.query((QUERIES / "reconciliation-conflicts.rq").read_text(encoding="utf-8")))
    conflicts = [
        {k: r[k].value for k in ("study", "property", "graph", "value", "otherGraph", "otherValues")} for r in rows
    ]
    if args.format == "json":
        import json

        print(json.dumps(conflicts, indent=1))
        return 0
    by_pair: dict[tuple[str, str], list[dict]] = {}
    for c in conflicts:
        by_pair.setdefault((c["graph"].rsplit("/", 1)[-1], c["otherGraph"].rsplit("/", 1)[-1]), []).append(c)
    print(
        f"{len(conflicts)} conflicting values in {len({c['study'] for c in conflicts})} studies described by more than one source"
    )
    for (a, b), items in sorted(by_pair.items()):
        props: dict[str, int] = {}
        for c in items:
            props[compact(c["property"])] = props.get(compact(c["property"]), 0) + 1
        print(f"\n{a} states, {b} says otherwise: " + ", ".join(f"{p} {n}" for p, n in sorted(props.items())))
        for c in items:
            other = c["otherValues"] if len(c["otherValues"]) < 120 else c["otherValues"][:117] + "..."
            print(f"  {c['study']}  {compact(c['property'])}: {compact(c['value'])}  vs  {other}")
    return 0


def cmd_export(args) -> int:
    from .export.folders import write_study_folders
    from .export.rocrate import export_source

    write = write_study_folders if args.layout == "folders" else export_source

    sources = load_sources(args.config)
    names = args.sources or [n for n, s in sources.items() if s.kind == "rocrate"]
    unknown = [n for n in names if n not in sources]
    if unknown:
        print(f"kg: error: unknown source(s) {', '.join(unknown)}", file=sys.stderr)
        return 2
    store = _store(args, read_only=True)
    for name in names:
        n = write(store, name, Path(args.rocrate) / name)
        print(f"{name}: {n} crates written to {Path(args.rocrate) / name}")
    return 0


def cmd_expand(args) -> int:
    from .terms import TermIndex

    index = TermIndex.from_store(_store(args, read_only=True))
    found = index.lookup(args.iri)
    if not found:
        print(
            f"kg: error: no term {args.iri} in the loaded ontologies (give an IRI, a CURIE such as FBbi:00000246 "
            "or obo:FBbi_00000246, or an OBO id such as fbbi:246)",
            file=sys.stderr,
        )
        return 2
    for iri in index.expand(found[0].iri):
        print(f"{iri}\t{index.label_of(iri)}")
    return 0


def cmd_ground(args) -> int:
    from .terms import TermIndex
    from .terms.ground import candidates, decide
    from .terms.grounding import SSSOM_PATH, decide_all, report, text_values, write_table
    from .terms.taxonomy import coverage

    store = _store(args, read_only=not args.write)
    index = TermIndex.from_store(store)
    if args.text:
        onts = [o.strip() for o in (args.ontology or "").split(",") if o.strip()] or None
        cands = candidates(index, args.text, onts)
        chosen = decide(cands)
        if args.format == "json":
            import json

            print(
                json.dumps(
                    {
                        "text": args.text,
                        "candidates": [c.as_dict() for c in cands],
                        "grounding": chosen.as_dict() if chosen else None,
                    },
                    indent=1,
                )
            )
            return 0
        for c in cands:
            mark = "*" if chosen is not None and c is chosen else " "
            print(
                f"{mark} {c.score:6.1f}  {c.term.ontology:<16} {c.term.obo_id or c.term.iri:<24} {c.term.label}  ({c.reason})"
            )
        if chosen is None:
            print("no decisive grounding" if cands else "no candidate")
        return 0
    if args.write:
        path = write_table(decide_all(index, text_values(store)), Path(args.table) if args.table else SSSOM_PATH)
        print(f"wrote {path}")
    rows = report(store, index, load_sources(args.config))
    taxa = coverage(store, index)
    if args.format == "json":
        import json

        print(json.dumps({"grounding": rows, "taxonomy": taxa}, indent=1))
        return 0
    print(f"{'source':<18}{'values':<16}{'IRIs':>7}{'grounded':>10}{'ungrounded':>12}")
    total = grounded = 0
    for r in rows:
        n = r["iri"] + r["grounded_from_text"] + r["ungrounded"]
        total += n
        grounded += r["iri"] + r["grounded_from_text"]
        print(f"{r['source']:<18}{r['property']:<16}{r['iri']:>7}{r['grounded_from_text']:>10}{r['ungrounded']:>12}")
        for v in r["ungrounded_values"]:
            print(f"    ungrounded: {v}")
    if total:
        print(f"total: {grounded} of {total} values grounded ({100 * grounded / total:.2f} %)")
    divisions = ", ".join(f"{n} {name}" for name, n in sorted(taxa["by_division"].items()))
    print(
        f"taxonomy: {taxa['organisms'] - len(taxa['missing'])} of {taxa['organisms']} organism terms used by studies reach "
        f"their top-level division ({divisions}); {taxa['inferred']} of them through a parent inferred from the "
        f"scientific name (kg:inferredParent)"
    )
    for iri in taxa["missing"]:
        print(f"    no lineage: {iri}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kg",
        description="GIDE knowledge graph: harvest the GIDE image repositories into one RDF graph and serve it.",
    )
    p.add_argument("--version", action="version", version=f"kg {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(sp, config=True):
        sp.add_argument(
            "--store",
            default=str(default_store_path()),
            help="store folder, or the query URL of a SPARQL 1.1 server (update and Graph Store URLs, credentials: env KG_STORE_UPDATE, KG_STORE_GRAPH_STORE, KG_STORE_USER, KG_STORE_PASSWORD) (default: %(default)s; env KG_STORE)",
        )
        if config:
            sp.add_argument(
                "--config",
                default=str(default_sources_path()),
                help="sources configuration (default: %(default)s; env KG_SOURCES)",
            )

    def server(sp):
        sp.add_argument(
            "--query-timeout",
            type=float,
            default=10.0,
            help="time limit of a /sparql query in seconds, 0 for none (default: %(default)s)",
        )
        sp.add_argument(
            "--result-cap",
            type=int,
            default=100_000,
            help="most solutions or triples a /sparql answer carries, 0 for no cap (default: %(default)s)",
        )
        sp.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
        sp.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
        sp.add_argument(
            "--server",
            choices=["granian", "waitress"],
            default="granian",
            help="HTTP server: granian (HTTP in Rust; request bodies read before a thread runs the app) or waitress "
            "(pure Python, ~half the requests/s) (default: %(default)s)",
        )
        sp.add_argument(
            "--processes",
            type=int,
            default=1,
            help="serving processes sharing the port, each with a read-only store handle (default: %(default)s)",
        )
        sp.add_argument("--threads", type=int, default=8, help="request threads per process (default: %(default)s)")
        sp.add_argument(
            "--request-timeout",
            type=float,
            default=30.0,
            help="deadline of a request in seconds (default: %(default)s)",
        )
        sp.add_argument(
            "--read-timeout",
            type=float,
            default=10.0,
            help="a request must arrive whole within this many seconds of its first byte (default: %(default)s)",
        )
        sp.add_argument(
            "--connection-limit", type=int, default=1000, help="open connections per process (default: %(default)s)"
        )
        sp.add_argument(
            "--cache-mb",
            type=float,
            default=64,
            help="answers kept per process until the next harvest, in MiB; 0 for none (default: %(default)s)",
        )

    h = sub.add_parser(
        "harvest",
        help="harvest sources into the store",
        description="Harvest GIDE RO-Crates (bundled snapshot by default, --live over HTTP, or --rocrates DIR) into the store. Exit 0 when something loaded (quarantined records are listed), 1 when nothing could be loaded, 2 for bad arguments, 3 when the store is unusable.",
    )
    common(h)
    h.add_argument("sources", nargs="*", metavar="SOURCE", help="source names from the configuration (default: all)")
    h.add_argument(
        "--rocrates",
        metavar="DIR",
        help="harvest every *ro-crate-metadata.json under DIR; each crate's repository is read from the crate",
    )
    h.add_argument(
        "--live", action="store_true", help="fetch from the published crate repositories (URLs in the configuration)"
    )
    h.add_argument(
        "--cache", default=str(default_cache_path()), help="raw-record cache for --live (default: %(default)s)"
    )
    h.add_argument(
        "--dumps",
        default=str(default_dumps_path()),
        help="where to write the N-Quads / Turtle dumps (default: %(default)s; env KG_DUMPS)",
    )
    h.add_argument(
        "--no-validate",
        action="store_true",
        help="skip SHACL validation (otherwise sources whose records changed are validated)",
    )
    h.add_argument(
        "--no-indexes",
        action="store_true",
        help="do not build the search and term indexes into the store folder (then the next `kg serve` builds them before it listens)",
    )
    h.set_defaults(func=cmd_harvest)

    s = sub.add_parser(
        "serve", help="serve the store over HTTP", description="Serve SPARQL, browse pages and downloads for the store."
    )
    common(s, config=False)
    s.add_argument(
        "--dumps", default=str(default_dumps_path()), help="dumps folder to serve at /downloads (default: %(default)s)"
    )
    server(s)
    s.set_defaults(func=cmd_serve)

    u = sub.add_parser(
        "up",
        help="harvest the bundled data if the store is empty, then serve",
        description="Harvest the bundled snapshot of every source when the store holds none, then serve it.",
    )
    common(u)
    server(u)
    u.add_argument("--reharvest", action="store_true", help="harvest even when the store already holds data")
    u.add_argument("--cache", default=str(default_cache_path()), help=argparse.SUPPRESS)
    u.add_argument("--dumps", default=str(default_dumps_path()), help="dumps folder (default: %(default)s)")
    u.add_argument("--no-validate", action="store_true", help="skip SHACL validation")
    u.set_defaults(func=cmd_up)

    q = sub.add_parser(
        "query",
        help="run a SPARQL query against the store",
        description="Run a SPARQL query (text, a .rq file, or - for standard input) over the union of all graphs.",
    )
    common(q, config=False)
    q.add_argument("query", metavar="QUERY-OR-FILE")
    q.add_argument(
        "--format", choices=sorted(QUERY_FORMATS), default="tsv", help="result format (default: %(default)s)"
    )
    q.set_defaults(func=cmd_query)

    st = sub.add_parser(
        "stats",
        help="triples per graph, studies per repository, last harvest per source",
        description="Print store statistics.",
    )
    common(st)
    st.set_defaults(func=cmd_stats)
    gr = sub.add_parser(
        "ground",
        help="ground free text to ontology terms; report grounding per source",
        description="With TEXT: candidate ontology terms with score and reason (* marks a decisive grounding). With --report: per source, how many organism and imaging-method values were already IRIs, grounded from text, or left ungrounded. --write refreshes the SSSOM table mappings/grounding/gide-kg.sssom.tsv (curated rows are kept and win).",
    )
    common(gr)
    gr.add_argument("text", nargs="?", help="text to ground")
    gr.add_argument("--ontology", help="restrict to these ontologies (comma-separated ids, e.g. fbbi,ncbitaxon)")
    gr.add_argument("--report", action="store_true", help="print the grounding report (the default without TEXT)")
    gr.add_argument("--write", action="store_true", help="write the SSSOM table of automatic decisions")
    gr.add_argument("--table", help=argparse.SUPPRESS)
    gr.add_argument("--format", choices=["text", "json"], default="text")
    gr.set_defaults(func=cmd_ground)

    xp = sub.add_parser(
        "export",
        help="write a GIDE search-profile RO-Crate for every study",
        description="Write <identifier>-ro-crate-metadata.json for every study of the given sources (default: the crate sources) from the unified graph.",
    )
    common(xp)
    xp.add_argument("--rocrate", required=True, metavar="DIR", help="output folder (one subfolder per source)")
    xp.add_argument(
        "--layout",
        choices=["gide", "folders"],
        default="gide",
        help="gide: <identifier>-ro-crate-metadata.json side by side (GIDE's detached naming, what gide-search reads); "
        "folders: <identifier>/ro-crate-metadata.json, one RO-Crate folder per study (what ro-crate-py and "
        "other RO-Crate tools open) (default: %(default)s)",
    )
    xp.add_argument("sources", nargs="*", metavar="SOURCE")
    xp.set_defaults(func=cmd_export)

    ex = sub.add_parser(
        "expand",
        help="a term and all its descendants (hierarchy-aware filters)",
        description="Print the IRI and label of the term and of all its descendants (rdfs:subClassOf*) in the loaded ontologies, tab-separated. The term may be an IRI, a CURIE (FBbi:00000246, obo:FBbi_00000246) or an OBO id with the ontology's prefix in any case and its zeros left out (fbbi:246).",
    )
    common(ex, config=False)
    ex.add_argument("iri")
    ex.set_defaults(func=cmd_expand)

    rc = sub.add_parser(
        "reconcile",
        help="list where sources describing the same study disagree",
        description="Report the conflicts between sources that describe the same study IRI (e.g. an IDR crate and its study file): titles, dates, organisms and imaging methods one source states and the other contradicts (queries/reconciliation-conflicts.rq).",
    )
    common(rc, config=False)
    rc.add_argument("--report", action="store_true", help="print the report (the default action)")
    rc.add_argument("--format", choices=["text", "json"], default="text")
    rc.set_defaults(func=cmd_reconcile)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
