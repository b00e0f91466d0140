"""The OLS4-compatible /api over real HTTP, through the real OLS client libraries (ols-py, ols-client)."""

from __future__ import annotations

import pytest
import requests
from ols_client import Client as OlsClient
from ols_py.client import Ols4Client

from _server import running_app
from expected import FBBI_TERMS

FBBI = "http://purl.obolibrary.org/obo/FBbi_"


def _enc(iri: str) -> str:
    from urllib.parse import quote

    return quote(quote(iri, safe=""), safe="")


TAXON = "http://purl.obolibrary.org/obo/NCBITaxon_"


@pytest.fixture(scope="module")
def base(full_store):
    with running_app(full_store) as url:
        yield url


@pytest.fixture(scope="module")
def olspy(base):
    return Ols4Client(base + "/api/")


@pytest.fixture(scope="module")
def olsclient(base):
    return OlsClient(base)


def test_api_root_and_ontologies(olspy):
    info = olspy.get_api_info()
    assert str(info.links.ontologies.href).endswith("/api/ontologies")
    listing = olspy.get_ontologies(size=100)
    ids = [o.ontologyId for o in listing.embedded.ontologies]
    assert {"fbbi", "ncbitaxon", "edam-bioimaging", "efo", "cmpo", "go"} <= set(ids)
    assert listing.page.totalElements == len(ids)
    fbbi = olspy.get_ontology("fbbi")
    assert fbbi.status == "LOADED" and fbbi.numberOfTerms == FBBI_TERMS


def test_term_fields_confocal(olspy):
    t = olspy.get_term("fbbi", FBBI + "00000251")
    assert t.label == "confocal microscopy"
    assert t.obo_id == "FBbi:00000251" and t.short_form == "FBbi_00000251"
    assert t.ontology_name == "fbbi" and t.ontology_prefix == "FBbi"
    assert t.has_children is True and t.is_root is False
    assert t.description == [] and t.synonyms == []  # FBbi 2019 gives confocal microscopy neither
    assert set(t.links) >= {"self", "parents", "ancestors", "children", "descendants"}
    r = olspy.get_term("fbbi", FBBI + "00000265")  # recorded image: a definition and a synonym
    assert r.description == [
        "methods and devices used for capturing an image of a real object; distinct from images created by artwork"
    ]
    assert r.synonyms == ["photograph"]


def test_confocal_is_a_descendant_of_fluorescence_microscopy(olspy, olsclient):
    desc = olspy.get_term_descendants("fbbi", FBBI + "00000246", params={"size": 500})
    iris = {str(t.iri) for t in desc.embedded.terms}
    assert FBBI + "00000251" in iris and FBBI + "00000253" in iris  # confocal, spinning disk
    ancestors = {t["iri"] for t in olsclient.iter_ancestors("fbbi", FBBI + "00000251")}
    assert FBBI + "00000246" in ancestors


def test_mouse_ancestors(olspy, olsclient):
    anc = olspy.get_term_ancestors("ncbitaxon", TAXON + "10090", params={"size": 500})
    iris = {str(t.iri) for t in anc.embedded.terms}
    assert {TAXON + "10088", TAXON + "40674"} <= iris  # Mus, Mammalia
    labels = set(olsclient.iter_ancestors_labels("ncbitaxon", TAXON + "10090"))
    assert {"Mus", "Mammalia"} <= labels
    parents = olspy.get_term_parents("ncbitaxon", TAXON + "10090")
    assert [str(t.iri) for t in parents.embedded.terms] == [TAXON + "10088"]
    children = olspy.get_term_children("ncbitaxon", TAXON + "10088", params={"size": 100})
    assert TAXON + "10090" in {str(t.iri) for t in children.embedded.terms}


