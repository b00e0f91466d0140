"""Dumps (re-load with the same counts), VoID and DCAT descriptions, content negotiation."""

from __future__ import annotations

import gzip
import hashlib
import json

import pyoxigraph as ox
import pytest
import rdflib
import requests

from kg.store.dumps import write_dumps

from expected import STUDIES


@pytest.fixture(scope="module")
def dumps(full_store, sources, tmp_path_factory):
    folder = tmp_path_factory.mktemp("dumps")
    entries = write_dumps(full_store, folder, sources)
    return folder, entries


@pytest.fixture(scope="module")
def base(full_store, sources, dumps):
    from kg.serve.app import create_app  # noqa: F401  (running_app builds it)

    app_args = {"dumps_dir": dumps[0]}
    import threading

    from werkzeug.serving import make_server

    app = create_app(full_store, sources, **app_args)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_dumps_reload_with_the_same_counts(full_store, dumps):
    folder, entries = dumps
    whole = next(e for e in entries if e["file"] == "gide-kg.nq.gz")
    fresh = ox.Store()
    fresh.load(gzip.decompress((folder / "gide-kg.nq.gz").read_bytes()), format=ox.RdfFormat.N_QUADS)
    public = sum(1 for g in full_store.public_graphs() for _ in full_store.store.quads_for_pattern(None, None, None, g))
    assert len(fresh) == whole["quads"] == public
    for e in entries:
        if e["graph"] and e["format"] == "application/n-quads":
            s = ox.Store()
            s.load(gzip.decompress((folder / e["file"]).read_bytes()), format=ox.RdfFormat.N_QUADS)
            assert (
                len(s)
                == e["quads"]
                == sum(1 for _ in full_store.store.quads_for_pattern(None, None, None, ox.NamedNode(e["graph"])))
            )
        if e["graph"] and e["format"] == "text/turtle":
            text = gzip.decompress((folder / e["file"]).read_bytes())
            assert sum(1 for _ in ox.parse(text, format=ox.RdfFormat.TURTLE)) == e["triples"]
            if e["triples"] < 15_000:  # and a second parser, rdflib, on the smaller graphs (it is ~50x slower)
                assert len(rdflib.Graph().parse(data=text, format="turtle")) == e["triples"]
        assert hashlib.sha256((folder / e["file"]).read_bytes()).hexdigest() == e["sha256"]


def test_downloads_page_and_files(base, dumps):
    folder, entries = dumps
    listing = requests.get(base + "/downloads", params={"format": "json"}, timeout=30).json()
    assert [d["file"] for d in listing["dumps"]] == [e["file"] for e in entries]
    r = requests.get(base + "/downloads/idr.nq.gz", timeout=30)
    assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == next(
        e["sha256"] for e in entries if e["file"] == "idr.nq.gz"
    )
    assert requests.get(base + "/downloads/dumps.json", timeout=30).status_code == 404
    assert requests.get(base + "/downloads/..%2F..%2Fetc%2Fpasswd", timeout=30).status_code == 404
    html = requests.get(base + "/downloads", headers={"Accept": "text/html"}, timeout=30).text
    assert "gide-kg.nq.gz" in html and entries[0]["sha256"] in html


def test_void_counts_match_sparql(base, full_store):
    r = requests.get(base + "/.well-known/void", headers={"Accept": "text/turtle"}, timeout=30)
    assert r.headers["Content-Type"].startswith("text/turtle")
    g = rdflib.Graph().parse(data=r.text, format="turtle")
    void = rdflib.Namespace("http://rdfs.org/ns/void#")
    kg = rdflib.Namespace("https://w3id.org/gide-kg/vocab#")
    for ds in g.subjects(kg.namedGraph, rdflib.URIRef("https://w3id.org/gide-kg/graph/idr")):
        if (ds, rdflib.RDF.type, void.Dataset) in g:
            triples = int(g.value(ds, void.triples))
            n = int(
                next(
                    iter(
                        full_store.query(
                            "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <https://w3id.org/gide-kg/graph/idr> { ?s ?p ?o } }"
                        )
                    )
                )["n"].value
            )
            assert triples == n
            parts = {
                str(g.value(p, void["class"])): int(g.value(p, void.entities))
                for p in g.objects(ds, void.classPartition)
            }
            assert parts["http://schema.org/Dataset"] == STUDIES["idr"]
    linksets = list(g.subjects(rdflib.RDF.type, void.Linkset))
    assert any(g.value(ls, void.linkPredicate) == kg.sameDataAs for ls in linksets)
    jsonld = requests.get(base + "/.well-known/void", headers={"Accept": "application/ld+json"}, timeout=30)
    assert jsonld.headers["Content-Type"].startswith("application/ld+json") and json.loads(jsonld.text)


def test_dcat_catalogue(base, dumps):
    folder, entries = dumps
    g = rdflib.Graph().parse(
        data=requests.get(base + "/catalog", params={"format": "ttl"}, timeout=30).text, format="turtle"
    )
    dcat = rdflib.Namespace("http://www.w3.org/ns/dcat#")
    datasets = set(g.objects(None, dcat.dataset))
    titles = {str(g.value(d, rdflib.DCTERMS.title)) for d in datasets}
    assert {"BioImage Archive", "Image Data Resource", "SSBD:database", "SSBD:repository"} <= titles
    bia = next(d for d in datasets if str(g.value(d, rdflib.DCTERMS.title)) == "BioImage Archive")
    urls = {str(g.value(dist, dcat.downloadURL)) for dist in g.objects(bia, dcat.distribution)}
    assert urls == {base + "/downloads/bia.nq.gz", base + "/downloads/bia.ttl.gz"}
    assert (
        requests.get(base + "/catalog", headers={"Accept": "text/html"}, timeout=30)
        .headers["Content-Type"]
        .startswith("text/html")
    )
    assert requests.get(base + "/catalog", params={"format": "docx"}, timeout=30).status_code == 400
    # every dump of a source graph is a distribution with the manifest's size and checksum
    by_file = {e["file"]: e for e in entries}
    for dist in g.objects(bia, dcat.distribution):
        e = by_file[str(dist).rsplit("/", 1)[-1]]
        assert int(g.value(dist, dcat.byteSize)) == e["bytes"]
        assert str(g.value(dist, rdflib.URIRef("http://spdx.org/rdf/terms#checksum"))) == "sha256:" + e["sha256"]
    assert str(g.value(bia, rdflib.DCTERMS.description)).startswith(f"{STUDIES['bia']} studies harvested from")


def test_dcat_rows_cannot_change_the_query(full_store, sources):
    """Configuration values reach the catalogue's query as RDF terms: quotes and braces stay text."""
    from dataclasses import replace

    from kg.serve.dcat import dcat_triples

    hostile = '" ) } } ; DROP ALL ; SELECT * { ?s ?p ?o } #'
    triples = dcat_triples(full_store, "http://127.0.0.1:1", {"bia": replace(sources["bia"], label=hostile)}, None)
    titles = {t.object.value for t in triples if t.predicate.value == "http://purl.org/dc/terms/title"}
    assert hostile in titles
    assert sum(1 for _ in full_store.store.quads_for_pattern(None, None, None)) > 0
