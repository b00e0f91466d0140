"""Serve first: `kg up` on an empty store until /search answers, ÷ a bare `kg harvest --no-validate`.

Both run as subprocesses in this one run, each on a fresh temporary store and dumps folder, so machine
load hits them alike. `kg up` is timed from its start to the first 200 of /search (polled every 0.1 s);
the bare harvest from its start to its exit (it writes the dumps too, as `kg harvest` does by default).
Also printed: when `kg up` reported its background work (validation, dumps) done. Target: ratio ≤ 1.3.
Everything listens on 127.0.0.1 only.

    .venv/bin/python benchmarks/bench_first_answer.py [--repeat N] [--sources NAME …]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
LIMIT = 1800.0  # seconds: a bound on every wait


def _kg(*args: str) -> list[str]:
    return [sys.executable, "-m", "kg.cli", *args]


def _config(tmp: Path, names: list[str]) -> list[str]:
    """--config of the named sources only (all when none): data/sources.toml cut down, paths absolute."""
    if not names:
        return []
    text = (ROOT / "data" / "sources.toml").read_text(encoding="utf-8")
    blocks = ["[" + b for b in text.split("\n[") if b.startswith("sources.")]
    keep = [
        b.replace('snapshot = "data/', f'snapshot = "{ROOT}/data/')
        for b in blocks
        if b.split("]")[0].split(".")[1] in names
    ]
    path = tmp / "sources.toml"
    path.write_text("\n".join(keep), encoding="utf-8")
    return ["--config", str(path)]


def bare_harvest(tmp: Path, names: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        _kg(
            "harvest",
            "--store",
            str(tmp / "h-store"),
            "--dumps",
            str(tmp / "h-dumps"),
            "--no-validate",
            "--no-indexes",  # the bare harvest, as measured before `kg harvest` built the indexes
            *_config(tmp, names),
        ),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=ENV,
        timeout=LIMIT,
    )
    return time.perf_counter() - start


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urlopen(url, timeout=60) as r:
            return r.status, r.read()
    except URLError as e:
        return getattr(e, "code", 0) or 0, b""
    except (ConnectionError, OSError):
        return 0, b""


def up_first_answer(tmp: Path, names: list[str]) -> tuple[float, float]:
    """Seconds until /search answered, and until /health said every background step was done."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    start = time.perf_counter()
    proc = subprocess.Popen(
        _kg(
            "up",
            "--store",
            str(tmp / "u-store"),
            "--dumps",
            str(tmp / "u-dumps"),
            "--port",
            str(port),
            *_config(tmp, names),
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=ENV,
    )
    try:
        first = done = None
        while time.perf_counter() - start < LIMIT and proc.poll() is None:
            if first is None:
                if _get(f"{base}/search?q=microscopy&format=json")[0] == 200:
                    first = time.perf_counter() - start
            else:
                status, body = _get(f"{base}/health")
                if status == 200 and b'"running"' not in body and b'"pending"' not in body:
                    done = time.perf_counter() - start
                    break
            time.sleep(0.1)
        if first is None or done is None:
            raise SystemExit(f"kg up did not answer (exit status {proc.poll()})")
        return first, done
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1, help="runs of each (the median is compared)")
    ap.add_argument("--sources", nargs="*", default=[], help="configured sources to harvest (default: all)")
    args = ap.parse_args()
    bare, first, done = [], [], []
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="kg-bench-first-") as d:
            tmp = Path(d)
            bare.append(bare_harvest(tmp, args.sources))
            f, dn = up_first_answer(tmp, args.sources)
            first.append(f)
            done.append(dn)
        print(
            f"run {i + 1}: bare harvest {bare[-1]:.1f} s; kg up: /search answered at {first[-1]:.1f} s, background done at {done[-1]:.1f} s",
            flush=True,
        )
    b, f, dn = statistics.median(bare), statistics.median(first), statistics.median(done)
    print(f"bare `kg harvest --no-validate`: {b:.1f} s")
    print(f"`kg up` until /search answers:  {f:.1f} s  (validation and dumps done at {dn:.1f} s)")
    print(f"ratio: {f / b:.2f}× (target ≤ 1.3×)")


if __name__ == "__main__":
    main()