def test_hierarchical_variants_and_paging(olspy, base):
    # ols-py 1.1's get_term_hierarchical_descendants asks for hierarchicalAncestors (a client bug), so
    # the descendants are read through the path form and the ancestors through the client
    from ols_py.schemas.responses import MultipleTerms

    h = MultipleTerms.model_validate(
        requests.get(
            f"{base}/api/ontologies/fbbi/terms/{_enc(FBBI + '00000246')}/hierarchicalDescendants",
            params={"size": 5, "page": 1},
            timeout=30,
        ).json()
    )
    assert h.page.size == 5 and h.page.number == 1 and len(h.embedded.terms) == 5
    full = olspy.get_term_descendants("fbbi", FBBI + "00000246", params={"size": 500})
    assert h.page.totalElements == full.page.totalElements
    ha = olspy.get_term_hierarchical_ancestors("fbbi", FBBI + "00000251", params={"size": 50})
    assert FBBI + "00000246" in {str(t.iri) for t in ha.embedded.terms}
    last = requests.get(
        f"{base}/api/ontologies/fbbi/hierarchicalDescendants",
        params={"id": FBBI + "00000246", "size": 5, "page": h.page.totalPages - 1},
        timeout=30,
    ).json()
    assert "next" not in last["_links"] and len(last["_embedded"]["terms"]) == full.page.totalElements - 5 * (
        h.page.totalPages - 1
    )


def test_search_select_suggest(olspy, olsclient, base):
    r = olspy.search("confocal microscopy", params={"ontology": "fbbi", "exact": True})
    assert r.response.numFound == 1 and r.response.docs[0].iri == FBBI + "00000251"
    docs = olsclient.search("mouse")
    assert docs[0]["iri"] == TAXON + "10090"  # "mouse" is a vernacular name the crates give Mus musculus
    sel = requests.get(f"{base}/api/select", params={"q": "spinning", "ontology": "fbbi", "rows": 3}, timeout=30).json()
    assert (
        "spinning disk confocal microscopy" in [d["label"] for d in sel["response"]["docs"]] and "highlighting" in sel
    )
    sug = olsclient.suggest("confoc", ontology="fbbi")
    assert sug["response"]["docs"][0] == {"autosuggest": "confocal microscopy"}
    fl = requests.get(
        f"{base}/api/search", params={"q": "HeLa", "fieldList": "iri,label", "rows": 1}, timeout=30
    ).json()
    assert set(fl["response"]["docs"][0]) == {"iri", "label"}
    paged = requests.get(
        f"{base}/api/search", params={"q": "microscopy", "ontology": "fbbi", "rows": 5, "start": 5}, timeout=30
    ).json()
    assert paged["response"]["start"] == 5 and len(paged["response"]["docs"]) == 5
    sub = requests.get(
        f"{base}/api/search", params={"q": "microscopy", "allChildrenOf": FBBI + "00000246", "rows": 100}, timeout=30
    ).json()
    assert sub["response"]["numFound"] > 0 and FBBI + "00000243" not in {
        d["iri"] for d in sub["response"]["docs"]
    }  # bright-field is not fluorescence


def test_terms_across_ontologies_and_defining(olspy, base):
    from ols_py.schemas.requests import GetTermsParams

    found = olspy.find_terms(GetTermsParams(iri=FBBI + "00000251"))
    assert {t.ontology_name for t in found.embedded.terms} == {"fbbi"}
    d = olspy.get_term_in_defining_ontology(iri=FBBI + "00000251")
    assert d.embedded.terms[0].is_defining_ontology is True
    harvested = requests.get(
        f"{base}/api/ontologies/efo/terms", params={"iri": "http://www.ebi.ac.uk/efo/EFO_0007550"}, timeout=30
    ).json()
    assert harvested["_embedded"]["terms"][0]["label"] == "high content screen"
    onto = requests.get(f"{base}/api/ontologies/efo", timeout=30).json()
    assert onto["config"]["annotations"]["harvested_subset"] == ["true"]


