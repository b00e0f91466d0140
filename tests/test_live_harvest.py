"""The live path: a crate repository served over real HTTP (127.0.0.1), listed like the GitHub contents API.

The server serves the bundled IDR crates, byte for byte, with ETags, 304s and scripted failures, and
counts every request, so caching, conditional GETs and retries are observed on the wire.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pyoxigraph as ox
import pytest
from pyld import jsonld

from kg.harvest.http import Fetcher
from kg.jsonld_contexts import pyld_document_loader
from kg.pipeline import harvest_live
from kg.store import open_store

from crate_facts import CRATES, ROOT, crate_files

GRAPH = "https://w3id.org/gide-kg/graph/"
PROV_GRAPH = GRAPH + "provenance"
IDR_FILES = crate_files("idr")
NAME = "idr0003-ro-crate-metadata.json"
# Re-harvests and failures are shown on every 6th crate and idr0003 (22 files); the first harvest, which
# must equal the snapshot harvest's graph, serves all 127.
FEW = sorted({*IDR_FILES[::6], *(p for p in IDR_FILES if p.name == NAME)})
STUDY = "https://idr.openmicroscopy.org/study/idr0003/"


def git_blob_sha(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


class CrateRepository:
    """State of the fake crate repository, and a log of the requests it received."""

    def __init__(self, files: list):
        self.files = {p.name: p.read_bytes() for p in files}
        self.shas = {name: git_blob_sha(b) for name, b in self.files.items()}
        self.requests: list[tuple[str, str | None]] = []  # (path, If-None-Match)
        self.fail: dict[str, int] = {}  # file name → number of 503s still to answer
        self.listing_status = 200
        self.lock = threading.Lock()
        self.base = ""

    def etag(self, name: str) -> str:
        return f'"{hashlib.sha256(self.files[name]).hexdigest()[:32]}"'

    def listing(self) -> bytes:
        entries = [
            {
                "name": "README.md",
                "path": "ro-crates/README.md",
                "sha": "0" * 40,
                "size": 10,
                "type": "file",
                "download_url": f"{self.base}/raw/README.md",
            },
            {"name": "old", "path": "ro-crates/old", "sha": "1" * 40, "size": 0, "type": "dir", "download_url": None},
        ]
        for name in sorted(self.files):
            entries.append(
                {
                    "name": name,
                    "path": f"ro-crates/{name}",
                    "sha": self.shas[name],
                    "size": len(self.files[name]),
                    "type": "file",
                    "download_url": f"{self.base}/raw/{name}",
                }
            )
        return json.dumps(entries).encode()

    def raw_requests(self, name: str) -> list[str | None]:
        return [etag for path, etag in self.requests if path == f"/raw/{name}"]

    def reset_log(self) -> None:
        self.requests.clear()


def make_handler(repo: CrateRepository):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep the test output clean
            pass

        def _send(self, status: int, body: bytes = b"", headers: dict | None = None):
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            inm = self.headers.get("If-None-Match")
            with repo.lock:
                repo.requests.append((self.path, inm))
                if self.path == "/listing":
                    if repo.listing_status != 200:
                        return self._send(repo.listing_status, b'{"message": "Not Found"}')
                    return self._send(200, repo.listing(), {"Content-Type": "application/json"})
                if self.path.startswith("/raw/"):
                    name = self.path[len("/raw/") :]
                    if name not in repo.files:
                        return self._send(404)
                    if repo.fail.get(name, 0) > 0:
                        repo.fail[name] -= 1
                        return self._send(503, b"busy")
                    etag = repo.etag(name)
                    if inm == etag:
                        return self._send(304, b"", {"ETag": etag})
                    return self._send(200, repo.files[name], {"ETag": etag, "Content-Type": "application/json"})
                return self._send(404)

    return Handler


@pytest.fixture
def repo(request, monkeypatch):
    """The repository serving FEW crates, or those given by indirect parametrization."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    repo = CrateRepository(getattr(request, "param", FEW))
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(repo))
    repo.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield repo
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def live_source(sources, repo):
    return dataclasses.replace(
        sources["idr"], live={"listing": repo.base + "/listing", "suffix": "ro-crate-metadata.json"}
    )


def fetcher(**kw) -> Fetcher:
    kw.setdefault("backoff", 0.01)
    return Fetcher(**kw)


def count_studies(select, store) -> int:
    rows = select(store, f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH <{GRAPH}idr> {{ ?s a schema:Dataset }} }}")
    return int(rows[0]["n"].value)


