"""An open door for new repositories: the GIDE profile's own example crate, published by a repository no
source is configured for (https://example-database.org), becomes a source of its own — searchable,
browsable, recorded as new — instead of being quarantined (issue #13 item 4)."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from kg.new_sources import derived_sources, slug
from kg.pipeline import HarvestOptions, run_harvest
from kg.store import open_store
from tests._server import running_app

FIXTURE = Path(__file__).parent / "fixtures" / "new-repository"
STUDY = "https://example-database.org/studies/EXAMPLE-001"
GRAPH = "https://w3id.org/gide-kg/graph/example-database-org"
TITLE = "High-resolution imaging of mouse brain tissue using confocal microscopy"


@pytest.fixture(scope="module")
def harvested(sources):
    store = open_store(None)
    first = run_harvest(store, sources, HarvestOptions(rocrates=FIXTURE, derived=False, validate=False))
    again = run_harvest(store, sources, HarvestOptions(rocrates=FIXTURE, derived=False, validate=False))
    return store, first, again


def test_slug_of_publisher():
    assert slug("https://example-database.org") == "example-database-org"
    assert slug("https://www.ebi.ac.uk/bioimage-archive/") == "www-ebi-ac-uk-bioimage-archive"
    assert slug("mailto:someone@example.org") is None


def test_example_crate_lands_in_a_derived_source(harvested, sources):
    store, first, again = harvested
    [report] = first.reports
    assert (report.source, report.ok, report.studies, len(report.quarantined), report.new_source, report.graph) == (
        "example-database-org",
        True,
        1,
        0,
        True,
        GRAPH,
    )
    assert report.triples == 86  # 72 statements of the crate + its author and keyword order lists (14)
    [report2] = again.reports  # the second harvest finds the source it derived before: not new any more
    assert (report2.source, report2.ok, report2.new_source) == ("example-database-org", True, False)
    assert store.has_graph(GRAPH)
    rows = list(store.query(f"SELECT ?g WHERE {{ GRAPH ?g {{ <{STUDY}> a <http://schema.org/Dataset> }} }}"))
    assert [r["g"].value for r in rows] == [GRAPH]
    known = derived_sources(store)
    assert list(known) == ["example-database-org"]
    assert known["example-database-org"].publisher == "https://example-database.org"
    assert "example-database-org" not in sources  # nothing was configured for it


def test_cli_summary_says_new_source(tmp_path):
    import subprocess
    import sys

    env = {"PYTHONPATH": str(Path(__file__).parents[1]), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "kg.cli",
            "harvest",
            "--store",
            str(tmp_path / "s"),
            "--dumps",
            str(tmp_path / "d"),
            "--no-validate",
            "--no-indexes",
            "--rocrates",
            str(FIXTURE),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert f"example-database-org       1        1            0       86  ok, new source (graph {GRAPH})" in out.stdout
    assert "new source(s): example-database-org" in out.stdout
    assert "match no configured source" not in out.stdout
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == [
        "dumps.json",
        "example-database-org.nq.gz",
        "example-database-org.ttl.gz",
        "gide-kg.nq.gz",
        "gide-kg.ttl.gz",
    ]


def test_searchable_and_browsable(harvested):
    store = harvested[0]
    with running_app(store) as base:
        hits = requests.get(f"{base}/search", params={"q": "hippocampus", "format": "json"}, timeout=60).json()
        assert [h["id"] for h in hits["hits"]] == [STUDY], hits
        assert hits["facets"]["publisher"] == [
            {"count": 1, "key": "https://example-database.org", "label": "Example Image Database"}
        ]
        gide = requests.get(f"{base}/gide/search", params={"q": "hippocampus"}, timeout=60).json()
        assert gide["total"] == 1 and [h["id"] for h in gide["hits"]] == [STUDY]
        page = requests.get(f"{base}/study/example-database-org/EXAMPLE-001", params={"format": "json"}, timeout=60)
        assert page.status_code == 200, page.text[:500]
        assert page.json()["name"] == TITLE
        html = requests.get(f"{base}/study/example-database-org/EXAMPLE-001", timeout=60)
        assert html.status_code == 200 and TITLE in html.text
