"""The /sparql endpoint over real HTTP, with real clients: SPARQLWrapper, rdflib's SPARQLStore, requests."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import rdflib
import requests
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, POST, POSTDIRECTLY, TURTLE, XML, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

from _server import running_app
from expected import STUDIES_BY_PUBLISHER

ROOT = Path(__file__).resolve().parent.parent
CRATES = ROOT / "data" / "crates"
COUNT_QUERY = """PREFIX schema: <http://schema.org/>
SELECT ?name (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a schema:Dataset ; schema:publisher/schema:name ?name } GROUP BY ?name ORDER BY ?name"""
EXPECTED = {
    "BioImage Archive": len(list((CRATES / "bia").glob("*ro-crate-metadata.json"))),
    "Image Data Resource": len(list((CRATES / "idr").glob("*ro-crate-metadata.json"))),
    "SSBD:database": len(list((CRATES / "ssbd-database").glob("*ro-crate-metadata.json"))),
    "SSBD:repository": len(list((CRATES / "ssbd-repository").glob("*ro-crate-metadata.json"))),
}


@pytest.fixture(scope="module")
def endpoint(harvested_store):
    with running_app(harvested_store) as base:
        yield base + "/sparql"


def test_bundled_counts_are_the_real_ones():
    assert EXPECTED == STUDIES_BY_PUBLISHER


@pytest.mark.parametrize("method", ["GET", "POST", "POSTDIRECTLY"])
def test_sparqlwrapper_select_json(endpoint, method):
    sw = SPARQLWrapper(endpoint)
    sw.setQuery(COUNT_QUERY)
    sw.setReturnFormat(JSON)
    if method == "POST":
        sw.setMethod(POST)
    elif method == "POSTDIRECTLY":
        sw.setMethod(POST)
        sw.setRequestMethod(POSTDIRECTLY)
    res = sw.queryAndConvert()
    got = {b["name"]["value"]: int(b["n"]["value"]) for b in res["results"]["bindings"]}
    assert got == EXPECTED


def test_sparqlwrapper_xml_and_csv(endpoint):
    sw = SPARQLWrapper(endpoint)
    sw.setQuery(COUNT_QUERY)
    sw.setReturnFormat(XML)
    doc = sw.queryAndConvert()  # an xml.dom document
    literals = [n.firstChild.data for n in doc.getElementsByTagName("literal")]
    assert "Image Data Resource" in literals and "127" in literals
    sw.setReturnFormat(CSV)
    rows = list(csv.DictReader(io.StringIO(sw.queryAndConvert().decode())))
    assert {r["name"]: int(r["n"]) for r in rows} == EXPECTED


def test_sparqlwrapper_ask_and_construct(endpoint):
    sw = SPARQLWrapper(endpoint)
    sw.setReturnFormat(JSON)
    sw.setQuery("ASK { <https://idr.openmicroscopy.org/study/idr0003/> <https://w3id.org/gide-kg/vocab#organism> <http://purl.obolibrary.org/obo/NCBITaxon_4932> }")
    assert sw.queryAndConvert()["boolean"] is True
    sw.setQuery("ASK { <https://idr.openmicroscopy.org/study/idr0003/> <https://w3id.org/gide-kg/vocab#organism> <http://purl.obolibrary.org/obo/NCBITaxon_9606> }")
    assert sw.queryAndConvert()["boolean"] is False
    sw.setQuery("CONSTRUCT WHERE { <https://idr.openmicroscopy.org/study/idr0003/> <http://schema.org/citation> ?p }")
    sw.setReturnFormat(TURTLE)
    g = rdflib.Graph().parse(data=sw.queryAndConvert(), format="turtle")
    assert set(g.objects()) == {rdflib.URIRef("https://doi.org/10.1083/jcb.201301120")}


def test_sparqlwrapper_syntax_error_is_400(endpoint):
    sw = SPARQLWrapper(endpoint)
    sw.setQuery("SELECT ?s WHERE { ?s ?p }")
    sw.setReturnFormat(JSON)
    with pytest.raises(QueryBadFormed) as exc:
        sw.queryAndConvert()
    assert "syntax error" in str(exc.value).lower()


def test_rdflib_sparqlstore(endpoint):
    g = rdflib.Graph(store=SPARQLStore(endpoint, returnFormat="json"))
    rows = list(g.query(
        "SELECT ?date WHERE { <https://ssbd.riken.jp/v1/project/10-Komatsuzaki-MolDyn> <http://schema.org/datePublished> ?date }"
    ))
    assert len(rows) == 1
    date = rows[0][0]
    assert str(date) == "2015-10-03" and date.datatype == rdflib.XSD.date
    taxa = {str(r[0]) for r in g.query(
        "SELECT ?t WHERE { <https://ssbd.riken.jp/v1/project/10-Komatsuzaki-MolDyn> <https://w3id.org/gide-kg/vocab#organism> ?t }"
    )}
    assert taxa == {"http://purl.obolibrary.org/obo/NCBITaxon_44689"}


@pytest.mark.parametrize(
    "accept,expected_type",
    [
        ("application/sparql-results+json", "application/sparql-results+json"),
        ("application/sparql-results+xml", "application/sparql-results+xml"),
        ("text/csv", "text/csv"),
        ("text/tab-separated-values", "text/tab-separated-values"),
        ("text/html;q=0.5, application/json", "application/sparql-results+json"),
        ("*/*", "application/sparql-results+json"),
    ],
)
def test_select_negotiation(endpoint, accept, expected_type):
    r = requests.get(endpoint, params={"query": COUNT_QUERY}, headers={"Accept": accept}, timeout=30)
    assert r.status_code == 200
    assert r.headers["Content-Type"].split(";")[0] == expected_type
    assert "Image Data Resource" in r.text


@pytest.mark.parametrize(
    "accept,rdflib_format",
    [("text/turtle", "turtle"), ("application/n-triples", "nt"), ("application/ld+json", "json-ld"), ("application/rdf+xml", "xml")],
)
def test_construct_negotiation(endpoint, accept, rdflib_format):
    q = "CONSTRUCT WHERE { <https://www.ebi.ac.uk/biostudies/bioimages/studies/S-BIAD1002> <https://w3id.org/gide-kg/vocab#organism> ?t }"
    r = requests.post(endpoint, data={"query": q}, headers={"Accept": accept}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].split(";")[0] == accept
    g = rdflib.Graph().parse(data=r.content, format=rdflib_format)
    assert set(g.objects()) == {rdflib.URIRef("http://purl.obolibrary.org/obo/NCBITaxon_562")}


def test_format_parameter_overrides_accept(endpoint):
    r = requests.get(endpoint, params={"query": COUNT_QUERY, "format": "csv"}, headers={"Accept": "application/json"}, timeout=30)
    assert r.headers["Content-Type"].startswith("text/csv")
    r = requests.get(endpoint, params={"query": "ASK {}", "format": "ttl"}, headers={"Accept": "text/turtle"}, timeout=30)
    assert r.status_code == 200 and r.json() == {"head": {}, "boolean": True}  # a boolean has no Turtle form: the default
    r = requests.get(endpoint, params={"query": "ASK {}", "format": "png"}, timeout=30)
    assert r.status_code == 400 and "unknown result format 'png'" in r.json()["message"]


def test_unacceptable_type_is_406(endpoint):
    r = requests.get(endpoint, params={"query": COUNT_QUERY}, headers={"Accept": "image/png"}, timeout=30)
    assert r.status_code == 406
    assert "no acceptable format" in r.json()["message"]


def test_default_and_named_graph_parameters(endpoint):
    q = "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a <http://schema.org/Dataset> }"
    r = requests.get(endpoint, params={"query": q, "default-graph-uri": "https://w3id.org/gide-kg/graph/idr"},
                     headers={"Accept": "application/json"}, timeout=30)
    assert r.json()["results"]["bindings"][0]["n"]["value"] == "127"
    q = "SELECT ?g (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s a <http://schema.org/Dataset> } } GROUP BY ?g"
    r = requests.get(endpoint, params={"query": q, "named-graph-uri": ["https://w3id.org/gide-kg/graph/ssbd-repository"]},
                     headers={"Accept": "application/json"}, timeout=30)
    got = {b["g"]["value"]: b["n"]["value"] for b in r.json()["results"]["bindings"]}
    assert got == {"https://w3id.org/gide-kg/graph/ssbd-repository": "126"}


def test_update_is_refused(endpoint, harvested_store):
    before = len(harvested_store.store)
    upd = "INSERT DATA { <http://example.org/a> <http://example.org/b> <http://example.org/c> }"
    r = requests.post(endpoint, data=upd, headers={"Content-Type": "application/sparql-update"}, timeout=30)
    assert r.status_code == 403
    r = requests.post(endpoint, data={"update": upd}, timeout=30)
    assert r.status_code == 403
    r = requests.post(endpoint, data=upd, headers={"Content-Type": "application/sparql-query"}, timeout=30)
    assert r.status_code == 400  # an update is not a query: the parser says so
    assert len(harvested_store.store) == before


def test_syntax_error_message_and_no_trace(endpoint):
    r = requests.get(endpoint, params={"query": "SELECT * WHERE { ?s ?p "}, timeout=30)
    assert r.status_code == 400
    body = r.json()
    assert body["status"] == 400 and "SPARQL syntax error" in body["message"]
    assert "Traceback" not in r.text


def test_service_description_and_query_page(endpoint):
    r = requests.get(endpoint, headers={"Accept": "text/turtle"}, timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/turtle")
    g = rdflib.Graph().parse(data=r.text, format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    assert (rdflib.URIRef(endpoint), sd.endpoint, rdflib.URIRef(endpoint)) in g
    names = {str(o) for o in g.objects(None, sd.name)}
    assert "https://w3id.org/gide-kg/graph/bia" in names and not any(n.startswith("urn:kg:staging") for n in names)
    page = requests.get(endpoint, params={"example": "bacteria-light-microscopy"}, headers={"Accept": "text/html"}, timeout=30)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    for q in sorted((ROOT / "queries").glob("*.rq")):
        assert f'value="{q.stem}"' in page.text  # every named query is offered
    assert "obo:NCBITaxon_2" in page.text  # the chosen example is preloaded
    assert "cdn" not in page.text.lower()
    js = requests.get(endpoint.replace("/sparql", "/static/sparql.js"), timeout=30)
    assert js.status_code == 200 and "fetch(" in js.text


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
        "select * where { service silent <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
        "SELECT * WHERE { BIND(<http://127.0.0.1:9/sparql> AS ?e) SERVICE ?e { ?s ?p ?o } }",
        "PREFIX ex: <http://127.0.0.1:9/> SELECT * WHERE { SERVICE ex:sparql { ?s ?p ?o } }",
    ],
)
def test_service_federation_is_refused(endpoint, query):
    r = requests.get(endpoint, params={"query": query}, timeout=30)
    assert r.status_code == 403 and "not allowed" in r.json()["message"]


def test_the_word_service_in_strings_and_comments_is_fine(endpoint):
    q = 'SELECT ?x WHERE { BIND("SERVICE <http://127.0.0.1:9/>" AS ?x) } # SERVICE <http://127.0.0.1:9/>'
    r = requests.get(endpoint, params={"query": q}, headers={"Accept": "application/json"}, timeout=30)
    assert r.status_code == 200


def test_service_allow_list():
    from kg.serve.guard import ServiceRefused, check_services

    check_services("SELECT * WHERE { SERVICE <https://example.org/sparql> { ?s ?p ?o } }", {"https://example.org/sparql"})
    with pytest.raises(ServiceRefused):
        check_services("SELECT * WHERE { SERVICE <https://other.example/sparql> { ?s ?p ?o } }", {"https://example.org/sparql"})


def test_request_body_limit(endpoint):
    r = requests.post(endpoint, data="x" * (2 << 20), headers={"Content-Type": "application/sparql-query"}, timeout=30)
    assert r.status_code == 413 and r.json()["status"] == 413
