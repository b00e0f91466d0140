"""The attack suite's harness (issue #15), shared by tests/test_attack_suite.py and benchmarks/attack_suite.py.

One real `kg serve` (its default server, as in production) on 127.0.0.1 over an on-disk store is attacked at once by
slow clients trickling headers, runaway SPARQL queries, parameter bombs on /gide/search and /search, the SSRF
disguise corpus of tests/test_ssrf.py (against its canary server) and XSS payloads in page query strings,
while a prober asks /health and /search every 100 ms. Every attack is bounded in count and time, and
`attack()` returns what it saw: statuses per attack, 5xx other than a 503 with Retry-After, canary hits,
unescaped payloads and unsafe links in HTML answers, and the probes' latencies.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests
from _process import free_port, stop, wait_healthy
from test_ssrf import DISGUISES, Canary

ROOT = Path(__file__).resolve().parent.parent
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
BOMB = "&".join(["organism=ncbitaxon:2759"] * 15000)  # 360 KB, the attack of issue 15: the HTTP server refuses it
MID_BOMB = "&".join(["organism=ncbitaxon:2759"] * 2000)  # 48 KB: within the HTTP server's bound, so ours answers
SLOW_START = b"GET /health?slow=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
MARK = "kg-xss-7c1e"
PAYLOADS = [
    f"<script>alert('{MARK}')</script>",
    f'"><img src=x onerror=alert("{MARK}")>',
    f"'><svg onload=alert('{MARK}')>",
    f"</title><script>{MARK}</script>",
]
UNSAFE_LINK = re.compile(r"""(?i)\b(?:href|src|action|formaction)\s*=\s*["']?\s*(?:javascript|data|vbscript):""")
METHODS = ("GET", "POST form", "POST body")


def build_idr_store(path: Path) -> Path:
    """An on-disk store (closed) with the ontologies and IDR's bundled crates, as conftest's `idr_store_dir`."""
    import gc

    from kg.config import load_sources
    from kg.pipeline import HarvestOptions, run_harvest
    from kg.store import open_store

    store = open_store(path)
    summary = run_harvest(store, {"idr": load_sources()["idr"]}, HarvestOptions(derived=False, validate=False))
    assert [r.ok for r in summary.reports] == [True], [r.error for r in summary.reports]
    del store, summary
    gc.collect()  # releases RocksDB's lock
    return path


@contextmanager
def kg_serve(store: Path, log: Path, query_timeout: float = 2.0, start_timeout: float = 300.0):
    """`kg serve` (its default server, granian) in a subprocess on a free port of 127.0.0.1; yields its base URL once /health is 200."""
    port = free_port()
    cmd = [sys.executable, "-m", "kg.cli", "serve", "--store", str(store), "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--query-timeout", str(query_timeout)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    env.pop("KG_SERVICE_ALLOW", None)  # no SERVICE endpoint is allowed: every canary hit is a leak
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc, log, start_timeout)
        yield base
    finally:
        stop(proc)


@dataclass
class Report:
    """What the attack saw. `failures()` lists every broken promise; empty means the server held."""

    statuses: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    bad_5xx: list[tuple[str, int, str]] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # attack requests without an answer
    health: list[tuple[float, int | str]] = field(default_factory=list)  # (seconds, status or error)
    search: list[tuple[float, int | str]] = field(default_factory=list)
    canary_hits: list[str] = field(default_factory=list)
    unescaped: list[tuple[str, str]] = field(default_factory=list)
    unsafe_links: list[tuple[str, str]] = field(default_factory=list)
    reflected: int = 0  # HTML answers showing a payload's marker (escaped): the check above saw real echoes
    slow_opened: int = 0
    slow_cut: int = 0  # slow connections the server closed (its read deadline)
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, attack: str, r: requests.Response) -> None:
        """Counts a status; a 5xx is allowed only as 503 + Retry-After: refused at once (busy) or a query
        stopped at its time limit (told when to come back too)."""
        key = str(r.status_code)
        if r.status_code == 503 and r.headers.get("Retry-After"):
            key = "503 time limit" if "time limit" in r.text else "503+Retry-After"
        elif r.status_code >= 500:
            self.bad_5xx.append((attack, r.status_code, r.text[:200]))
        with self.lock:
            self.statuses[attack][key] += 1

    def failures(self) -> list[str]:
        out = []
        if self.bad_5xx:
            out.append(f"5xx other than 503 + Retry-After: {self.bad_5xx[:5]}")
        if self.errors:
            out.append(f"attack requests without an answer: {self.errors[:5]}")
        if self.canary_hits:
            out.append(f"canary hits: {self.canary_hits[:5]}")
        if self.unescaped:
            out.append(f"unescaped payloads: {self.unescaped[:5]}")
        if self.unsafe_links:
            out.append(f"unsafe links: {self.unsafe_links[:5]}")
        for name, probes in (("/health", self.health), ("/search", self.search)):
            bad = [p for p in probes if p[1] != 200]
            if bad or not probes:
                out.append(f"{name} probes not answered 200: {len(bad)} of {len(probes)} {bad[:5]}")
        return out