def study_name(select, store) -> list[str]:
    return [
        r["n"].value for r in select(store, f"SELECT ?n WHERE {{ GRAPH <{GRAPH}idr> {{ <{STUDY}> schema:name ?n }} }}")
    ]


# -- first harvest ------------------------------------------------------------------------------------


@pytest.mark.parametrize("repo", [IDR_FILES], ids=["all-127"], indirect=True)
def test_first_live_harvest_downloads_and_loads_everything(repo, live_source, tmp_path, select, harvested_store):
    N = len(IDR_FILES)
    store = open_store(None)
    report = harvest_live(store, live_source, tmp_path / "cache", fetcher=fetcher())
    assert report.ok, report.error
    assert report.studies == N == 127
    assert report.live == {"listed": N, "downloaded": N, "unchanged": 0, "failed": 0, "stale": []}
    assert report.quarantined == []
    assert count_studies(select, store) == N
    # one listing request, then each crate once, unconditionally
    assert [p for p, _ in repo.requests] == ["/listing"] + [f"/raw/{p.name}" for p in IDR_FILES]
    assert all(etag is None for _, etag in repo.requests)
    # the cache holds the bytes as served, plus an index of sha / ETag
    cache = tmp_path / "cache" / "idr"
    assert (cache / NAME).read_bytes() == (CRATES / "idr" / NAME).read_bytes()
    index = json.loads((cache / "index.json").read_text())
    assert len(index) == N
    assert index[NAME]["sha"] == git_blob_sha((CRATES / "idr" / NAME).read_bytes())
    assert index[NAME]["etag"] == repo.etag(NAME)
    # served bytes are the snapshot bytes: the graph is exactly the snapshot harvest's idr graph
    live = {(q.subject, q.predicate, q.object) for q in store.quads(GRAPH + "idr")}
    snapshot = {(q.subject, q.predicate, q.object) for q in harvested_store.quads(GRAPH + "idr")}
    assert live == snapshot


def test_live_provenance_points_at_the_http_urls(repo, live_source, tmp_path, select):
    N = len(repo.files)
    store = open_store(None)
    report = harvest_live(store, live_source, tmp_path / "cache", fetcher=fetcher())
    rows = select(
        store,
        f"""SELECT ?rec ?loc ?etag ?sha ?run WHERE {{ GRAPH <{PROV_GRAPH}> {{
            <{STUDY}> prov:wasDerivedFrom ?rec . ?rec prov:atLocation ?loc ; kg:etag ?etag ; kg:sha256 ?sha ; prov:wasGeneratedBy ?run }} }}""",
    )
    assert len(rows) == 1
    row = rows[0]
    assert isinstance(row["loc"], ox.NamedNode)
    assert row["loc"].value == f"{repo.base}/raw/{NAME}"
    assert row["etag"].value == repo.etag(NAME)
    assert row["sha"].value == hashlib.sha256(repo.files[NAME]).hexdigest()
    assert row["run"].value == report.run_iri
    rows = select(
        store, f"SELECT ?loc WHERE {{ GRAPH <{PROV_GRAPH}> {{ ?rec a kg:SourceRecord ; prov:atLocation ?loc }} }}"
    )
    assert len(rows) == N and all(r["loc"].value.startswith(repo.base + "/raw/") for r in rows)


# -- re-harvests ----------------------------------------------------------------------------------------


def test_second_harvest_downloads_nothing(repo, live_source, tmp_path, select):
    N = len(repo.files)
    store = open_store(None)
    harvest_live(store, live_source, tmp_path / "cache", fetcher=fetcher())
    repo.reset_log()
    report = harvest_live(store, live_source, tmp_path / "cache", fetcher=fetcher())
    assert report.ok and report.studies == N
    assert report.live == {"listed": N, "downloaded": 0, "unchanged": N, "failed": 0, "stale": []}
    assert repo.requests == [("/listing", None)]
    assert count_studies(select, store) == N


