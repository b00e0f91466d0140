"""The /search JSON twin (our defaults: hierarchy expansion, facets over the other filters) and the
/gide API's fields; gide-search's own contract and defaults are checked in test_gide_contract.py."""

from __future__ import annotations

import pytest
import requests

from _server import running_app

FBBI = "http://purl.obolibrary.org/obo/FBbi_"
TAXON = "http://purl.obolibrary.org/obo/NCBITaxon_"
KG = "https://w3id.org/gide-kg/vocab#"
SUB = "<http://www.w3.org/2000/01/rdf-schema#subClassOf>*"


@pytest.fixture(scope="module")
def base(full_store):
    with running_app(full_store) as url:
        yield url


def get(base, path, **params):
    if path == "/search":
        params.setdefault("format", "json")
    return requests.get(base + path, params=params, timeout=30)


def count(store, where: str) -> int:
    return int(
        next(
            iter(
                store.query(f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a <http://schema.org/Dataset> . {where} }}")
            )
        )["n"].value
    )


def test_response_fields_like_gide_search(base):
    r = get(base, "/gide/search", q="zebrafish", size=3).json()
    assert set(r) >= {"total", "hits", "facets"}
    assert set(r["facets"]) >= {"publisher", "organism", "imaging_method", "year_published", "license"}
    hit = r["hits"][0]
    assert set(hit) == {"id", "entry", "score"}
    assert set(hit["entry"]) == {
        "id",
        "type",
        "name",
        "description",
        "datePublished",
        "license",
        "publisher",
        "author",
        "about",
        "measurementMethod",
        "thumbnailUrl",
        "identifier",
        "keywords",
        "funder",
        "seeAlso",
        "size",
    }
    assert all(set(f) == {"key", "count", "label"} for f in r["facets"]["publisher"])
    entry = get(base, "/gide/api/entry/https://idr.openmicroscopy.org/study/idr0003/").json()
    assert {"taxon_ids", "imaging_method_ids"} <= set(entry)  # as gide-search's /api/entry (the indexed document)
    assert entry["identifier"] == "idr0003" and entry["publisher"]["name"] == "Image Data Resource"
    assert [t["id"] for t in entry["taxon_ids"]] == [TAXON + "4932"]
    assert get(base, "/gide/api/entry/idr0003").json() == entry


@pytest.mark.parametrize(
    "params,where",
    [
        ({"publisher": "IDR"}, "?s <http://schema.org/publisher> <https://idr.openmicroscopy.org/>"),
        ({"publisher": "SSBD:repository"}, "?s <http://schema.org/publisher> <https://ssbd.riken.jp/repository>"),
        (
            {"publisher": "https://www.ebi.ac.uk/bioimage-archive/"},
            "?s <http://schema.org/publisher> <https://www.ebi.ac.uk/bioimage-archive/>",
        ),
        ({"license": "CC0"}, "?s <http://schema.org/license> <https://creativecommons.org/publicdomain/zero/1.0/>"),
        ({"license": "CC-BY-4.0"}, "?s <http://schema.org/license> <https://creativecommons.org/licenses/by/4.0/>"),
        ({"organism": "ncbitaxon:9606"}, f"?s <{KG}organism> ?o . ?o {SUB} <{TAXON}9606>"),
        ({"imaging_method": "fbbi:251"}, f"?s <{KG}imagingMethod> ?m . ?m {SUB} <{FBBI}00000251>"),
        (
            {"year_from": "2024", "year_to": "2024"},
            "?s <http://schema.org/datePublished> ?d FILTER(STRSTARTS(STR(?d), '2024'))",
        ),
        ({"require_thumbnail": "true"}, "?s <http://schema.org/thumbnailUrl> ?t"),
    ],
)
def test_filters_match_sparql(base, full_store, params, where):
    r = get(base, "/search", size=1, **params).json()
    assert r["total"] == count(full_store, where)


@pytest.mark.parametrize(
    "param,term,ontology_path",
    [
        (
            "imaging_method",
            FBBI + "00000246",
            f"?s <{KG}imagingMethod> ?x . ?x {SUB} <{{t}}>",
        ),  # fluorescence microscopy
        ("imaging_method", FBBI + "00000345", f"?s <{KG}imagingMethod> ?x . ?x {SUB} <{{t}}>"),  # light microscopy
        ("organism", TAXON + "10088", f"?s <{KG}organism> ?x . ?x {SUB} <{{t}}>"),  # Mus
        ("organism", TAXON + "2", f"?s <{KG}organism> ?x . ?x {SUB} <{{t}}>"),  # Bacteria
    ],
)
def test_hierarchy_expansion_changes_counts_as_the_ontology_predicts(base, full_store, param, term, ontology_path):
    expanded = get(base, "/search", size=1, **{param: term}).json()
    exact = get(base, "/search", size=1, expand="false", **{param: term}).json()
    pred = "imagingMethod" if param == "imaging_method" else "organism"
    assert expanded["total"] == count(full_store, ontology_path.format(t=term))
    assert exact["total"] == count(full_store, f"?s <{KG}{pred}> <{term}>")
    assert expanded["total"] >= exact["total"]
    assert term in expanded["expanded"][param] and len(expanded["expanded"][param]) > 1


def test_facet_counts_for_every_facet_and_year_histogram(base, full_store):
    r = get(base, "/search", size=1).json()
    years = {f["key"]: f["count"] for f in r["facets"]["year_published"]}
    assert years["2024"] == count(
        full_store, "?s <http://schema.org/datePublished> ?d FILTER(STRSTARTS(STR(?d), '2024'))"
    )
    assert {"cell_line", "anatomy", "biological_process", "study_type", "ome_zarr"} <= set(r["facets"])
    hela = {f["key"]: f["count"] for f in r["facets"]["cell_line"]}["http://purl.obolibrary.org/obo/CLO_0003684"]
    assert hela > 0


def test_sorting_and_paging(base):
    newest = get(base, "/search", sort="date", size=5).json()["hits"]
    dates = [h["entry"]["datePublished"] for h in newest]
    assert dates == sorted(dates, reverse=True)
    largest = get(base, "/search", sort="size", size=5).json()["hits"]
    sizes = [h["entry"]["size_bytes"] or 0 for h in largest]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > 10**12
    total = get(base, "/search", size=1).json()["total"]
    last = get(base, "/search", size=100, offset=(total - 1) // 100 * 100).json()
    assert len(last["hits"]) == total - (total - 1) // 100 * 100
    past = get(base, "/search", size=100, offset=total + 100).json()
    assert past["hits"] == [] and "past the last result" in past["notice"]


@pytest.mark.parametrize(
    "params,message",
    [
        ({"size": "1000"}, "size: Input should be less than or equal to 100"),
        ({"size": "0"}, "size: Input should be greater than or equal to 1"),
        ({"offset": "-1"}, "offset: Input should be greater than or equal to 0"),
        ({"organism": "not a taxon"}, "organism must be an IRI or a CURIE"),
        ({"year_from": "twenty"}, "year_from: Input should be a valid integer"),
        ({"sort": "random"}, "sort: Input should be"),
        ({"require_thumbnail": "maybe"}, "require_thumbnail: Input should be a valid boolean"),
    ],
)
def test_bad_parameters_are_400(base, params, message):
    r = get(base, "/search", **params)
    assert r.status_code == 400 and message in r.json()["message"]


def test_unknown_facet_value_gives_zero_not_an_error(base):
    r = get(base, "/search", organism="http://purl.obolibrary.org/obo/NCBITaxon_999999999").json()
    assert r["total"] == 0 and r["hits"] == []


def test_markup_in_query_is_escaped_in_html(base):
    page = requests.get(base + "/search", params={"q": "<script>alert(1)</script>"}, timeout=30).text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_index_follows_a_reharvest(sources):
    """The search index is rebuilt when a source is harvested again (a new harvest run in the store)."""
    import dataclasses
    import json
    import shutil
    import tempfile
    import time
    from pathlib import Path

    from kg.pipeline import harvest_snapshot
    from kg.serve.app import create_app
    from kg.store import open_store

    store = open_store(None)
    harvest_snapshot(store, sources["idr"])
    client = create_app(store).test_client()
    before = client.get("/gide/search", query_string={"q": "idr0003"}).get_json()
    assert before["hits"][0]["entry"]["name"].startswith("A novel single-cell screening platform")
    folder = Path(tempfile.mkdtemp())
    for f in (Path(__file__).resolve().parent.parent / "data/crates/idr").glob("*.json"):
        shutil.copy(f, folder / f.name)
    crate = json.loads((folder / "idr0003-ro-crate-metadata.json").read_text())
    for node in crate["@graph"]:
        if node.get("@id") == "https://idr.openmicroscopy.org/study/idr0003/":
            node["name"] = "Renamed by the repository"
    (folder / "idr0003-ro-crate-metadata.json").write_text(json.dumps(crate))
    assert harvest_snapshot(store, dataclasses.replace(sources["idr"], snapshot=folder)).ok
    # the previous index is served while the new generation's builds in the background (kg/indexes.py)
    client.application.extensions["kg_indexes"].check_interval = 0
    deadline = time.monotonic() + 120  # a liveness bound, not a timing assertion
    while True:
        after = client.get("/gide/search", query_string={"q": "idr0003"}).get_json()
        if after["hits"][0]["entry"]["name"] == "Renamed by the repository" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert after["hits"][0]["entry"]["name"] == "Renamed by the repository"
    shutil.rmtree(folder)
