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
    sw.setQuery(
        "ASK { <https://idr.openmicroscopy.org/study/idr0003/> <https://w3id.org/gide-kg/vocab#organism> <http://purl.obolibrary.org/obo/NCBITaxon_4932> }"
    )
    assert sw.queryAndConvert()["boolean"] is True
    sw.setQuery(
        "ASK { <https://idr.openmicroscopy.org/study/idr0003/> <https://w3id.org/gide-kg/vocab#organism> <http://purl.obolibrary.org/obo/NCBITaxon_9606> }"
    )
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
    rows = list(
        g.query(
            "SELECT ?date WHERE { <https://ssbd.riken.jp/v1/project/10-Komatsuzaki-MolDyn> <http://schema.org/datePublished> ?date }"
        )
    )
    assert len(rows) == 1
    date = rows[0][0]
    assert str(date) == "2015-10-03" and date.datatype == rdflib.XSD.date
    taxa = {
        str(r[0])
        for r in g.query(
            "SELECT ?t WHERE { <https://ssbd.riken.jp/v1/project/10-Komatsuzaki-MolDyn> <https://w3id.org/gide-kg/vocab#organism> ?t }"
        )
    }
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
    [
        ("text/turtle", "turtle"),
        ("application/n-triples", "nt"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
    ],
)
def test_construct_negotiation(endpoint, accept, rdflib_format):
    q = "CONSTRUCT WHERE { <https://www.ebi.ac.uk/biostudies/bioimages/studies/S-BIAD1002> <https://w3id.org/gide-kg/vocab#organism> ?t }"
    r = requests.post(endpoint, data={"query": q}, headers={"Accept": accept}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].split(";")[0] == accept
    g = rdflib.Graph().parse(data=r.content, format=rdflib_format)
    assert set(g.objects()) == {rdflib.URIRef("http://purl.obolibrary.org/obo/NCBITaxon_562")}


def test_format_parameter_overrides_accept(endpoint):
    r = requests.get(
        endpoint, params={"query": COUNT_QUERY, "format": "csv"}, headers={"Accept": "application/json"}, timeout=30
    )
    assert r.headers["Content-Type"].startswith("text/csv")
    r = requests.get(
        endpoint, params={"query": "ASK {}", "format": "ttl"}, headers={"Accept": "text/turtle"}, timeout=30
    )
    assert r.status_code == 200 and r.json() == {
        "head": {},
        "boolean": True,
    }  # a boolean has no Turtle form: the default
    r = requests.get(endpoint, params={"query": "ASK {}", "format": "png"}, timeout=30)
    assert r.status_code == 400 and "unknown result format 'png'" in r.json()["message"]


def test_unacceptable_type_is_406(endpoint):
    r = requests.get(endpoint, params={"query": COUNT_QUERY}, headers={"Accept": "image/png"}, timeout=30)
    assert r.status_code == 406
    assert "no acceptable format" in r.json()["message"]


def test_default_and_named_graph_parameters(endpoint):
    q = "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a <http://schema.org/Dataset> }"
    r = requests.get(
        endpoint,
        params={"query": q, "default-graph-uri": "https://w3id.org/gide-kg/graph/idr"},
        headers={"Accept": "application/json"},
        timeout=30,
    )
    assert r.json()["results"]["bindings"][0]["n"]["value"] == "127"
    q = "SELECT ?g (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s a <http://schema.org/Dataset> } } GROUP BY ?g"
    r = requests.get(
        endpoint,
        params={"query": q, "named-graph-uri": ["https://w3id.org/gide-kg/graph/ssbd-repository"]},
        headers={"Accept": "application/json"},
        timeout=30,
    )
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
    page = requests.get(
        endpoint, params={"example": "bacteria-light-microscopy"}, headers={"Accept": "text/html"}, timeout=30
    )
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
    from kg.serve.guard import ServiceRefused, check_query

    check_query("SELECT * WHERE { SERVICE <https://example.org/sparql> { ?s ?p ?o } }", {"https://example.org/sparql"})
    with pytest.raises(ServiceRefused):
        check_query(
            "SELECT * WHERE { SERVICE <https://other.example/sparql> { ?s ?p ?o } }", {"https://example.org/sparql"}
        )


def test_request_body_limit(endpoint):
    r = requests.post(endpoint, data="x" * (2 << 20), headers={"Content-Type": "application/sparql-query"}, timeout=30)
    assert r.status_code == 413 and r.json()["status"] == 413


