"""Links only from safe schemes (issue #15 item 7): one rule (kg/serve/links.py) used by every page."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from kg.config import load_sources
from kg.pipeline import harvest_folder
from kg.serve.app import create_app
from kg.serve.links import is_iri, safe_href
from kg.store import open_store

ROOT = Path(__file__).resolve().parent.parent
STUDY = "https://idr.openmicroscopy.org/study/idr0003/"


@pytest.mark.parametrize(
    "value",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "java\nscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.example/x",
        "/\\evil.example",
        "http://",
        "file:///etc/passwd",
        "mailto:",
        "SPIM",
        "(MF-HREM)",
        "",
        None,
    ],
)
def test_unsafe_values_are_text(value):
    assert safe_href(value) is None


@pytest.mark.parametrize(
    "value,href",
    [
        ("https://doi.org/10.1083/jcb.201301120", "https://doi.org/10.1083/jcb.201301120"),
        ("http://purl.obolibrary.org/obo/NCBITaxon_4932", "http://purl.obolibrary.org/obo/NCBITaxon_4932"),
        ("doi:10.1083/jcb.201301120", "https://doi.org/10.1083/jcb.201301120"),
        ("mailto:someone@example.org", "mailto:someone@example.org"),
        ("/search?q=idr0003", "/search?q=idr0003"),
    ],
)
def test_safe_values_link(value, href):
    assert safe_href(value) == href


def test_plain_text_is_not_an_iri():
    assert not is_iri("SPIM") and not is_iri("(MF-HREM)") and not is_iri("a b")
    assert is_iri(STUDY) and is_iri("urn:uuid:1")


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory):
    """idr0003's real crate with a javascript: licence, thumbnail, publication and ORCID-like author."""
    crate = json.loads((ROOT / "data" / "crates" / "idr" / "idr0003-ro-crate-metadata.json").read_text())
    for node in crate["@graph"]:
        if node.get("@id") == STUDY:
            node["license"] = "javascript:alert('licence')"
            node["thumbnailUrl"] = ["javascript:alert('thumb')"]
            node["seeAlso"] = [{"@id": "javascript:alert('paper')"}]
            node["url"] = "javascript:alert('url')"
    folder = tmp_path_factory.mktemp("crates")
    (folder / "idr0003-ro-crate-metadata.json").write_text(json.dumps(crate))
    store = open_store(None)
    assert harvest_folder(store, load_sources(), folder)[0].studies == 1
    return create_app(store).test_client(), store


def test_javascript_values_never_become_links(hostile_site):
    client, store = hostile_site
    values = {r["o"].value for r in store.query(f"SELECT ?o WHERE {{ <{STUDY}> ?p ?o }}")}
    assert any(v.startswith("javascript:") for v in values)  # the hostile values really are in the graph
    pages = [
        client.get("/study/idr/idr0003").get_data(as_text=True),
        client.get("/resource", query_string={"iri": STUDY, "raw": "1"}).get_data(as_text=True),
        client.get("/search", query_string={"q": "idr0003"}).get_data(as_text=True),
    ]
    for page in pages:
        assert not re.search(r"""(?i)(href|src)\s*=\s*["']?\s*javascript:""", page)
    study = pages[0]
    assert "javascript:alert(&#39;licence&#39;)" in study  # shown, as text
    assert 'class="unsafe-link"' in study