def _get(report: Report, attack: str, url: str, timeout: float, **kw) -> requests.Response | None:
    try:
        r = requests.get(url, timeout=timeout, **kw)
    except requests.RequestException as e:
        with report.lock:
            report.errors.append((attack, type(e).__name__))
        return None
    report.record(attack, r)
    return r


def _probe(base: str, report: Report, stop_at: float, timeout: float) -> None:
    """/health and /search every 100 ms (a liveness bound of `timeout` s each); latencies recorded."""
    while time.monotonic() < stop_at:
        for path, params, into in (("/health", None, report.health), ("/search", {"q": "idr0003"}, report.search)):
            t = time.perf_counter()
            try:
                status: int | str = requests.get(base + path, params=params, timeout=timeout).status_code
            except requests.RequestException as e:
                status = type(e).__name__
            into.append((time.perf_counter() - t, status))
        time.sleep(0.1)


def _slow_clients(base: str, report: Report, n: int, stop_at: float) -> None:
    """`n` connections trickle a header byte a second; one the server cuts is reopened while time is left."""
    port = int(base.rsplit(":", 1)[1])

    def open_one() -> socket.socket | None:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(SLOW_START)
        except OSError as e:
            report.errors.append(("slow clients", type(e).__name__))
            return None
        report.slow_opened += 1
        return s

    conns = [open_one() for _ in range(n)]
    while time.monotonic() < stop_at:
        for i, s in enumerate(conns):
            try:
                if s is None:
                    raise OSError
                s.sendall(b"x")
            except OSError:
                if s is not None:
                    report.slow_cut += 1
                    s.close()
                conns[i] = open_one() if time.monotonic() < stop_at else None
        time.sleep(1)
    for s in conns:
        if s is not None:
            s.close()


def _repeat(stop_at: float, fn) -> None:
    """`fn` again and again until the attack ends (at least once)."""
    fn()
    while time.monotonic() < stop_at:
        fn()


def _runaway(base: str, report: Report, stop_at: float) -> None:
    """The query again as soon as it is answered; a quarter second's pause after a refusal (not a busy loop)."""

    def once() -> None:
        r = _get(
            report,
            "runaway queries",
            base + "/sparql",
            60,
            params={"query": RUNAWAY},
            headers={"Accept": "application/json"},
        )
        if r is not None and r.headers.get("Retry-After"):
            time.sleep(0.25)

    _repeat(stop_at, once)


def _bomb(base: str, report: Report, path: str) -> None:
    """The 360 KB bomb, then the 48 KB one that gets past the HTTP server to our own parameter bounds."""
    sep = "&" if "?" in path else "?"
    for bomb in (BOMB, MID_BOMB):
        _get(report, "parameter bombs", base + path + sep + bomb, 60)


def _ssrf(base: str, report: Report, canary: Canary, methods: tuple[str, ...]) -> None:
    """Every disguise of tests/test_ssrf.py by each method; the canary must see nothing."""
    url = base + "/sparql"
    for how in methods:
        for template in DISGUISES:
            q = canary.expand(template)
            try:
                if how == "GET":
                    r = requests.get(url, params={"query": q}, timeout=60)
                elif how == "POST form":
                    r = requests.post(url, data={"query": q}, timeout=60)
                else:
                    r = requests.post(
                        url, data=q.encode(), headers={"Content-Type": "application/sparql-query"}, timeout=60
                    )
            except requests.RequestException as e:
                report.errors.append(("SSRF corpus", type(e).__name__))
                continue
            report.record("SSRF corpus", r)