# --- every SPARQLWrapper return format × every query form (issue #14) ---------------------------------
# What SPARQLWrapper 2.0 sends (Wrapper.py _getRequestEncodedParameters / _getAcceptHeader): always
# format=, output= and results= holding the return format's word (json, xml, turtle, n3, rdf, rdf+xml, csv,
# tsv, json-ld) — for tsv, rdf+xml and json-ld a second value with the media type, or "" when its Accept is
# */*; and an Accept header by query form: SELECT/ASK → sparql-results+json|xml, text/csv, tsv, else */*;
# CONSTRUCT/DESCRIBE → turtle, n3 (a list), rdf+xml (for XML and RDFXML), ld+json, else */*.
BIAD = "https://www.ebi.ac.uk/biostudies/bioimages/studies/S-BIAD1002"
ORGANISM = "https://w3id.org/gide-kg/vocab#organism"
ECOLI = "http://purl.obolibrary.org/obo/NCBITaxon_562"
FORM_QUERIES = {
    "SELECT": f"SELECT ?t WHERE {{ <{BIAD}> <{ORGANISM}> ?t }}",
    "ASK": f"ASK {{ <{BIAD}> <{ORGANISM}> <{ECOLI}> }}",
    "CONSTRUCT": f"CONSTRUCT WHERE {{ <{BIAD}> <{ORGANISM}> ?t }}",
    "DESCRIBE": f"DESCRIBE <{BIAD}>",
}
SW_FORMATS = ["json", "xml", "turtle", "n3", "rdf", "rdf+xml", "csv", "tsv", "json-ld"]
# the Content-Type each combination is answered with: the format when it fits the form, else its sibling
# (xml → RDF/XML, json → JSON-LD for graphs), else what the Accept header (*/*) gets by default
GRAPH_TYPE = {
    "json": "application/ld+json",
    "xml": "application/rdf+xml",
    "turtle": "text/turtle",
    "n3": "text/n3",
    "rdf": "application/rdf+xml",
    "rdf+xml": "application/rdf+xml",
    "csv": "text/turtle",
    "tsv": "text/turtle",
    "json-ld": "application/ld+json",
}
RESULT_TYPE = {"xml": "application/sparql-results+xml", "csv": "text/csv", "tsv": "text/tab-separated-values"}


def _facts(form: str, converted, ctype: str):
    """What a converted SPARQLWrapper result says, whatever its format: organism IRIs, a boolean or triples."""
    if form in ("CONSTRUCT", "DESCRIBE"):
        if not isinstance(converted, rdflib.Graph):
            fmt = {"text/turtle": "turtle", "text/n3": "n3", "application/n-triples": "nt"}[ctype]
            converted = rdflib.Graph().parse(data=converted, format=fmt)
        return {(str(s), str(p), str(o)) for s, p, o in converted}
    if isinstance(converted, dict):
        return converted["boolean"] if form == "ASK" else {b["t"]["value"] for b in converted["results"]["bindings"]}
    if isinstance(converted, bytes):
        rows = converted.decode().split()
        return rows[-1] == "true" if form == "ASK" else {r.strip("<>") for r in rows[1:]}
    if form == "ASK":
        return converted.getElementsByTagName("boolean")[0].firstChild.data == "true"
    return {n.firstChild.data for n in converted.getElementsByTagName("uri")}


@pytest.mark.parametrize("form", list(FORM_QUERIES))
def test_sparqlwrapper_every_return_format(endpoint, form):
    import warnings

    for word in SW_FORMATS:
        sw = SPARQLWrapper(endpoint)
        sw.setQuery(FORM_QUERIES[form])
        sw.setReturnFormat(word)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # SPARQLWrapper warns when the format falls back
            result = sw.query()
            ctype = result.info()["content-type"].split(";")[0]
            facts = _facts(form, result.convert(), ctype)
        if form in ("CONSTRUCT", "DESCRIBE"):
            assert ctype == GRAPH_TYPE[word], (form, word, ctype)
            assert (BIAD, ORGANISM, ECOLI) in facts
            assert len(facts) == (1 if form == "CONSTRUCT" else len(facts)) and (form == "CONSTRUCT" or len(facts) > 10)
        else:
            assert ctype == RESULT_TYPE.get(word, "application/sparql-results+json"), (form, word, ctype)
            assert facts == (True if form == "ASK" else {ECOLI}), (form, word, facts)


