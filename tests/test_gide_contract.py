"""/gide answers as gide-search does: every entry and every search answer passes its data contract
(tests/gide_contract.py, restated from its pydantic models), with its defaults and error shapes.

Runs the real Flask app over HTTP on 127.0.0.1 against `full_store` (every bundled source)."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
import requests
from gide_contract import IndexedDataset, SearchResponse, index_keys, portal_problems

from _server import running_app

OBO = "http://purl.obolibrary.org/obo/"
KG = "https://w3id.org/gide-kg/vocab#"
DWCIRI = "http://rs.tdwg.org/dwc/iri/"
S = "http://schema.org/"


@pytest.fixture(scope="module")
def base(full_store):
    with running_app(full_store) as url:
        yield url


@pytest.fixture(scope="module")
def http():
    with requests.Session() as s:
        yield s


def studies(store) -> list[str]:
    return sorted(
        r["s"].value for r in store.query(f"SELECT DISTINCT ?s WHERE {{ ?s a <{S}Dataset> ; <{S}publisher> ?p }}")
    )


def count(store, where: str) -> int:
    return int(
        next(
            iter(
                store.query(
                    f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a <{S}Dataset> ; <{S}publisher> ?pub . {where} }}"
                )
            )
        )["n"].value
    )


def listed(facet: str, term: str) -> str:
    """SPARQL for "the study's entry lists the term": its about / measurementMethod, or (a study no GIDE crate
    describes) its kg:organism / kg:imagingMethod."""
    profile, ours = {
        "organism": (S + "about", KG + "organism"),
        "imaging_method": (DWCIRI + "measurementMethod", KG + "imagingMethod"),
    }[facet]
    return f"{{ ?s <{profile}> <{term}> }} UNION {{ ?s <{ours}> <{term}> FILTER NOT EXISTS {{ ?s <{profile}> ?any }} }}"


def search(http, base, **params) -> dict:
    r = http.get(base + "/gide/search", params=params, timeout=60)
    assert r.status_code == 200, r.text[:500]
    return r.json()


def test_every_study_entry_passes_the_contract(base, http, full_store):
    ids = studies(full_store)
    assert len(ids) == 1232
    failures = {}
    for iri in ids:
        r = http.get(base + "/gide/api/entry/" + iri, timeout=30)
        try:
            IndexedDataset.model_validate(r.json())
        except Exception as e:  # noqa: BLE001 — collected and shown all at once
            failures[iri] = str(e)[:300]
    assert failures == {}


def test_paging_through_every_hit_passes_the_contract_and_the_portal(base, http, full_store):
    seen = []
    for offset in range(0, 1300, 100):
        body = search(http, base, size=100, offset=offset)
        SearchResponse.model_validate(body)
        assert portal_problems(body) == []
        seen += [h["id"] for h in body["hits"]]
    assert sorted(seen) == studies(full_store)


MATRIX = {
    "q": ["", "zebrafish", "idr0003", "mouse brain", "S-BIAD"],
    "publisher": [
        None,
        "IDR",
        "BioImage-Archive",
        "https://ssbd.riken.jp/repository/",
        "https://ssbd.riken.jp/database",
    ],
    "organism": [None, OBO + "NCBITaxon_9606", "ncbitaxon:10090", "NCBITaxon_7955"],
    "imaging_method": [None, OBO + "FBbi_00000246", "fbbi:251"],
    "extra": [
        {},
        {"license": "CC0"},
        {"require_thumbnail": "yes"},
        {"year_from": "2020", "year_to": "2023"},
        {"expand": "true", "extras": "1"},
    ],
}


def test_request_matrix_passes_the_contract(base, http):
    """5 × 5 × 4 × 3 × 5 = 1,500 combinations; every 7th is asked (215 requests, all kinds of each axis)."""
    combos = list(itertools.product(*MATRIX.values()))
    asked = 0
    for q, publisher, organism, method, extra in combos[::7]:
        params = {
            k: v
            for k, v in {
                "q": q,
                "publisher": publisher,
                "organism": organism,
                "imaging_method": method,
                "size": 12,
            }.items()
            if v is not None
        }
        body = search(http, base, **params, **extra)
        SearchResponse.model_validate(body)
        assert portal_problems(body) == []
        asked += 1
    assert asked == 215


def test_entries_carry_what_the_graph_holds(base, http):
    e = http.get(base + "/gide/api/entry/idr0003", timeout=30).json()
    taxon = next(a for a in e["about"] if a["type"] == ["Taxon"])
    assert taxon == {
        "id": OBO + "NCBITaxon_4932",
        "type": ["Taxon"],
        "scientificName": "Saccharomyces cerevisiae",
        "name": "Saccharomyces cerevisiae",
        "vernacularName": "baker's yeast",
    }
    assert [m["id"] for m in e["imaging_method_ids"]] == [OBO + "FBbi_00000246"]
    assert (
        e["publisher"]["id"] == "https://idr.openmicroscopy.org/"
        and e["license"] == "https://creativecommons.org/licenses/by-nc-sa/3.0/"
    )
    assert e["author"][0]["email"] == "michalbreker@gmail.com"
    ssbd = http.get(
        base + "/gide/api/entry/https://ssbd.riken.jp/v3/project/421-Takenouchi-AgedYoungOocyte", timeout=30
    ).json()
    assert ssbd["publisher"]["id"] == "https://ssbd.riken.jp/database/"
    assert [f["id"] for f in ssbd["funder"]] == [
        "https://ssbd.riken.jp/v3/project/421-Takenouchi-AgedYoungOocyte#grant-001"
    ]
    assert ssbd["funder"][0]["name"].startswith("This research was supported by RIKEN")
    assert any(a["affiliation"] for a in ssbd["author"])


def test_entries_hold_every_size_funder_affiliation_and_email(base, http, full_store):
    """Corpus-wide: the entries hold as many sizes, funders, affiliations and e-mails as the graph."""
    totals = {"size": 0, "funder": 0, "affiliation": 0, "email": 0}
    for offset in range(0, 1300, 100):
        for h in search(http, base, size=100, offset=offset)["hits"]:
            e = h["entry"]
            totals["size"] += len(e["size"])
            totals["funder"] += len(e["funder"])
            totals["affiliation"] += sum(1 for a in e["author"] if a["affiliation"])
            totals["email"] += sum(1 for a in e["author"] if a["email"])

    def pairs(where: str) -> int:
        return int(
            next(
                iter(
                    full_store.query(
                        f"SELECT (COUNT(*) AS ?n) WHERE {{ SELECT DISTINCT ?s ?x WHERE {{ ?s a <{S}Dataset> ; <{S}publisher> ?p . {where} }} }}"
                    )
                )
            )["n"].value
        )

    assert totals == {
        "size": pairs(f"?s <{S}size> ?x . ?x <{S}value> ?v"),
        "funder": pairs(f"?s <{S}funder> ?x"),
        "affiliation": pairs(f"?s <{S}author> ?x . ?x <{S}affiliation> ?o"),
        "email": pairs(f"?s <{S}author> ?x . ?x <{S}email> ?m"),
    }
    assert totals["size"] > 2000 and totals["funder"] == 58


def test_exact_iris_by_default_descendants_on_request(base, http, full_store):
    exact = search(http, base, imaging_method=OBO + "FBbi_00000246", size=1)
    # gide-search matches the FBbi terms an entry lists in measurementMethod, not every method any source states
    assert exact["total"] == count(full_store, listed("imaging_method", OBO + "FBbi_00000246")) == 351
    expanded = search(http, base, imaging_method=OBO + "FBbi_00000246", expand="true", size=1)
    assert expanded["total"] == count(
        full_store, f"?s <{KG}imagingMethod>/<http://www.w3.org/2000/01/rdf-schema#subClassOf>* <{OBO}FBbi_00000246>"
    )
    assert expanded["total"] > exact["total"]
    ours = requests.get(
        base + "/search", params={"format": "json", "imaging_method": OBO + "FBbi_00000246", "size": 1}, timeout=60
    ).json()
    assert ours["total"] == expanded["total"]  # our /search keeps expansion by default


def test_facets_count_over_the_whole_result_like_elasticsearch(base, http, full_store):
    body = search(http, base, publisher="IDR", imaging_method=OBO + "FBbi_00000246", size=1)
    methods = {b["key"]: b["count"] for b in body["facets"]["imaging_method"]}
    assert methods[OBO + "FBbi_00000246"] == body["total"]  # its own filter applies too
    assert [b["key"] for b in body["facets"]["publisher"]] == ["https://idr.openmicroscopy.org/"]
    for b in body["facets"]["organism"][:5]:
        assert b["count"] == count(
            full_store,
            f"?s <{S}publisher> <https://idr.openmicroscopy.org/> . {listed('imaging_method', OBO + 'FBbi_00000246')}"
            + listed("organism", b["key"]),
        )
    years = [b["key"] for b in search(http, base, publisher="SSBD:repository", size=1)["facets"]["year_published"]]
    assert years == [
        str(y) for y in range(int(years[0]), int(years[-1]) - 1, -1)
    ]  # newest first, no gaps (empty years count 0)


def test_publisher_ids_with_their_final_slash_in_and_out(base, http, full_store):
    for name, iri, graph_iri in [
        ("SSBD:repository", "https://ssbd.riken.jp/repository/", "https://ssbd.riken.jp/repository"),
        ("SSBD:database", "https://ssbd.riken.jp/database/", "https://ssbd.riken.jp/database"),
    ]:
        n = count(full_store, f"?s <{S}publisher> <{graph_iri}>")
        assert (
            search(http, base, publisher=iri, size=1)["total"]
            == search(http, base, publisher=graph_iri, size=1)["total"]
            == search(http, base, publisher=name, size=1)["total"]
            == n
        )
    keys = {b["key"]: b["label"] for b in search(http, base, size=1)["facets"]["publisher"]}
    assert keys == {
        "https://www.ebi.ac.uk/bioimage-archive/": "BioImage-Archive",
        "https://idr.openmicroscopy.org/": "IDR",
        "https://ssbd.riken.jp/database/": "SSBD:database",
        "https://ssbd.riken.jp/repository/": "SSBD:repository",
    }
    assert count(full_store, f"?s <{S}publisher> <https://ssbd.riken.jp/repository>") == 126


@pytest.mark.parametrize(
    "word,value",
    [(w, True) for w in ("1", "true", "True", "t", "yes", "y", "on")]
    + [(w, False) for w in ("0", "false", "f", "no", "n", "off")],
)
def test_booleans_parse_as_pydantic_does(base, http, word, value):
    expected = search(http, base, size=1, **({"require_thumbnail": "true"} if value else {}))["total"]
    assert search(http, base, size=1, require_thumbnail=word)["total"] == expected


@pytest.mark.parametrize(
    "params,loc,kind",
    [
        ({"require_thumbnail": "maybe"}, ["query", "require_thumbnail"], "bool_parsing"),
        ({"size": "0"}, ["query", "size"], "greater_than_equal"),
        ({"size": "1000"}, ["query", "size"], "less_than_equal"),
        ({"offset": "-1"}, ["query", "offset"], "greater_than_equal"),
        ({"year_from": "twenty"}, ["query", "year_from"], "int_parsing"),
        ({"year_to": ""}, ["query", "year_to"], "int_parsing"),
        ({"organism": "ncbitaxon:" + "9" * 5000}, ["query", "organism"], "string_too_long"),
    ],
)
def test_bad_parameters_are_fastapi_422(base, http, params, loc, kind):
    r = http.get(base + "/gide/search", params=params, timeout=30)
    assert r.status_code == 422
    (error,) = r.json()["detail"]
    assert error["loc"] == loc and error["type"] == kind and isinstance(error["msg"], str)


def test_parameter_bomb_is_refused_or_deduplicated(base, http, full_store):
    from kg.serve.app import create_app

    bomb = "&".join(["organism=ncbitaxon:2759"] * 15000)  # 360 KB, the attack of issue 15
    client = create_app(full_store).test_client()  # no HTTP server in between: our own bound answers
    r = client.get("/gide/search?" + bomb)
    assert r.status_code == 422 and r.get_json()["detail"][0]["type"] == "too_long"
    assert client.get("/search?format=json&" + bomb).status_code == 400
    assert http.get(base + "/gide/search?" + bomb, timeout=30).status_code in (
        414,
        422,
    )  # over HTTP the server may refuse first
    mid = "&".join(["organism=ncbitaxon:2759"] * 2000)  # 48 KB: past our bound, within the HTTP server's
    r = http.get(base + "/gide/search?" + mid, timeout=30)
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "too_long"
    once = search(http, base, organism="ncbitaxon:9606", size=1)
    repeated = http.get(
        base + "/gide/search?size=1&" + "&".join(["organism=ncbitaxon:9606"] * 600), timeout=30
    ).json()  # 13 KB
    assert repeated["total"] == once["total"] > 0
    many = "&".join(f"organism=ncbitaxon:{n}" for n in range(1, 200))
    r = http.get(base + "/gide/search?" + many, timeout=30)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "organism"]
    r = requests.get(base + "/search", params={"format": "json", "organism": "ncbitaxon:" + "9" * 5000}, timeout=30)
    assert r.status_code == 400 and "at most 500 characters" in r.json()["message"]


def test_health_openapi_and_docs(base, http):
    h = http.get(base + "/gide/health", timeout=30)
    assert h.status_code == 200 and h.json()["status"] == "healthy"
    api = http.get(base + "/gide/openapi.json", timeout=30).json()
    assert api["openapi"].startswith("3.") and set(api["paths"]) == {"/search", "/api/entry/{entry_id}", "/health"}
    params = {p["name"] for p in api["paths"]["/search"]["get"]["parameters"]}
    assert {
        "q",
        "publisher",
        "organism",
        "imaging_method",
        "license",
        "year_from",
        "year_to",
        "size",
        "offset",
        "require_thumbnail",
    } <= params
    page = http.get(base + "/gide/docs", timeout=30)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert all(f"<code>{p}</code>" in page.text for p in params)
    assert '<script src="http' not in page.text and "cdn" not in page.text.lower()
    missing = http.get(base + "/gide/api/entry/no-such-study", timeout=30)
    assert missing.status_code == 404 and "detail" in missing.json()


# -- the same answers as gide-search's index would give over these entries ---------------------------------------
# Checked with gide-search's own code (its IndexableDataset, its portal's server) outside the repository: its
# filters and aggregations work on what each entry lists (tests/gide_contract.py `index_keys`), so a filter or
# facet counted over every value any source states gave other totals (FBbi_00000246: 361 against 349 then) and
# hits whose card did not show the term filtered for.
BUCKET_LIMITS = {"publisher": 10, "organism": 200, "imaging_method": 70, "license": 50}


@pytest.fixture(scope="module")
def indexed(base, http) -> dict[str, dict[str, set[str]]]:
    """Every study's index keys, from the entries that paging through every hit gives."""
    out = {}
    for offset in range(0, 1300, 100):
        for h in search(http, base, size=100, offset=offset)["hits"]:
            out[h["id"]] = index_keys(h["entry"])
    assert len(out) == 1232
    return out


