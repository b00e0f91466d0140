"""Same input, same bytes: two harvests in fresh processes (different hash seeds) write identical dumps.

Harvests the two native sources: idr-study carries the text-only values grounding decides (hashed into
node IRIs), ssbd-rdf and the ontologies carry the blank nodes that parsers label at random."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROVENANCE = b"<https://w3id.org/gide-kg/graph/provenance> .\n"


def harvest(folder: Path, seed: str) -> Path:
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "kg.cli",
            "harvest",
            "--store",
            str(folder / "store"),
            "--dumps",
            str(folder / "dumps"),
            "--no-validate",
            "--no-indexes",
            "idr-study",
            "ssbd-rdf",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        env=env,
    )
    assert r.returncode == 0, r.stderr
    assert "grounding: 13 text-only organism / method values grounded" in r.stderr
    return folder / "dumps"


def test_two_harvests_write_identical_dumps(tmp_path):
    a, b = harvest(tmp_path / "a", "1"), harvest(tmp_path / "b", "2")
    for name in ("idr-study.nq.gz", "idr-study.ttl.gz", "ssbd-rdf.nq.gz", "ssbd-rdf.ttl.gz"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    whole = [
        [
            line
            for line in gzip.decompress((d / "gide-kg.nq.gz").read_bytes()).splitlines(keepends=True)
            if not line.endswith(PROVENANCE)
        ]
        for d in (a, b)
    ]
    assert len(whole[0]) > 40_000 and whole[0] == whole[1]  # sorted within each graph, graphs in IRI order
    assert any(b"/graph/grounding/" in line for line in whole[0]) and any(b" _:" in line for line in whole[0])
