"""Browse pages over real HTTP: home counts, study pages, any-IRI pages, content negotiation, escaping."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import rdflib
import requests

from kg.pipeline import harvest_folder
from kg.store import open_store

from _server import running_app
from expected import CRATE_DISTINCT_STUDIES

ROOT = Path(__file__).resolve().parent.parent
CRATES = ROOT / "data" / "crates"


@pytest.fixture(scope="module")
def site(harvested_store):
    with running_app(harvested_store) as base:
        yield base


def get(url, **kw):
    kw.setdefault("timeout", 30)
    return requests.get(url, **kw)


def test_home_shows_counts_per_repository(site, harvested_store):
    r = get(site + "/")
    assert r.status_code == 200
    # sources: studies each source graph describes (one crate per study here)
    for name, folder in [
        ("bia", "bia"),
        ("idr", "idr"),
        ("ssbd-database", "ssbd-database"),
        ("ssbd-repository", "ssbd-repository"),
    ]:
        n = len(list((CRATES / folder).glob("*ro-crate-metadata.json")))
        assert f'<tr data-source="{name}">' in r.text
        row = r.text.split(f'<tr data-source="{name}">', 1)[1].split("</tr>", 1)[0]
        assert f'<td class="num described">{n}</td>' in row
    # repositories: the named query's numbers, the one definition (per publisher)
    query = (ROOT / "queries" / "studies-per-repository.rq").read_text()
    expected = {r["repository"].value: int(r["studies"].value) for r in harvested_store.query(query)}
    data = get(site + "/?format=json").json()
    assert {x["repository"]: x["studies"] for x in data["repositories"]} == expected
    assert sum(expected.values()) == data["studies"] == CRATE_DISTINCT_STUDIES
    facet = {
        v["key"]: v["count"]
        for v in get(site + "/search", params={"format": "json", "size": 1}).json()["facets"]["publisher"]
    }
    assert facet == expected
    assert [q["name"] for q in data["queries"]] == sorted(p.stem for p in (ROOT / "queries").glob("*.rq"))


def test_study_page_idr0003(site):
    r = get(site + "/study/idr/idr0003")
    assert r.status_code == 200
    t = r.text
    assert "A novel single-cell screening platform reveals proteome plasticity" in t
    assert "Saccharomyces cerevisiae" in t and "NCBITaxon_4932" in t
    assert "fluorescence microscopy" in t and "FBbi_00000246" in t
    assert 'href="https://doi.org/10.1083/jcb.201301120"' in t
    assert (
        'href="https://creativecommons.org/licenses/by-nc-sa/3.0/" rel="noopener">CC BY-NC-SA 3.0</a>' in t
    )  # licence by name
    assert '<link rel="canonical" href="' + site + '/study/idr/idr0003">' in t
    thumbs = t.split('<div class="thumbs">', 1)[1].split("</div>", 1)[0]
    assert "href=" not in thumbs  # thumbnails are images (with a placeholder when one cannot load)
    assert 'src="https://idr.openmicroscopy.org/webgateway/render_thumbnail/14269/"' in thumbs and "onerror=" in thumbs
    assert 'class="original" href="https://idr.openmicroscopy.org/study/idr0003/"' in t
    assert (
        'data-copy="https://idr.openmicroscopy.org/study/idr0003/"' in t and 'id="citation"' in t
    )  # copy IRI, cite this
    sha = __import__("hashlib").sha256((CRATES / "idr" / "idr0003-ro-crate-metadata.json").read_bytes()).hexdigest()
    assert sha in t and "idr0003-ro-crate-metadata.json" in t  # provenance
    assert "michalbreker@gmail.com" not in t  # e-mail addresses are not published on pages


def test_study_page_bia_with_orcid(site):
    r = get(site + "/study/bia/S-BIAD1002")
    assert r.status_code == 200
    assert 'class="orcid" href="https://orcid.org/0000-0003-1080-1656"' in r.text
    assert "Liselot Dewachter" in r.text
    assert "Escherichia coli" in r.text
    assert "2024-10-06" in r.text


def test_study_json_twin(site):
    s = get(site + "/study/ssbd-database/10-Komatsuzaki-MolDyn?format=json").json()
    assert s["iri"] == "https://ssbd.riken.jp/v1/project/10-Komatsuzaki-MolDyn"
    assert [o["term"] for o in s["organisms"]] == ["http://purl.obolibrary.org/obo/NCBITaxon_44689"]
    assert [m["term"] for m in s["methods"]] == ["http://purl.obolibrary.org/obo/FBbi_00000617"]
    assert [p["publication"] for p in s["publications"]] == ["https://pubmed.ncbi.nlm.nih.gov/25504902"]
    assert s["date"] == "2015-10-03" and s["license"] == "https://creativecommons.org/licenses/by-nc-sa/4.0/"
    assert len(s["authors"]) == 6


@pytest.mark.parametrize(
    "how,ctype,fmt",
    [
        ({"headers": {"Accept": "text/turtle"}}, "text/turtle", "turtle"),
        ({"headers": {"Accept": "application/ld+json"}}, "application/ld+json", "json-ld"),
        ({"headers": {"Accept": "application/n-triples"}}, "application/n-triples", "nt"),
        ({"params": {"format": "ttl"}}, "text/turtle", "turtle"),
        ({"params": {"format": "jsonld"}}, "application/ld+json", "json-ld"),
        ({"params": {"format": "nt"}}, "application/n-triples", "nt"),
    ],
)
def test_study_rdf_negotiation(site, how, ctype, fmt):
    r = get(site + "/study/ssbd-repository/ssbd-repos-000020", **how)
    assert r.status_code == 200
    assert r.headers["Content-Type"].split(";")[0] == ctype
    g = rdflib.Graph().parse(data=r.content, format=fmt)
    study = rdflib.URIRef("https://ssbd.riken.jp/repository/ssbd-repos-000020/")
    kg = rdflib.Namespace("https://w3id.org/gide-kg/vocab#")
    assert (study, kg.organism, rdflib.URIRef("http://purl.obolibrary.org/obo/NCBITaxon_6239")) in g
    # the study's own #local nodes (samples, protocols, sizes) come along
    assert any(str(s).startswith(str(study) + "#") for s in g.subjects())


def test_resource_page_any_iri(site, harvested_store):
    r = get(site + "/resource", params={"iri": "http://purl.obolibrary.org/obo/FBbi_00000251"})
    assert r.status_code == 200
    assert "confocal microscopy" in r.text
    n = int(
        next(
            iter(
                harvested_store.query(
                    "SELECT (COUNT(*) AS ?n) WHERE { ?s <https://w3id.org/gide-kg/vocab#imagingMethod> <http://purl.obolibrary.org/obo/FBbi_00000251> }"
                )
            )
        )["n"].value
    )
    assert n > 50
    group = r.text.split('>imaging method</a> <span class="meta">', 1)[1].split("</span>", 1)[0]
    assert group == f"{n}, first 50 shown"  # every kind of incoming link is listed, with its real count
    j = get(site + "/resource", params={"iri": "http://purl.obolibrary.org/obo/FBbi_00000251", "format": "json"}).json()
    assert j["label"] == "confocal microscopy"
    parents = {s["object"].get("iri") for s in j["outgoing"] if s["predicate"]["iri"].endswith("#subClassOf")}
    assert "http://purl.obolibrary.org/obo/FBbi_00000246" in parents


def test_study_iri_redirects_to_study_page(site):
    r = get(site + "/resource", params={"iri": "https://idr.openmicroscopy.org/study/idr0003/"}, allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"].endswith("/study/idr/idr0003")


@pytest.mark.parametrize(
    "curie,iri",
    [
        ("rdf:type", "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
        ("rdfs:subClassOf", "http://www.w3.org/2000/01/rdf-schema#subClassOf"),
        ("schema:identifier", "http://schema.org/identifier"),
        ("dwc:vernacularName", "http://rs.tdwg.org/dwc/terms/vernacularName"),
        ("kg:subClassOfOrSelf", "https://w3id.org/gide-kg/vocab#subClassOfOrSelf"),
        ("sh:focusNode", "http://www.w3.org/ns/shacl#focusNode"),
    ],
)
def test_vocabulary_terms_have_pages(site, harvested_store, curie, iri):
    r = get(site + "/resource", params={"iri": iri, "format": "json"})
    assert r.status_code == 200
    t = r.json()["term"]
    assert t["vocabulary"]["curie"] == curie and t["definition"]
    n = int(
        next(iter(harvested_store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s <{iri}> ?o }} }}")))[
            "n"
        ].value
    )
    assert t["usage"]["predicate_total"] == n
    html = get(site + "/resource", params={"iri": iri}, headers={"Accept": "text/html"})
    assert html.status_code == 200 and curie in html.text


def test_describe_link_opens_in_a_browser(site):
    page = get(site + "/resource", params={"iri": "http://purl.obolibrary.org/obo/FBbi_00000251"}).text
    href = re.search(r'href="([^"]+)">DESCRIBE in SPARQL', page).group(1).replace("&amp;", "&")
    r = get(site + href, headers={"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"})
    assert r.status_code == 200 and "FBbi_00000251" in r.text


def test_term_page_like_ols(site, harvested_store):
    j = get(site + "/resource", params={"iri": "http://purl.obolibrary.org/obo/FBbi_00000246", "format": "json"}).json()
    o = j["term"]["ontology"]
    assert o["label"] == "fluorescence microscopy" and o["id"] == "FBbi:00000246"
    assert "http://purl.obolibrary.org/obo/FBbi_00000251" in {c["iri"] for c in o["children"]}  # confocal
    n = int(
        next(
            iter(
                harvested_store.query("""SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a <http://schema.org/Dataset> ;
        <https://w3id.org/gide-kg/vocab#imagingMethod> ?m . ?m <http://www.w3.org/2000/01/rdf-schema#subClassOf>* <http://purl.obolibrary.org/obo/FBbi_00000246> }""")
            )
        )["n"].value
    )
    assert o["studies"] == n
    assert get(site + o["search"], params={"format": "json"}).json()["total"] == n  # the link into search agrees