def test_facets_count_what_the_entries_list(base, http, indexed):
    facets = search(http, base, size=1)["facets"]
    for name, buckets in facets.items():
        want = Counter(k for keys in indexed.values() for k in keys[name])
        got = {b["key"]: b["count"] for b in buckets}
        if name == "year_published":  # a histogram: empty years inside the range count 0
            assert {k: n for k, n in got.items() if n} == dict(want)
        else:
            top = sorted(want.items(), key=lambda kv: (-kv[1], kv[0]))[: BUCKET_LIMITS[name]]
            assert [(b["key"], b["count"]) for b in buckets] == top, name


def test_filters_match_exactly_the_entries_that_list_the_value(base, http, indexed):
    """Every publisher, licence and year, the first 20 organisms and methods: the total is the number of entries
    listing the value and every hit lists it (what gide-search's nested term filters on its index give)."""
    facets = search(http, base, size=1)["facets"]
    asked = 0
    for name in ("publisher", "license", "organism", "imaging_method"):
        for b in facets[name][:20]:
            body = search(http, base, **{name: b["key"]}, size=100)
            want = {i for i, keys in indexed.items() if b["key"] in keys[name]}
            assert body["total"] == len(want) and {h["id"] for h in body["hits"]} <= want, (name, b["key"])
            asked += 1
    for b in facets["year_published"]:
        want = sum(1 for keys in indexed.values() if b["key"] in keys["year_published"])
        assert search(http, base, year_from=b["key"], year_to=b["key"], size=1)["total"] == want == b["count"]
        asked += 1
    assert asked >= 60


