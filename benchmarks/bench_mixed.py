"""Many clients: the mixed workload of issue #16 at 1, 20 and 100 clients, next to Oxigraph's own server and
Virtuoso for SPARQL lookups, in one run. Everything listens on 127.0.0.1 only; every run is bounded.

Servers: `kg serve` with one process and no response cache (as before), with `--processes N` and its
default response cache, and the same under granian (`--server granian`); `oxigraph serve-read-only`
(the `oxigraph` package) and Virtuoso (tests/_virtuoso.py) over the same quads, for lookups only.
Workloads, each request drawn at random from real values of the store:
- mixed: a small SELECT on /sparql (a study by its identifier), /search with a facet (HTML),
  /gide/search (free text), a study page, /api/search (OLS term search) — in equal shares;
- lookup: the small SELECT only (on /sparql, or the peer's endpoint); half of them made unique by a
  comment, so that a result cache cannot answer them (reported apart as "(unique)"; `--unique`: only those).
Clients are threads with keep-alive connections, spread over a few client processes. Prints per endpoint
requests, errors, p50 / p99 and the req/s of each run, then the ratios.

    python benchmarks/bench_mixed.py [--store PATH] [--seconds 8] [--processes 2] [--no-virtuoso] [--no-granian]
    python benchmarks/bench_mixed.py --store PATH --only lookups --clients 20 --before main --rounds 4
        # lookups only, before/after, every server side by side with the load alternating between them
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from _process import free_port, stop  # noqa: E402  (SIGTERM, then SIGKILL after a grace period)

LEVELS = (1, 20, 100)
JSON_RESULTS = "application/sparql-results+json"
WORDS = [
    "fluorescence",
    "mouse",
    "confocal",
    "cell",
    "zebrafish",
    "light sheet",
    "nucleus",
    "human",
    "electron",
    "microscopy",
    "embryo",
    "yeast",
    "drosophila",
    "kidney",
    "mitosis",
]


def wait_http(port: int, path: str, proc: subprocess.Popen, limit: float = 600) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", path)
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"no answer on 127.0.0.1:{port}{path}")


# -- load generation ------------------------------------------------------------------------------
def _client(port: int, requests_: list, seconds: float, seed: int, out: list) -> None:
    rnd = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    end = time.monotonic() + seconds
    n = 0
    run = (
        f"{os.getpid()}-{time.monotonic_ns()}"  # unique per run too: a later round must not hit an earlier one's cache
    )
    while time.monotonic() < end:
        name, path, headers = rnd.choice(requests_)
        n += 1
        path = path.replace("NONCE", f"{run}x{seed}x{n}")  # a query text never asked before: no cache can answer it
        t = time.perf_counter()
        try:
            conn.request("GET", path, headers=headers)
            r = conn.getresponse()
            r.read()
            out.append((name, r.status, (time.perf_counter() - t) * 1000))
            if r.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        except (OSError, http.client.HTTPException):
            out.append((name, 0, (time.perf_counter() - t) * 1000))
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.close()


def _client_process(port: int, requests_: list, threads: int, seconds: float, seed: int, queue) -> None:
    results: list = []
    ts = [
        threading.Thread(target=_client, args=(port, requests_, seconds, seed * 1000 + i, results))
        for i in range(threads)
    ]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    queue.put(results)


def percentile(sorted_ms: list[float], q: float) -> float:
    return sorted_ms[min(len(sorted_ms) - 1, int(q * len(sorted_ms)))] if sorted_ms else float("nan")


def warm_up(port: int, requests_: list, connections: int = 8) -> None:
    """Every distinct request once, before the clock runs: the steady state of a served generation
    (worker processes started, indexes loaded, a response cache filled with what the workload asks)."""

    def one(conn_no: int) -> None:  # several connections, so that every serving process gets its share
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        for _, path, headers in requests_[conn_no:] + requests_[:conn_no]:
            conn.request("GET", path.replace("NONCE", "warm-up"), headers=headers)
            conn.getresponse().read()
        conn.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def run_load(port: int, requests_: list, clients: int, seconds: float) -> tuple[float, dict]:
    """(answered requests/s, {endpoint: (count, errors, p50 ms, p99 ms)}) of `clients` clients for `seconds`;
    refusals (503) and failures count as errors, not in the rate."""
    return summarize(load_raw(port, requests_, clients, seconds), seconds)


def load_raw(port: int, requests_: list, clients: int, seconds: float) -> list:
    """[(endpoint, status, ms)] of every request `clients` clients sent in `seconds`."""
    procs = min(clients, 4)
    per = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
    queue = mp.get_context("fork").Queue()
    ps = [
        mp.get_context("fork").Process(target=_client_process, args=(port, requests_, n, seconds, i, queue))
        for i, n in enumerate(per)
    ]
    for p in ps:
        p.start()
    results = [r for _ in ps for r in queue.get()]
    for p in ps:
        p.join()
    return results


def summarize(results: list, seconds: float) -> tuple[float, dict]:
    by: dict[str, list] = {}
    for name, status, ms in results:
        by.setdefault(name, []).append((status, ms))
    stats = {}
    for name, rows in sorted(by.items()):
        ms = sorted(m for s, m in rows if s == 200)
        errors = sum(1 for s, _ in rows if s != 200)
        stats[name] = (len(rows), errors, percentile(ms, 0.5), percentile(ms, 0.99))
    return sum(1 for _, status, _ in results if status == 200) / seconds, stats  # answered only: a 503 is no answer


def lookups_side_by_side(
    runs: list, store: Path, work: Path, levels: list[int], seconds: float, rounds: int, unique: bool = False
) -> dict:
    """Lookups against every kg run and Oxigraph's server, all running at once (each kg run on its own copy
    of the store), the load alternating between them `rounds` times: on a shared machine whose load comes
    and goes, each server sees the same conditions; `unique`: only lookups no cache has seen. Returns
    {(label, "lookup", clients): answered req/s}."""

    def kept(requests_: list) -> list:
        return [r for r in requests_ if r[0].endswith("(unique)")] if unique else requests_

    servers: list[tuple[str, subprocess.Popen, int, list]] = []
    try:
        ids: list[str] = []
        for n, (label, code) in enumerate(runs):
            copy = work / f"store-{n}"
            shutil.copytree(store, copy, ignore=shutil.ignore_patterns("LOCK"))
            proc, port = start_kg(copy, label.split("@")[0].split()[2:], code)
            servers.append((label, proc, port, []))
            _, lookups, ids = workloads(port)
            warm_up(port, lookups, 1 if "--processes 1" in label else 8)
            servers[-1] = (label, proc, port, kept(lookups))
        nquads = work / "nq" / "all.nq"
        nquads.parent.mkdir()
        dump_nquads(store, nquads)
        proc, port = start_oxigraph(nquads, work)
        peer = [lookup_request(i, "/query", u) for i in ids for u in (False, True)]
        servers.append(("oxigraph serve-read-only", proc, port, kept(peer)))
        warm_up(port, peer, 1)
        raw: dict[tuple[str, int], list] = {}
        cpu: dict[tuple[str, int], float] = {}
        for _ in range(rounds):
            for label, proc, port, requests_ in servers:
                for clients in levels:
                    before = cpu_seconds(proc.pid)
                    raw.setdefault((label, clients), []).extend(load_raw(port, requests_, clients, seconds / rounds))
                    cpu[(label, clients)] = cpu.get((label, clients), 0.0) + cpu_seconds(proc.pid) - before
        rps = {}
        for (label, clients), results in raw.items():
            r, stats = summarize(results, seconds)
            rps[(label, "lookup", clients)] = r
            report(f"{label}, lookups, {clients} clients", r, stats)
            print(
                f"      server CPU (its processes and their workers): {1000 * cpu[(label, clients)] / len(results):.3f} ms per request"
            )
        return rps
    finally:
        for _, proc, _, _ in servers:
            stop(proc)


# -- workloads ------------------------------------------------------------------------------------
def lookup_request(identifier: str, path: str, unique: bool = False) -> tuple:
    q = f'SELECT ?s WHERE {{ ?s <http://schema.org/identifier> "{identifier}" }}' + (" # NONCE" if unique else "")
    return (
        "small SELECT" + (" (unique)" if unique else ""),
        f"{path}?{urlencode({'query': q})}",
        {"Accept": JSON_RESULTS},
    )


def peer_lookups(
    label: str, port: int, path: str, ids: list[str], levels: tuple[int, ...], seconds: float
) -> dict[tuple[str, str, int], float]:
    """The lookup workload (half of it unique) against a peer SPARQL server's `path`, at each client
    count: {(label, "lookup", clients): answered req/s}, each run reported."""
    warm_up(port, [lookup_request(i, path) for i in ids], 1)
    rps = {}
    for clients in levels:
        r, stats = run_load(port, [lookup_request(i, path, u) for i in ids for u in (False, True)], clients, seconds)
        rps[(label, "lookup", clients)] = r
        report(f"{label}, lookups, {clients} clients", r, stats)
    return rps


def workloads(port: int) -> tuple[list, list, list]:
    """(mixed, lookup on /sparql, identifiers) from real studies of the served store."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    c.request("GET", "/gide/search?size=100&sort=title&extras=true")  # study_page is one of our extras
    entries = json.loads(c.getresponse().read())["hits"]
    ids = [h["entry"]["identifier"] for h in entries]
    pages = [h["entry"]["study_page"].split(f":{port}", 1)[1] for h in entries]
    c.request("GET", "/search?format=json")
    facets = json.loads(c.getresponse().read())["facets"]
    methods = [f["key"] for f in facets["imaging_method"]][:15]
    organisms = [f["key"] for f in facets["organism"]][:15]
    html = {"Accept": "text/html"}
    mixed = []
    for i in range(60):
        mixed.append(lookup_request(ids[i % len(ids)], "/sparql"))
        facet = {"imaging_method": methods[i % len(methods)]} if i % 2 else {"organism": organisms[i % len(organisms)]}
        mixed.append(("/search + facet", "/search?" + urlencode(facet), html))
        mixed.append(
            ("/gide/search", "/gide/search?" + urlencode({"q": WORDS[i % len(WORDS)]}), {"Accept": "application/json"})
        )
        mixed.append(("study page", pages[i % len(pages)], html))
        mixed.append(
            (
                "/api/search",
                "/api/search?" + urlencode({"q": WORDS[(i + 3) % len(WORDS)]}),
                {"Accept": "application/json"},
            )
        )
    return (
        mixed,
        [lookup_request(i, "/sparql") for i in ids] + [lookup_request(i, "/sparql", unique=True) for i in ids],
        ids,
    )