@pytest.mark.parametrize(
    "path,params,status",
    [
        ("/study/idr/idr9999", {}, 404),
        ("/study/nowhere/x", {}, 404),
        ("/resource", {}, 400),
        ("/resource", {"iri": "not an iri"}, 400),
        ("/resource", {"iri": "http://example.org/never-mentioned"}, 404),
        ("/study/idr/idr0003", {"format": "docx"}, 400),
        ("/search", {"page": "x"}, 400),
    ],
)
def test_bad_requests(site, path, params, status):
    r = get(site + path, params=params)
    assert r.status_code == status
    assert "Traceback" not in r.text


def test_errors_follow_the_client(site):
    html = get(site + "/study/idr/idr9999", headers={"Accept": "text/html"})
    assert html.status_code == 404 and html.headers["Content-Type"].startswith("text/html")
    rdf = get(site + "/study/idr/idr9999", headers={"Accept": "text/turtle"})
    assert rdf.status_code == 404 and rdf.headers["Content-Type"].startswith("application/json")
    assert rdf.json() == {"error": "Not Found", "status": 404, "message": "no study 'idr9999' in Image Data Resource"}


def test_search_finds_and_pages(site):
    j = get(site + "/search", params={"q": "idr0003", "format": "json"}).json()
    assert j["hits"][0]["id"] == "https://idr.openmicroscopy.org/study/idr0003/"  # the accession ranks first
    assert j["hits"][0]["entry"]["study_page"] == site + "/study/idr/idr0003"
    all_ = get(site + "/search", params={"format": "json", "size": 100}).json()
    assert all_["total"] == CRATE_DISTINCT_STUDIES
    last = get(site + "/search", params={"format": "json", "size": 100, "page": 13}).json()
    assert len(last["hits"]) == 25


