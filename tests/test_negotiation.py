"""One negotiation: kg/formats.py chooses result formats without a request; every page's JSON twin follows
one rule (`?format=json`, or an Accept header preferring JSON to HTML) — checked over real HTTP."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
import requests

from kg.formats import best_match, choose, lookup

from _server import running_app


@pytest.mark.parametrize(
    "kind,accept,words,expected",
    [
        ("solutions", None, [], ox.QueryResultsFormat.JSON),
        ("solutions", "text/csv;q=0.5, application/sparql-results+xml", [], ox.QueryResultsFormat.XML),
        ("solutions", "application/json", [], ox.QueryResultsFormat.JSON),  # an alias pyoxigraph knows
        ("solutions", "text/*", [], ox.QueryResultsFormat.CSV),
        ("solutions", "image/png", [], None),  # 406
        ("solutions", "image/png", ["turtle"], ox.QueryResultsFormat.JSON),  # a word that does not fit: the default
        ("boolean", "*/*", ["tsv", "text/tab-separated-values"], ox.QueryResultsFormat.TSV),
        ("graph", "*/*", ["xml"], ox.RdfFormat.RDF_XML),
        ("graph", "*/*", ["json"], ox.RdfFormat.JSON_LD),
        ("graph", "*/*", ["rdf+xml", "application/rdf+xml"], ox.RdfFormat.RDF_XML),
        ("graph", "*/*", ["csv"], ox.RdfFormat.TURTLE),
        ("graph", "application/x-json+ld", [], ox.RdfFormat.JSON_LD),
        ("graph", "text/plain", [], ox.RdfFormat.N_TRIPLES),
        ("graph", "application/sparql-results+json", [], None),
    ],
)
def test_choose(kind, accept, words, expected):
    assert choose(kind, accept, words) == expected


def test_best_match_follows_q_then_specificity_then_offer_order():
    offers = ["text/html", "application/json"]
    assert best_match("application/json;q=0.9, text/html;q=0.8", offers) == "application/json"
    assert best_match("*/*;q=0.5, application/json", offers) == "application/json"
    assert best_match("*/*", offers) == "text/html"
    assert best_match("", offers) == "text/html"
    assert best_match("image/png", offers) is None
    assert lookup("graph", "ttl") == ox.RdfFormat.TURTLE and lookup("solutions", "ttl") is None


@pytest.fixture(scope="module")
def site(harvested_store):
    with running_app(harvested_store) as base:
        yield base


@pytest.mark.parametrize("path", ["/", "/queries", "/provenance", "/quality"])
def test_every_json_twin_follows_one_rule(site, path):
    as_json = [
        requests.get(site + path, params={"format": "json"}, timeout=60),
        requests.get(site + path, headers={"Accept": "application/json"}, timeout=60),
        requests.get(site + path, headers={"Accept": "text/html;q=0.5, application/json"}, timeout=60),
    ]
    for r in as_json:
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json"), (
            path,
            r.request.headers,
        )
    for accept in ("text/html", "text/html, application/json;q=0.9", "*/*"):
        r = requests.get(site + path, headers={"Accept": accept}, timeout=60)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html"), (path, accept)