def test_changed_file_is_downloaded_again(repo, live_source, tmp_path, select):
    N = len(repo.files)
    store = open_store(None)
    harvest_live(store, live_source, tmp_path / "cache", fetcher=fetcher())
    old_etag = repo.etag(NAME)
    assert study_name(select, store) == [
        "A novel single-cell screening platform reveals proteome plasticity during yeast stress responses."
    ]
    doc = json.loads(repo.files[NAME])
    next(n for n in doc["@graph"] if n["@id"] == STUDY)["name"] = "Renamed upstream"
    repo.files[NAME] = json.dumps(doc).encode()
    repo.shas[NAME] = git_blob_sha(repo.files[NAME])
    repo.reset_log()
    report = harvest_live(store, live_source, tmp_path / "cache", fetcher=fetcher())
    assert report.ok and report.studies == N
    assert report.live == {"listed": N, "downloaded": 1, "unchanged": N - 1, "failed": 0, "stale": []}
    # only the changed entry was fetched, conditionally on the ETag of the cached copy
    assert repo.requests == [("/listing", None), (f"/raw/{NAME}", old_etag)]
    assert study_name(select, store) == ["Renamed upstream"]
    assert count_studies(select, store) == N
    assert (tmp_path / "cache" / "idr" / NAME).read_bytes() == repo.files[NAME]


def test_new_sha_with_same_etag_is_a_304(repo, live_source, tmp_path, select):
    N = len(repo.files)
    store = open_store(None)
    harvest_live(store, live_source, tmp_path / "cache", fetcher=fetcher())
    repo.shas[NAME] = "f" * 40  # the listing says "changed", the server says "not modified"
    repo.reset_log()
    report = harvest_live(store, live_source, tmp_path / "cache", fetcher=fetcher())
    assert report.live == {"listed": N, "downloaded": 0, "unchanged": N, "failed": 0, "stale": []}
    assert repo.requests == [("/listing", None), (f"/raw/{NAME}", repo.etag(NAME))]
    assert count_studies(select, store) == N


# -- failures -------------------------------------------------------------------------------------------


def test_transient_503_is_retried(repo, live_source, tmp_path, select):
    N = len(repo.files)
    repo.fail[NAME] = 2
    store = open_store(None)
    report = harvest_live(store, live_source, tmp_path / "cache", fetcher=fetcher())
    assert report.ok and report.studies == N
    assert report.live == {"listed": N, "downloaded": N, "unchanged": 0, "failed": 0, "stale": []}
    assert len(repo.raw_requests(NAME)) == 3  # 503, 503, 200
    assert repo.fail[NAME] == 0
    assert study_name(select, store) != []


def test_persistent_503_quarantines_that_file_only(repo, live_source, tmp_path, select):
    N = len(repo.files)
    repo.fail[NAME] = 100
    store = open_store(None)
    report = harvest_live(store, live_source, tmp_path / "cache", fetcher=fetcher(retries=2))
    assert report.ok
    assert report.studies == N - 1
    assert report.live == {"listed": N, "downloaded": N - 1, "unchanged": 0, "failed": 1, "stale": []}
    assert len(repo.raw_requests(NAME)) == 3
    assert [(q.record.name, q.reason) for q in report.quarantined] == [
        (NAME, f"download failed: {repo.base}/raw/{NAME}: gave up after 3 attempts (HTTP 503)")
    ]
    assert study_name(select, store) == []
    rows = select(
        store,
        f'SELECT ?r WHERE {{ GRAPH <{PROV_GRAPH}> {{ ?rec a kg:QuarantinedRecord ; kg:fileName "{NAME}" ; kg:quarantineReason ?r }} }}',
    )
    assert [r["r"].value for r in rows] == [report.quarantined[0].reason]


def test_failed_download_keeps_the_cached_copy(repo, live_source, tmp_path, select):
    N = len(repo.files)
    store = open_store(None)
    harvest_live(store, live_source, tmp_path / "cache", fetcher=fetcher())
    repo.shas[NAME] = "e" * 40
    repo.files[NAME] = repo.files[NAME] + b"\n"
    repo.fail[NAME] = 100
    report = harvest_live(store, live_source, tmp_path / "cache", fetcher=fetcher(retries=1))
    assert report.ok and report.studies == N and report.records == N
    assert report.live["failed"] == 0 and report.live["downloaded"] == 0
    assert [x.split(":", 1)[0] for x in report.live["stale"]] == [NAME]
    assert report.quarantined == []  # the last good copy is used, not quarantined
    types = select(store, f'SELECT ?t WHERE {{ GRAPH <{PROV_GRAPH}> {{ ?rec kg:fileName "{NAME}" ; a ?t }} }}')
    assert sorted(r["t"].value for r in types) == [
        "http://www.w3.org/ns/prov#Entity",
        "https://w3id.org/gide-kg/vocab#SourceRecord",
    ]
    assert study_name(select, store) == [
        "A novel single-cell screening platform reveals proteome plasticity during yeast stress responses."
    ]
    assert (tmp_path / "cache" / "idr" / NAME).read_bytes() == (CRATES / "idr" / NAME).read_bytes()