def test_sparqlwrapper_default_format_on_graphs_issue_14(endpoint):
    """SPARQLWrapper(url) with no return format set (XML) on CONSTRUCT: RDF/XML, as Virtuoso answers."""
    sw = SPARQLWrapper(endpoint)
    sw.setQuery(FORM_QUERIES["CONSTRUCT"])
    g = sw.queryAndConvert()
    assert {(str(s), str(o)) for s, _, o in g} == {(BIAD, ECOLI)}
    r = requests.get(
        endpoint,
        params={"query": FORM_QUERIES["CONSTRUCT"], "format": "xml"},
        headers={"Accept": "application/rdf+xml"},
        timeout=30,
    )
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/rdf+xml")


def test_rdflib_sparqlstore_construct_and_ask(endpoint):
    store = SPARQLStore(endpoint)  # rdflib's defaults: XML results, RDF/XML graphs
    g = rdflib.Graph(store=store)
    assert g.query(FORM_QUERIES["ASK"]).askAnswer is True
    triples = set(g.query(FORM_QUERIES["CONSTRUCT"]))
    assert triples == {(rdflib.URIRef(BIAD), rdflib.URIRef(ORGANISM), rdflib.URIRef(ECOLI))}
    assert {str(r[0]) for r in g.query(FORM_QUERIES["SELECT"])} == {ECOLI}


# --- dataset: FROM / FROM NAMED and the protocol's graph parameters (issue #15 items 8, 10) -------------
def _count(endpoint, q, **params):
    r = requests.get(endpoint, params={"query": q, **params}, headers={"Accept": "application/json"}, timeout=30)
    assert r.status_code == 200, r.text
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


def test_from_follows_dataset_semantics(endpoint, harvested_store):
    prov = "https://w3id.org/gide-kg/graph/provenance"
    sizes = harvested_store.graph_sizes()
    every = "SELECT (COUNT(*) AS ?n) {} WHERE {{ ?s ?p ?o }}"
    assert _count(endpoint, every.format("")) == sum(sizes.values())
    assert _count(endpoint, every.format("FROM <http://nonexistent.example/>")) == 0
    assert _count(endpoint, every.format(f"FROM <{prov}>")) == sizes[prov]
    idr = "https://w3id.org/gide-kg/graph/idr"
    assert _count(endpoint, every.format(f"FROM <{prov}> FROM <{idr}>")) == sizes[prov] + sizes[idr]
    named = "SELECT (COUNT(*) AS ?n) {} WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    assert _count(endpoint, named.format(f"FROM NAMED <{idr}>")) == sizes[idr]
    assert _count(endpoint, named.format(f"FROM <{idr}>")) == 0  # FROM without FROM NAMED: no named graphs
    # the protocol's parameters override the query's dataset (SPARQL 1.1 Protocol §2.1.4)
    assert (
        _count(endpoint, every.format("FROM <http://nonexistent.example/>"), **{"default-graph-uri": idr}) == sizes[idr]
    )
    assert _count(endpoint, "PREFIX g: <https://w3id.org/gide-kg/graph/> " + every.format("FROM g:idr")) == sizes[idr]
    assert (
        _count(endpoint, every.format("FROM <https://w3id.org/gide-kg/graph/id\\u0072>")) == sizes[idr]
    )  # \u in an IRI


@pytest.mark.parametrize("bad", ["not an iri", "relative/graph", "http://a b/"])
def test_invalid_graph_parameter_is_400(endpoint, bad):
    for param in ("default-graph-uri", "named-graph-uri"):
        r = requests.get(endpoint, params={"query": "ASK {}", param: bad}, timeout=30)
        assert r.status_code == 400 and "graph IRI" in r.json()["message"], r.text


def test_head_answers_like_get(endpoint):
    r = requests.head(endpoint, params={"query": COUNT_QUERY}, headers={"Accept": "text/csv"}, timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv") and r.text == ""
    r = requests.head(endpoint, headers={"Accept": "text/turtle"}, timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/turtle")


def test_browser_with_a_query_gets_the_query_page(endpoint):
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    r = requests.get(endpoint, params={"query": COUNT_QUERY}, headers={"Accept": browser}, timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    for accept in ("*/*", "application/sparql-results+xml, text/html;q=0.5"):
        r = requests.get(endpoint, params={"query": COUNT_QUERY}, headers={"Accept": accept}, timeout=30)
        assert r.status_code == 200 and not r.headers["Content-Type"].startswith("text/html"), accept
