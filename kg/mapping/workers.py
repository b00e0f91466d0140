"""Mapping chunks of records in worker processes, so a large harvest uses every core.

Parsing JSON-LD, the IRI rules and the SPARQL rules are CPU work in one Python process (the GIL); the
store write is not. Each worker maps one chunk exactly as the harvest does in process (`map_crates`, then
the record checks) and writes the passing records' graphs as N-Triples to a file; the harvesting process
bulk-loads the files in chunk order and keeps everything that needs the whole harvest (the study
collision check across chunks, provenance, the swap). Workers are spawned (not forked: the harvesting
process holds RocksDB threads, and spawn would re-import the caller's main module) and at most
`workers + 1` chunks are in flight, so memory stays bounded.
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from ..records import Quarantined, RawRecord
from .engine import MappedRecord, RuleSet, map_crates


@dataclass
class ChunkJob:
    """One chunk and everything needed to map it; picklable (functions by reference)."""

    records: list[RawRecord]
    assign: Callable  # (record, study IRI, publisher IRI) -> quarantine reason or None; no side effects
    parser: Callable
    rules: RuleSet
    check: Callable[[ox.Store], dict[str, str]]  # staging store -> record graph IRI -> failure reason
    out: Path  # the passing records' graphs go there, as N-Triples


@dataclass
class ChunkOut:
    """What mapping a chunk gave: the passing records (content dropped), the quarantined ones, every
    study the chunk claimed (study IRI -> record name, in record order) and the N-Triples file."""

    passed: list[MappedRecord]
    quarantined: list[Quarantined]
    seen: dict[str, str]
    data: Path
    checked: list[Quarantined] = field(default_factory=list)  # quarantined by a check after mapping


def map_chunk(job: ChunkJob) -> ChunkOut:
    """Map one chunk as the in-process harvest does; runs in a worker."""
    seen: dict[str, str] = {}
    result = map_crates(job.records, job.assign, rules=job.rules, parser=job.parser, seen=seen)
    passed, checked = result.split(job.check(result.staging))
    with open(job.out, "wb") as f:
        for m in passed:
            f.write(result.staging.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=m.graph))
            m.record.content = b""
    return ChunkOut(passed, result.quarantined, seen, job.out, checked)


class ChunkPool:
    """Worker processes (`python -m kg.mapping.workers`) mapping chunks; `run` yields (chunk, output) in
    submission order. Jobs and outputs travel as pickle files and the pipes carry one line each, so
    neither side can block the other on a full pipe; no main module is re-imported (unlike spawn)."""

    def __init__(self, workers: int):
        self.tmp = Path(tempfile.mkdtemp(prefix="kg-map-"))
        root = str(Path(__file__).resolve().parents[2])  # the folder holding the kg package
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
        self.procs = [
            subprocess.Popen(
                [sys.executable, "-m", "kg.mapping.workers"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
            )
            for _ in range(workers)
        ]

    def run(
        self, chunks: Iterable[list[RawRecord]], job: Callable[[list[RawRecord], Path], ChunkJob]
    ) -> Iterator[tuple[list[RawRecord], ChunkOut]]:
        window: deque[tuple[list[RawRecord], subprocess.Popen, Path]] = deque()
        for i, chunk in enumerate(chunks):
            proc = self.procs[i % len(self.procs)]  # in turn: each worker answers its jobs in order
            path = self.tmp / f"{i}.job"
            path.write_bytes(pickle.dumps(job(chunk, self.tmp / f"{i}.nt"), protocol=pickle.HIGHEST_PROTOCOL))
            proc.stdin.write(f"{path}\n".encode())
            proc.stdin.flush()
            window.append((chunk, proc, path))
            if len(window) > len(self.procs):
                yield self._next(window)
        while window:
            yield self._next(window)

    @staticmethod
    def _next(window: deque) -> tuple[list[RawRecord], ChunkOut]:
        chunk, proc, path = window.popleft()
        if not proc.stdout.readline():
            raise RuntimeError(f"a mapping worker process ended (exit status {proc.wait()})")
        out = pickle.loads(path.with_suffix(".out").read_bytes())
        path.unlink()
        path.with_suffix(".out").unlink()
        if isinstance(out, BaseException):
            raise out
        return chunk, out

    def close(self) -> None:
        """Stop the workers (a running job is not waited for) and remove their files."""
        for p in self.procs:
            p.kill()
            p.wait()
            for f in (p.stdin, p.stdout):
                f.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def _serve() -> None:
    """A worker: map each job named on stdin, write its output beside it, answer with one line."""
    for line in sys.stdin.buffer:
        path = Path(line.decode().strip())
        try:
            out: object = map_chunk(pickle.loads(path.read_bytes()))
        except Exception as e:  # the harvest raises it
            out = e
        path.with_suffix(".out").write_bytes(pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL))
        sys.stdout.buffer.write(b"\n")
        sys.stdout.buffer.flush()


if __name__ == "__main__":
    from kg.mapping.workers import _serve as serve  # its classes pickled under their module's name

    serve()