def test_listing_404_fails_and_keeps_the_previous_graph(repo, live_source, tmp_path, select):
    N = len(repo.files)
    store = open_store(None)
    first = harvest_live(store, live_source, tmp_path / "cache", fetcher=fetcher())
    assert first.ok
    repo.listing_status = 404
    repo.reset_log()
    report = harvest_live(store, live_source, tmp_path / "cache", fetcher=fetcher())
    assert not report.ok
    assert report.error == f"cannot read the listing {repo.base}/listing: {repo.base}/listing: HTTP 404"
    assert repo.requests == [("/listing", None)]  # a 404 is not retried
    assert count_studies(select, store) == N
    rows = select(
        store,
        f"""SELECT ?run ?status WHERE {{ GRAPH <{PROV_GRAPH}> {{ ?run a kg:HarvestRun ; kg:harvestSource "idr" ; kg:status ?status }} }}""",
    )
    assert {r["run"].value: r["status"].value for r in rows} == {first.run_iri: "succeeded", report.run_iri: "failed"}
    rows = select(store, f"SELECT ?e WHERE {{ GRAPH <{PROV_GRAPH}> {{ <{report.run_iri}> kg:error ?e }} }}")
    assert [r["e"].value for r in rows] == [report.error]


def test_listing_that_is_not_an_array_fails(repo, live_source, tmp_path):
    source = dataclasses.replace(live_source, live={"listing": f"{repo.base}/raw/{NAME}"})
    report = harvest_live(open_store(None), source, tmp_path / "cache", fetcher=fetcher())
    assert report.error == f"listing {repo.base}/raw/{NAME} is not a JSON array"


def test_no_listing_configured_fails(sources, tmp_path):
    report = harvest_live(open_store(None), dataclasses.replace(sources["idr"], live={}), tmp_path / "cache")
    assert report.error == "no live listing URL configured"


# -- JSON-LD contexts, offline -----------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a socket to anywhere fails the test."""

    def refuse(self, address):
        raise AssertionError(f"network access attempted: {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


def test_document_loader_serves_the_bundled_context(no_network):
    bundled = json.loads((ROOT / "data/contexts/ro-crate-1.2-context.jsonld").read_text(encoding="utf-8"))
    doc = pyld_document_loader("https://w3id.org/ro/crate/1.2/context")
    assert doc["document"] == bundled
    assert doc["documentUrl"] == "https://w3id.org/ro/crate/1.2/context"
    assert doc["contentType"] == "application/ld+json"
    assert doc["document"]["@context"]["Dataset"] == "http://schema.org/Dataset"
    # http and a trailing slash name the same context
    assert pyld_document_loader("http://w3id.org/ro/crate/1.2/context/")["document"] == bundled
    bundled_11 = json.loads((ROOT / "data/contexts/ro-crate-1.1-context.jsonld").read_text(encoding="utf-8"))
    assert pyld_document_loader("https://w3id.org/ro/crate/1.1/context")["document"] == bundled_11


def test_document_loader_refuses_unknown_urls(no_network):
    with pytest.raises(jsonld.JsonLdError) as e:
        pyld_document_loader("https://example.org/some/context.jsonld")
    assert "https://example.org/some/context.jsonld" in str(e.value)
    assert "not bundled" in str(e.value)


def test_pyld_expands_a_real_crate_offline(no_network):
    doc = json.loads((CRATES / "idr" / NAME).read_text(encoding="utf-8"))
    expanded = jsonld.expand(doc, options={"documentLoader": pyld_document_loader})
    nodes = {n["@id"]: n for n in expanded if "@id" in n}
    root = nodes[STUDY]
    assert root["@type"] == ["http://schema.org/Dataset"]
    assert root["http://schema.org/name"] == [
        {"@value": "A novel single-cell screening platform reveals proteome plasticity during yeast stress responses."}
    ]
    assert root["http://www.w3.org/2000/01/rdf-schema#seeAlso"] == [{"@id": "https://doi.org/10.1083/jcb.201301120"}]
    assert {"@id": "http://purl.obolibrary.org/obo/NCBITaxon_4932"} in root["http://schema.org/about"]
    assert len(expanded) == len(doc["@graph"])


def test_pyld_refuses_a_crate_with_an_unknown_remote_context(no_network):
    doc = json.loads((CRATES / "idr" / NAME).read_text(encoding="utf-8"))
    doc["@context"][0] = "https://example.org/no-such/context.jsonld"
    with pytest.raises(jsonld.JsonLdError):
        jsonld.expand(doc, options={"documentLoader": pyld_document_loader})