def xss_requests() -> list[tuple[str, dict, dict]]:
    """(path, query parameters, headers) of pages asked with hostile values."""
    html = {"Accept": "text/html"}
    out: list[tuple[str, dict, dict]] = []
    for p in PAYLOADS:
        out += [
            ("/search", {"q": p}, html),
            ("/search", {"q": "idr0003", "organism": p}, html),
            ("/resource", {"iri": p}, html),
            ("/sparql", {"query": p}, html),
            ("/sparql", {"query": f'SELECT ?x WHERE {{ BIND("{p}" AS ?x) }}'}, html),
            ("/sparql", {"query": f'CONSTRUCT {{ <urn:x:s> <urn:x:p> "{p}" }} WHERE {{}}'}, html),
        ]
    for iri in ("javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<b>x</b>", "vbscript:msgbox(1)"):
        out += [("/resource", {"iri": iri}, html), ("/search", {"q": iri}, html)]
    out += [
        ("/sparql", {"query": "CONSTRUCT { <javascript:alert(1)> <urn:x:p> <data:text/html,x> } WHERE {}"}, html),
        ("/study/idr/idr0003", {}, html),
        ("/search", {"q": "idr0003"}, html),
    ]
    return out


def _xss(base: str, report: Report) -> None:
    """Hostile values in query strings: no payload comes back unescaped, no page links an unsafe scheme."""
    for path, params, headers in xss_requests():
        r = _get(report, "XSS payloads", base + path, 60, params=params, headers=headers)
        if r is None or "html" not in r.headers.get("Content-Type", ""):
            continue
        page = r.text
        report.reflected += MARK in page
        for p in PAYLOADS:
            if p in page:
                report.unescaped.append((path, p))
        for m in UNSAFE_LINK.finditer(page):
            report.unsafe_links.append((path, page[m.start() : m.end() + 40]))


def attack(
    base: str,
    canary: Canary,
    slow: int = 120,
    runaway: int = 20,
    bombs: int = 8,
    seconds: float = 20.0,
    ssrf_methods: tuple[str, ...] = METHODS,
    probe_timeout: float = 5.0,
) -> Report:
    """Every attack at once against `base` for about `seconds` (one-shot attacks run once; all bounded)."""
    report = Report()
    hits_before = len(canary.hits)
    start = time.monotonic()
    stop_at = start + seconds
    threads = [
        threading.Thread(target=_probe, args=(base, report, stop_at, probe_timeout)),
        threading.Thread(target=_slow_clients, args=(base, report, slow, stop_at)),
        threading.Thread(target=_ssrf, args=(base, report, canary, ssrf_methods)),
        threading.Thread(target=_xss, args=(base, report)),
    ]
    threads += [threading.Thread(target=_runaway, args=(base, report, stop_at)) for _ in range(runaway)]
    paths = ["/gide/search", "/search?format=json", "/search"]
    threads += [threading.Thread(target=_bomb, args=(base, report, paths[i % len(paths)])) for i in range(bombs)]
    for t in threads:
        t.daemon = True
        t.start()
    for t in threads:
        t.join(max(1.0, stop_at + 120 - time.monotonic()))  # each request has its own client timeout too
    report.seconds = time.monotonic() - start
    report.canary_hits = canary.hits[hits_before:]
    return report


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def summary(report: Report) -> list[str]:
    """Printable lines: probe latencies, statuses per attack and the counts that must be 0."""
    lines = [f"attack ran {report.seconds:.1f} s"]
    for name, probes in (("/health", report.health), ("/search", report.search)):
        ms = [t * 1000 for t, _ in probes]
        lines.append(
            f"{name}: {len(probes)} probes, p50 {percentile(ms, 0.5):.0f} ms, p99 {percentile(ms, 0.99):.0f} ms,"
            f" max {max(ms, default=0):.0f} ms; statuses {dict(Counter(s for _, s in probes))}"
        )
    lines.append(f"slow clients: {report.slow_opened} connections opened, {report.slow_cut} cut by the server")
    for name in sorted(report.statuses):
        lines.append(f"{name}: {dict(sorted(report.statuses[name].items()))}")
    lines += [
        f"5xx other than 503 + Retry-After (refused, or stopped at the time limit): {len(report.bad_5xx)}",
        f"attack requests without an answer: {len(report.errors)}",
        f"canary hits: {len(report.canary_hits)}",
        f"unescaped payloads: {len(report.unescaped)} ({report.reflected} HTML answers showed a payload, escaped)",
        f"unsafe links: {len(report.unsafe_links)}",
    ]
    return lines