# -- servers --------------------------------------------------------------------------------------
def start_kg(store: Path, options: list[str], code: Path = ROOT) -> tuple[subprocess.Popen, int]:
    """`kg serve` of the code in `code` (this checkout, or an older commit's) on the store."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kg.cli", "serve", "--store", str(store), "--port", str(port), *options],
        cwd=code,
        env={**os.environ, "PYTHONPATH": str(code)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_http(port, "/health", proc)
    return proc, port


def dump_nquads(store_path: Path, out: Path) -> None:
    import pyoxigraph as ox

    from kg.store import open_store

    store = open_store(store_path, read_only=True)
    with open(out, "wb") as f:
        f.writelines(
            store.dump_graph(g.value, ox.RdfFormat.N_TRIPLES).replace(b" .\n", f" <{g.value}> .\n".encode())
            for g in store.public_graphs()
        )


def start_oxigraph(nquads: Path, work: Path) -> tuple[subprocess.Popen, int]:
    exe = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    subprocess.run(
        [exe, "load", "--location", str(work / "oxigraph"), "--file", str(nquads)], check=True, capture_output=True
    )
    port = free_port()
    proc = subprocess.Popen(
        [
            exe,
            "serve-read-only",
            "--location",
            str(work / "oxigraph"),
            "--bind",
            f"127.0.0.1:{port}",
            "--union-default-graph",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_http(port, "/query?" + urlencode({"query": "ASK {}"}), proc)
    return proc, port


def restart_figures(store_path: Path) -> None:
    """A restart loads the persisted indexes; without them it would build them: both timed in process."""
    from kg.indexes import IndexService, build
    from kg.store import open_store

    store = open_store(store_path, read_only=True)
    IndexService(store).warm()  # makes sure the file of this generation exists
    t = time.perf_counter()
    service = IndexService(store)
    service.warm()
    load = time.perf_counter() - t
    assert service.loads == 1
    t = time.perf_counter()
    build(store)
    built = time.perf_counter() - t
    print(f"  indexes at a restart: loaded in {load:.2f} s; building them takes {built:.1f} s ({built / load:.0f}x)")


def cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by a process and every process below it (serving processes, query workers;
    Linux /proc): what a server spends per request, beside the rate it reaches."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, IndexError, ValueError):  # gone meanwhile
            continue
    return total


# -- report ---------------------------------------------------------------------------------------
def report(label: str, rps: float, stats: dict) -> None:
    print(f"  {label:<34} {rps:8.1f} req/s")
    for name, (n, errors, p50, p99) in stats.items():
        print(f"      {name:<18} n={n:<6} errors={errors:<4} p50 {p50:8.1f} ms   p99 {p99:8.1f} ms")


def checkout(ref: str, work: Path) -> Path:
    """The repository's code at git `ref` in a folder of its own, to serve the same store as "before"."""
    out = work / f"code-{ref.replace('/', '-')}"
    out.mkdir()
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(out)], input=archive, check=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--store",
        help="a harvested on-disk store (default: `kg harvest --no-validate` of the bundled data into a temp folder)",
    )
    ap.add_argument("--seconds", type=float, default=8.0, help="length of each run (default: %(default)s)")
    ap.add_argument(
        "--processes",
        type=int,
        default=os.cpu_count() or 2,
        help="serving processes of the scaled kg run (default: %(default)s)",
    )
    ap.add_argument("--no-virtuoso", action="store_true", help="leave Virtuoso out")
    ap.add_argument("--no-granian", action="store_true", help="leave the granian run out")
    ap.add_argument(
        "--only", choices=["mixed", "lookups"], help="run one workload (lookups: no restart figures either)"
    )
    ap.add_argument("--clients", type=int, nargs="+", default=list(LEVELS), help="client counts (default: %(default)s)")
    ap.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="with --only lookups: run every server at once and alternate the load between them this many times",
    )
    ap.add_argument(
        "--unique",
        action="store_true",
        help="with --only lookups and --rounds: only lookups no response cache has seen (each query text new)",
    )
    ap.add_argument(
        "--kg",
        action="append",
        metavar="OPTIONS",
        help="serve with these `kg serve` options instead of the default set of runs (repeatable; '' = defaults)",
    )
    ap.add_argument(
        "--before",
        metavar="GIT_REF",
        help="also serve the store with the code of GIT_REF (e.g. main), default options: a before/after in one run",
    )
    args = ap.parse_args()
    levels = args.clients
    work = Path(tempfile.mkdtemp(prefix="bench-mixed-"))
    # absolute: a --before run starts its server in a folder of its own
    store = Path(args.store).resolve() if args.store else work / "store"
    if not args.store:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "kg.cli",
                "harvest",
                "--no-validate",
                "--store",
                str(store),
                "--dumps",
                str(work / "dumps"),
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            check=True,
            capture_output=True,
        )
    print(f"bench_mixed: store {store}, {args.seconds:.0f} s per run, 127.0.0.1 only; {os.cpu_count()} cores")
    if args.only != "lookups":
        restart_figures(store)
    rps: dict[tuple[str, str, int], float] = {}
    lookup_ids: list[str] = []
    one, many = "kg serve --processes 1 --cache-mb 0", f"kg serve --processes {args.processes}"
    default = "kg serve"  # the options a user gets without any
    fast = f"kg serve --processes {args.processes} --server granian"
    runs = [(one, ROOT), (default, ROOT), (many, ROOT)] + ([] if args.no_granian else [(fast, ROOT)])
    if args.kg is not None:
        runs = [(f"{default} {options}".strip(), ROOT) for options in args.kg]
    if args.before:
        runs.insert(0, (f"{default} @{args.before}", checkout(args.before, work)))
    # what the mixed ratios divide by: the --before run, else the one-process run without cache, else the first
    base = runs[0][0] if args.before or all(label != one for label, _ in runs) else one
    workloads_ = ["mixed", "lookup"] if args.only is None else [{"mixed": "mixed", "lookups": "lookup"}[args.only]]
    if args.only == "lookups" and args.rounds > 1:
        rps = lookups_side_by_side(runs, store, work, levels, args.seconds, args.rounds, args.unique)
        print(f"ratios (answered req/s), servers side by side, {args.rounds} rounds")
        for clients in levels:
            line = ", ".join(
                f"{label.removeprefix('kg serve').strip() or '(defaults)'}: {rps[(label, 'lookup', clients)] / rps[('oxigraph serve-read-only', 'lookup', clients)]:.2f}x"
                for label, _ in runs
            )
            print(f"  lookups, {clients:>3} clients, kg / oxigraph: {line}")
        shutil.rmtree(work, ignore_errors=True)
        return
    for label, code in runs:
        proc, port = start_kg(store, label.split("@")[0].split()[2:], code)
        try:
            mixed, lookups, lookup_ids = workloads(port)
            warm_up(port, (mixed if "mixed" in workloads_ else []) + lookups, 1 if label == one else 8)
            for kind in workloads_:
                for clients in levels:
                    r, stats = run_load(port, mixed if kind == "mixed" else lookups, clients, args.seconds)
                    rps[(label, kind, clients)] = r
                    report(f"{label}, {kind}s, {clients} clients", r, stats)
        finally:
            stop(proc)
    ours = [label for label, _ in runs]
    peers = []
    if "lookup" in workloads_:
        nquads = work / "nq" / "all.nq"
        nquads.parent.mkdir()
        dump_nquads(store, nquads)
        proc, port = start_oxigraph(nquads, work)
        try:
            rps.update(peer_lookups("oxigraph serve-read-only", port, "/query", lookup_ids, levels, args.seconds))
        finally:
            stop(proc)
        peers.append(("oxigraph", "oxigraph serve-read-only"))
        if not args.no_virtuoso:
            from bench_scale import load_virtuoso

            from _virtuoso import running_virtuoso

            with running_virtuoso(work / "virtuoso", memory_gib=1, allowed=nquads.parent) as v:
                load_virtuoso(v, nquads)
                vport = int(v.query_url.split(":")[2].split("/")[0])
                rps.update(peer_lookups("virtuoso", vport, "/sparql", lookup_ids, levels, args.seconds))
            peers.append(("virtuoso", "virtuoso"))
    print(
        f"ratios (answered req/s); before = {base}" + (f"; @{args.before} = that commit's code" if args.before else "")
    )
    if "mixed" in workloads_:
        for clients in levels:
            for after in ours:
                if after != base:
                    print(
                        f"  mixed, {clients:>3} clients: {after} / before = {rps[(after, 'mixed', clients)] / rps[(base, 'mixed', clients)]:.2f}x"
                    )
    for clients in levels:
        for short, peer in peers:
            line = ", ".join(
                f"{label.removeprefix('kg serve').strip() or '(defaults)'}: {rps[(label, 'lookup', clients)] / rps[(peer, 'lookup', clients)]:.2f}x"
                for label in ours
            )
            print(f"  lookups, {clients:>3} clients, kg / {short}: {line}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