@pytest.mark.parametrize(
    "path,params,status",
    [
        ("/api/ontologies/nosuch", {}, 404),
        ("/api/ontologies/fbbi/terms/http%253A%252F%252Fexample.org%252Fnope", {}, 404),
        ("/api/search", {"q": ""}, 400),
        ("/api/search", {"q": "x", "ontology": "nosuch"}, 404),
        ("/api/search", {"q": "x", "rows": "100000"}, 400),
        ("/api/search", {"q": "x", "rows": "ten"}, 400),
        ("/api/search", {"q": "x", "exact": "maybe"}, 400),
        ("/api/ontologies", {"size": "100000"}, 400),
        ("/api/ontologies/fbbi/children", {}, 400),
        ("/api/ontologies/fbbi/terms/not%2520an%2520iri", {}, 404),
        ("/api/annotate", {"text": ""}, 400),
        ("/api/nowhere", {}, 404),
    ],
)
def test_bad_input_is_a_clear_4xx(base, path, params, status):
    r = requests.get(base + path, params=params, timeout=30)
    assert r.status_code == status
    body = r.json()
    assert body["status"] == status and body["path"].startswith("/api") and body["message"] and body["timestamp"]


def test_annotate_grounds_typos_and_vernacular_names(base):
    r = requests.get(f"{base}/api/annotate", params={"text": "Mus muculus", "ontology": "ncbitaxon"}, timeout=30).json()
    assert r["grounding"]["iri"] == TAXON + "10090" and r["grounding"]["reason"] == "fuzzy label"
    r = requests.get(f"{base}/api/annotate", params={"text": "confocal microscopy"}, timeout=30).json()
    assert r["grounding"]["reason"] == "exact label" and r["grounding"]["score"] == 100.0
    r = requests.get(
        f"{base}/api/annotate", params={"text": "wide-field microscopy", "ontology": "fbbi"}, timeout=30
    ).json()
    assert r["grounding"] is None and r["candidates"]  # not decisive: left for a curator


def test_expand_helper(base, full_store):
    r = requests.get(f"{base}/api/terms-expand", params={"iri": FBBI + "00000246"}, timeout=30).json()
    sparql = {
        row["d"].value
        for row in full_store.query(
            f"SELECT DISTINCT ?d WHERE {{ GRAPH <https://w3id.org/gide-kg/graph/ontology/fbbi> {{ ?d <http://www.w3.org/2000/01/rdf-schema#subClassOf>* <{FBBI}00000246> }} }}"
        )
    }
    assert set(r["descendants_and_self"]) == sparql


def test_every_advertised_link_answers(base, olspy):
    """The HAL root advertises ontologies, terms, properties, individuals and profile: each answers 200, in
    OLS4's shapes (we hold no properties or individuals: empty pages)."""
    links = requests.get(base + "/api", timeout=10).json()["_links"]
    assert set(links) == {"ontologies", "terms", "properties", "individuals", "profile"}
    for name, link in links.items():
        r = requests.get(link["href"], params={"size": 1}, timeout=30)
        assert r.status_code == 200, name
    for kind in ("properties", "individuals"):
        body = requests.get(links[kind]["href"], timeout=10).json()
        assert "_embedded" not in body and body["page"]["totalElements"] == 0
        assert requests.get(f"{base}/api/ontologies/fbbi/{kind}", timeout=10).json()["page"]["totalElements"] == 0
    assert requests.get(links["profile"]["href"], timeout=10).json()["_links"]["self"]["href"].endswith("/api/profile")


def test_owl_fields_of_a_term(olspy):
    """Synonym scopes (obo_synonym), equivalent-class definitions and obsolete state, from the OWL files."""
    t = olspy.get_term("edam-bioimaging", "http://edamontology.org/topic__R96toeNl9iMp8oqv9augU84")
    assert {(s.name, s.scope) for s in t.obo_synonym} == {
        ("3D reconstruction", "hasBroadSynonym"),
        ("Morphological reconstruction", "hasBroadSynonym"),
    }
    confocal = olspy.get_term("fbbi", FBBI + "00000251")
    assert confocal.annotation["equivalent class"] == [
        (
            "light microscopy and (makes_use_of some narrowfield illumination) and (makes_use_of some narrow-field detection)"
            " and (makes_use_of some fluorescence emission)"
        )
    ]
    old = olspy.get_term("fbbi", FBBI + "00000242")
    assert old.is_obsolete is True and old.term_replaced_by is None  # FBbi names no replacements
