"""Lookups (one triple pattern, kg/sparql_text.is_lookup) are answered by the serving process, without a
query worker: which queries are lookups is decided on their tokens; the answer is byte for byte the one a
worker writes, in every result format, under the cap and cut by it; a lookup with more solutions than the
bound is handed to a worker; and the response cache's "volatile" decision comes from the same tokens.

Real parts: IDR's 127 crates harvested into an on-disk store (conftest's `idr_store_dir`, opened read-only)
and the two renderers the paths use. That a lookup needs no worker on a served site is shown in
test_query_limits (`test_lookups_are_answered_while_every_worker_is_busy`)."""

from __future__ import annotations

import json

import pytest

from kg.serve.guard import check_query
from kg.serve.sparql import LOOKUP_ROWS
from kg.serve.sparql_results import render, render_small
from kg.sparql_text import structure
from kg.store import open_store

from expected import STUDIES

STUDY = "https://idr.openmicroscopy.org/study/idr0003/"
JSON_RESULTS = "application/sparql-results+json"
DATASETS = "SELECT ?s WHERE { ?s a <http://schema.org/Dataset> }"

LOOKUPS = [
    'SELECT ?s WHERE { ?s <http://schema.org/identifier> "idr0003" }',
    f"select * {{ <{STUDY}> ?p ?o . }} LIMIT 5",
    "PREFIX schema: <http://schema.org/> BASE <http://x/> SELECT ?s $n WHERE { ?s schema:name ?n }",
    'SELECT ?s { ?s ?p "zebrafish"@en }',
    'SELECT ?s { ?s ?p "2016-04-27"^^<http://www.w3.org/2001/XMLSchema#date> }',
    "SELECT ?s { ?s a <http://schema.org/Dataset> }",
    "ASK { ?s ?p true }",
    "ASK {}",
    "SELECT ?s { ?s ?p 42 } # a comment { ?x ?y ?z . ?a ?b ?c }",
]
NOT_LOOKUPS = [
    "SELECT DISTINCT ?p WHERE { ?s ?p ?o }",  # holds back every repeated solution
    "SELECT ?s WHERE { ?s ?s ?o }",  # a repeated variable: any number of quads between two solutions
    "SELECT ?s WHERE { ?s ?p ?o } OFFSET 1000000",
    "SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s",
    "SELECT ?s WHERE { ?s ?p ?o . ?o ?q ?r }",
    "SELECT ?s WHERE { ?s <http://schema.org/about>/<http://schema.org/name> ?o }",
    "SELECT ?s WHERE { ?s ?p [] }",
    "SELECT ?s WHERE { _:b ?p ?o }",
    "SELECT ?s FROM <https://w3id.org/gide-kg/graph/idr> WHERE { ?s ?p ?o }",
    "SELECT ?s WHERE { ?s ?p ?o FILTER(isIRI(?o)) }",
    "SELECT ?s WHERE { { ?s ?p ?o } }",
    "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
    "SELECT ?s WHERE { ?s ?p ?o } LIMIT 10 OFFSET 1",
    "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "DESCRIBE <https://idr.openmicroscopy.org/study/idr0003/>",
    "SELECT ?s WHERE { ?s A ?o }",  # `a` is lower case only: not the parser's rdf:type
    'SELECT ?s WHERE { ?s <http://schema.org/identifier> "idr\\u0030003" }',  # \u escapes: no shortcut
]


@pytest.mark.parametrize("query", LOOKUPS)
def test_lookups_are_found_on_the_tokens(query):
    assert check_query(query).lookup


@pytest.mark.parametrize("query", NOT_LOOKUPS)
def test_other_queries_are_not_lookups(query):
    assert not check_query(query).lookup


def test_service_is_never_part_of_a_lookup():
    assert not structure("SELECT ?s WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }").lookup


def test_volatile_calls_are_found_on_the_tokens():
    assert check_query("SELECT (RAND() AS ?r) WHERE {}").volatile
    assert check_query("SELECT ?s WHERE { ?s ?p ?o BIND(struuid() AS ?u) }").volatile
    assert check_query("SELECT (\\u0052AND() AS ?r) WHERE {}").volatile  # what the parser reads after escapes
    assert not check_query('SELECT ?s WHERE { ?s ?p "rand() now()" } # uuid()').volatile


@pytest.fixture(scope="module")
def store(idr_store_dir):
    return open_store(idr_store_dir, read_only=True)


@pytest.mark.parametrize(
    "accept, words",
    [(JSON_RESULTS, []), (None, ["xml"]), ("text/csv", []), ("text/tab-separated-values", []), (None, ["json"])],
)
@pytest.mark.parametrize("cap", [None, 3, 1000])
def test_a_lookup_answered_in_process_is_the_workers_answer(store, accept, words, cap):
    # (query, more than 3 solutions): a study's statements, one study, every study
    for query, many in ((f"SELECT ?p ?o WHERE {{ <{STUDY}> ?p ?o }}", True), (LOOKUPS[0], False), (DATASETS, True)):
        worker = render(store.query(query), accept, words, cap)  # what a query worker sends back
        assert render_small(store.query(query), accept, words, cap, LOOKUP_ROWS) == worker
        assert worker[0] == "200" and worker[3] == (cap == 3 and many)


def test_the_study_s_statements_come_back_whole(store):
    status, body, ctype, cut = render_small(
        store.query(f"SELECT ?p ?o WHERE {{ <{STUDY}> ?p ?o }}"), JSON_RESULTS, [], None, LOOKUP_ROWS
    )
    rows = json.loads(body)["results"]["bindings"]
    assert (status, ctype, cut) == ("200", "application/sparql-results+json; charset=utf-8", False)
    assert {
        "p": {"type": "uri", "value": "http://schema.org/identifier"},
        "o": {"type": "literal", "value": "idr0003"},
    } in rows


def test_a_lookup_over_the_bound_goes_to_a_worker(store):
    n = STUDIES["idr"]  # one schema:Dataset per crate
    status, body, _, _ = render_small(store.query(DATASETS), JSON_RESULTS, [], None, n)
    assert status == "200" and len(json.loads(body)["results"]["bindings"]) == n
    assert render_small(store.query(DATASETS), JSON_RESULTS, [], None, n - 1) is None
