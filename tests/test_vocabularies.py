"""The vocabulary data behind the term pages: valid against its schema, and covering every predicate
and class the harvested graph uses (so no predicate link on a page is a dead end)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from jsonschema import Draft202012Validator

from kg.serve.term_page import VOCABULARIES, vocabulary_entry

SCHEMA = Path(VOCABULARIES).with_name("vocabularies.schema.json")


def test_vocabularies_match_their_schema():
    data = tomllib.loads(Path(VOCABULARIES).read_text(encoding="utf-8"))
    errors = sorted(e.message for e in Draft202012Validator(json.loads(SCHEMA.read_text())).iter_errors(data))
    assert errors == []
    prefixes = set(data["namespaces"])
    assert {curie.split(":", 1)[0] for curie in data["terms"]} <= prefixes  # every term's prefix is declared


def test_every_term_the_graph_uses_has_a_vocabulary(harvested_store):
    used = {r["x"].value for r in harvested_store.query("SELECT DISTINCT ?x WHERE { { ?s ?x ?o } UNION { ?s a ?x } }")}
    missing = sorted(x for x in used if vocabulary_entry(x) is None)
    assert missing == []
    # the terms the issue named each have a definition, not only a vocabulary
    for curie_iri in (
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
        "http://www.w3.org/2000/01/rdf-schema#subClassOf",
        "http://schema.org/identifier",
        "http://rs.tdwg.org/dwc/terms/vernacularName",
        "http://www.w3.org/ns/shacl#focusNode",
        "https://w3id.org/gide-kg/vocab#subClassOfOrSelf",
    ):
        assert vocabulary_entry(curie_iri)["definition"]