def test_markup_in_crate_is_escaped(tmp_path):
    """A crate whose title and description carry HTML/JS is shown as text, never as markup."""
    src = json.loads((CRATES / "idr" / "idr0003-ro-crate-metadata.json").read_text())
    for node in src["@graph"]:
        if node.get("@id") == "https://idr.openmicroscopy.org/study/idr0003/":
            node["name"] = '<script>alert("x")</script><img src=x onerror=alert(1)>'
            node["description"] = "</p><b>bold</b>"
    folder = tmp_path / "crates"
    folder.mkdir()
    (folder / "idr0003-ro-crate-metadata.json").write_text(json.dumps(src))
    store = open_store(None)
    from kg.config import load_sources

    reports = harvest_folder(store, load_sources(), folder)
    assert reports[0].studies == 1
    with running_app(store) as base:
        page = get(base + "/study/idr/idr0003").text
        assert '<script>alert("x")</script>' not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
        assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page
        res = get(base + "/search", params={"q": "script"}).text
        assert "<script>alert" not in res


def test_cached_pages_follow_a_new_harvest(tmp_path):
    """Study pages, /quality and VoID are cached per harvest generation: a new harvest shows at once."""
    from kg.config import load_sources
    from kg.serve.app import create_app

    src = json.loads((CRATES / "idr" / "idr0003-ro-crate-metadata.json").read_text())
    folder = tmp_path / "crates"
    folder.mkdir()
    store = open_store(None)
    (folder / "idr0003-ro-crate-metadata.json").write_text(json.dumps(src))
    harvest_folder(store, load_sources(), folder)
    client = create_app(store).test_client()
    assert "<h1>A novel single-cell screening platform" in client.get("/study/idr/idr0003").get_data(as_text=True)
    void_before = client.get("/.well-known/void?format=nt").get_data(as_text=True)
    for node in src["@graph"]:
        if node.get("@id") == "https://idr.openmicroscopy.org/study/idr0003/":
            node["name"] = "A renamed study"
            node["keywords"] = ["one", "two", "three"]
    (folder / "idr0003-ro-crate-metadata.json").write_text(json.dumps(src))
    harvest_folder(store, load_sources(), folder)
    page = client.get("/study/idr/idr0003").get_data(as_text=True)
    assert "<h1>A renamed study</h1>" in page
    assert client.get("/.well-known/void?format=nt").get_data(as_text=True) != void_before