def test_studies_only_native_records_describe_show_their_organism_and_method(base, http):
    """IDR study files and SSBD's RDF name organism and method with kg:organism / kg:imagingMethod only; the
    entry lists them, so the card shows what the organism filter matched it by."""
    e = http.get(base + "/gide/api/entry/idr0159", timeout=30).json()
    assert [(a["id"], a["type"], a["scientificName"]) for a in e["about"]] == [
        (OBO + "NCBITaxon_7070", ["Taxon"], "Tribolium castaneum")
    ]
    assert [(m["id"], m["type"]) for m in e["measurementMethod"]] == [(OBO + "FBbi_00000369", ["DefinedTerm"])]
    assert [t["id"] for t in e["taxon_ids"]] == [OBO + "NCBITaxon_7070"]
    hits = search(http, base, organism=OBO + "NCBITaxon_7070", size=10)["hits"]
    assert "https://idr.openmicroscopy.org/study/idr0159/" in {h["id"] for h in hits}
    assert all(OBO + "NCBITaxon_7070" in index_keys(h["entry"])["organism"] for h in hits)
    ssbd = http.get(base + "/gide/api/entry/98-Morita-ToothEpiCellDyn", timeout=30).json()
    assert [a["id"] for a in ssbd["about"]] == [OBO + "NCBITaxon_10090"]
    assert [m["id"] for m in ssbd["measurementMethod"]] == [OBO + "FBbi_00000251"]
