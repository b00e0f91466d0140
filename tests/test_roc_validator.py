"""Exported crates pass roc-validator's RO-Crate 1.2 checks, offline.

roc-validator fetches the RO-Crate context over HTTP (through its requests cache, and through rdflib's
urllib loader). Here a local HTTP server on 127.0.0.1 replays the bundled copy of that context: the
validator's cache is primed from it and urllib requests for the context URL are sent to it.
"""

from __future__ import annotations

import functools
import json
import threading
import urllib.error
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from requests.adapters import HTTPAdapter
from requests_cache import CachedSession

from kg.export.rocrate import crate_for, studies_of
from kg.namespaces import GRAPH

ROOT = Path(__file__).resolve().parent.parent
CONTEXT_URL = "https://w3id.org/ro/crate/1.2/context"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def validator(tmp_path_factory):
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(ROOT / "data" / "contexts")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    local = f"http://127.0.0.1:{server.server_port}/ro-crate-1.2-context.jsonld"

    class ToLocal(HTTPAdapter):
        def send(self, request, **kw):
            replay = request.copy()
            replay.url = local
            resp = super().send(replay, **kw)
            resp.url, resp.request = request.url, request
            return resp

    cache = tmp_path_factory.mktemp("roc-cache") / "http-cache"
    session = CachedSession(cache_name=str(cache), backend="sqlite")
    session.mount("https://w3id.org/", ToLocal())
    assert session.get(CONTEXT_URL).status_code == 200  # the validator's cache now holds the context

    class Replay(urllib.request.BaseHandler):
        def https_open(self, req):
            if req.full_url.rstrip("/") == CONTEXT_URL:
                return urllib.request.urlopen(local)
            raise urllib.error.URLError(f"no network in tests: {req.full_url}")

    urllib.request.install_opener(urllib.request.build_opener(Replay(), urllib.request.HTTPHandler()))
    # roc-validator runs its profiles' SHACL-SPARQL constraints through pyshacl and rdflib, which parses the
    # same ~100 query texts again for every crate (pyparsing: ~80 % of a validation). While this module runs,
    # rdflib keeps each parsed and translated query (its prepared-query form) and evaluates it as before.
    from rdflib.plugins.sparql import processor
    from rocrate_validator import models, services

    prepared: dict = {}

    def query(self, strOrQuery, initBindings=None, initNs=None, base=None, DEBUG=False):
        if isinstance(strOrQuery, str):
            key = (strOrQuery, base, tuple(sorted((k, str(v)) for k, v in (initNs or {}).items())))
            if key not in prepared:
                prepared[key] = processor.translateQuery(processor.parseQuery(strOrQuery), base, initNs)
            strOrQuery = prepared[key]
        return processor.evalQuery(self.graph, strOrQuery, initBindings, base)

    patch = pytest.MonkeyPatch()
    patch.setattr(processor.SPARQLProcessor, "query", query)

    def validate(folder: Path):
        settings = services.ValidationSettings(
            rocrate_uri=str(folder),
            profile_identifier="ro-crate-1.2",
            requirement_severity=models.Severity.REQUIRED,
            offline=True,
            cache_path=cache,
        )
        result = services.validate(settings)
        return result.passed(), [(i.check.identifier if i.check else None, str(i.message)) for i in result.get_issues()]

    yield validate
    patch.undo()
    urllib.request.install_opener(None)
    server.shutdown()


def write_crate(folder: Path, crate: dict) -> Path:
    folder.mkdir(parents=True)
    (folder / "ro-crate-metadata.json").write_text(json.dumps(crate, indent=1, ensure_ascii=False))
    return folder


@pytest.mark.parametrize("source", ["bia", "idr", "ssbd-database", "ssbd-repository"])
def test_exported_crates_pass_roc_validator(harvested_store, validator, tmp_path, source):
    studies = studies_of(harvested_store, GRAPH + source)
    # one crate per source: a validation takes seconds (roc-validator loads and runs its SHACL profiles each
    # time); every export is checked against the GIDE shapes and gide-search's expectations elsewhere
    for study, ident in [studies[len(studies) // 2]]:
        folder = write_crate(tmp_path / ident, crate_for(harvested_store, study, GRAPH + source))
        passed, issues = validator(folder)
        assert passed, (ident, issues)


def test_roc_validator_really_checks(harvested_store, validator, tmp_path):
    crate = crate_for(harvested_store, "https://idr.openmicroscopy.org/study/idr0003/", GRAPH + "idr")
    root = next(n for n in crate["@graph"] if n["@id"] == "https://idr.openmicroscopy.org/study/idr0003/")
    del root["datePublished"]
    passed, issues = validator(write_crate(tmp_path / "broken", crate))
    assert not passed and any("datePublished" in message for _, message in issues)
