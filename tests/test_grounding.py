"""Grounding of text-only organism / method values, the SSSOM table, curator overrides, the report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from _process import run_kg

from kg.config import load_sources
from kg.terms import TermIndex
from kg.terms.ground import candidates, decide
from kg.terms.grounding import GROUNDING_GRAPH, MANUAL, decide_all, read_table, report, text_values, write_table

ROOT = Path(__file__).resolve().parent.parent
KG = "https://w3id.org/gide-kg/vocab#"
FBBI = "http://purl.obolibrary.org/obo/FBbi_"
TAXON = "http://purl.obolibrary.org/obo/NCBITaxon_"


@pytest.fixture(scope="module")
def index(full_store):
    return TermIndex.from_store(full_store)


# A reviewed sample: each text, the ontologies it is grounded in, and the right answer (None = must stay ungrounded).
REVIEWED = [
    ("Mus muculus", ["ncbitaxon"], TAXON + "10090"),  # SSBD's typo
    ("mouse", ["ncbitaxon"], TAXON + "10090"),
    ("Homo sapiens", ["ncbitaxon"], TAXON + "9606"),
    ("Escherichia coli", ["ncbitaxon"], TAXON + "562"),
    ("Saccharomyces cerevisiae", ["ncbitaxon"], TAXON + "4932"),
    ("Danio rerio", ["ncbitaxon"], TAXON + "7955"),
    ("zebrafish", ["ncbitaxon"], TAXON + "7955"),
    ("Drosophila melanogaster", ["ncbitaxon"], TAXON + "7227"),
    ("confocal microscopy", ["fbbi"], FBBI + "00000251"),
    ("Confocal Microscopy", ["fbbi"], FBBI + "00000251"),
    ("fluorescence microscopy", ["fbbi"], FBBI + "00000246"),
    ("spinning disk confocal microscopy", ["fbbi"], FBBI + "00000253"),
    ("SPIM", ["fbbi"], FBBI + "00000369"),
    ("bright-field microscopy", ["fbbi"], FBBI + "00000243"),
    ("brightfield microscopy", ["fbbi"], FBBI + "00000243"),
    ("scanning electron microscopy", ["fbbi"], FBBI + "00000257"),
    ("wide-field microscopy", ["fbbi"], None),  # dark-field / bright-field are close but wrong: not decisive
    ("image stitching", ["fbbi"], None),
    ("imaging mass cytometry", ["fbbi"], None),
]


@pytest.mark.parametrize("text,ontologies,expected", REVIEWED)
def test_reviewed_sample_has_no_wrong_grounding(index, text, ontologies, expected):
    chosen = decide(candidates(index, text, ontologies))
    assert (chosen.term.iri if chosen else None) == expected


def test_text_values_are_grounded_or_listed(full_store, index):
    values = text_values(full_store)
    assert len(values) == 25 and {v.graph for v in values} == {"https://w3id.org/gide-kg/graph/idr-study"}
    decisions = decide_all(index, values)
    spim = [d for d in decisions if d.value.text == "SPIM"]
    assert len(spim) == 12 and all(d.iri == FBBI + "00000369" and d.reason == "exact label" for d in spim)


def test_curated_row_wins(full_store, index):
    table = read_table()
    row = table[("imaging method", "light sheet fluorescence microscopy")]
    assert row["mapping_justification"] == MANUAL and row["object_id"] == "FBbi:00000369"
    assert decide(candidates(index, "light sheet fluorescence microscopy", ["fbbi"])) is None  # no automatic answer
    rows = list(
        full_store.query(f"""SELECT ?s ?iri ?j WHERE {{ GRAPH <{GROUNDING_GRAPH}> {{
        ?n <{KG}groundedSubject> ?s ; <{KG}text> "light sheet fluorescence microscopy" ; <{KG}justification> ?j ; <{KG}groundedTo> ?iri .
        ?s <{KG}imagingMethod> ?iri }} }}""")
    )
    subjects = sorted(r["s"].value for r in rows)
    assert subjects == [
        "https://idr.openmicroscopy.org/study/idr0159/#experiment-1"
    ]  # named without an accession there
    assert {(r["iri"].value, r["j"].value) for r in rows} == {(FBBI + "00000369", MANUAL)}


def test_override_changes_the_next_harvest(full_store, index, tmp_path):
    path = tmp_path / "table.sssom.tsv"
    shutil.copy(ROOT / "mappings/grounding/gide-kg.sssom.tsv", path)
    text = path.read_text().replace(
        "image stitching\timaging method\tskos:exactMatch\tsssom:NoTermFound\t\tsemapv:LexicalMatching",
        "image stitching\timaging method\tskos:exactMatch\tFBbi:00000265\trecorded image\tsemapv:ManualMappingCuration",
    )
    path.write_text(text)
    decisions = decide_all(index, text_values(full_store), read_table(path))
    stitched = {d.iri for d in decisions if d.value.text == "image stitching"}
    assert stitched == {FBBI + "00000265"}
    write_table(decisions, path)  # automatic refresh keeps the curated row
    assert read_table(path)[("imaging method", "image stitching")]["object_id"] == "FBbi:00000265"


def test_report_reaches_the_target(full_store, index):
    rows = report(full_store, index, load_sources())
    total = sum(r["iri"] + r["grounded_from_text"] + r["ungrounded"] for r in rows)
    grounded = sum(r["iri"] + r["grounded_from_text"] for r in rows)
    assert grounded / total >= 0.98
    idr = next(r for r in rows if r["source"] == "idr-study" and r["property"] == "imaging method")
    assert idr["grounded_from_text"] == 13 and idr["ungrounded"] == 12
    assert "light sheet fluorescence microscopy" not in idr["ungrounded_values"]


def test_ground_command(tmp_path):
    store = tmp_path / "kg"
    r = run_kg("harvest", "--no-indexes", "--no-validate", "--store", str(store), "idr-study")
    assert r.returncode == 0, r.stderr
    assert "grounding: 13 text-only organism / method values grounded, 12 left for curators" in r.stderr
    r = run_kg("ground", "--store", str(store), "--report")
    assert r.returncode == 0 and "ungrounded: image stitching" in r.stdout and "values grounded (" in r.stdout
    taxonomy = next(line for line in r.stdout.splitlines() if line.startswith("taxonomy: "))
    used = taxonomy.split()[3]
    assert taxonomy.startswith(f"taxonomy: {used} of {used} organism terms") and "no lineage" not in r.stdout
    assert "; 8 of them through a parent inferred" in taxonomy  # idr0134's GBIF taxa
    r = run_kg("ground", "--store", str(store), "confocal microscopy", "--ontology", "fbbi", "--format", "json")
    answer = json.loads(r.stdout)
    assert answer["grounding"]["iri"] == FBBI + "00000251" and answer["candidates"][0]["reason"] == "exact label"
    r = run_kg("query", "--store", str(store), "ASK { ?s a <http://schema.org/Dataset> }")
    assert r.stdout == "true\n"
    r = run_kg("ground", "--store", str(store), "Mus muculus", "--ontology", "ncbitaxon")
    assert r.stdout.splitlines()[0].startswith("*") and "NCBITaxon:10090" in r.stdout and "(fuzzy label)" in r.stdout
    r = run_kg("expand", "--store", str(store), "fbbi:246")  # zeros left out
    lines = r.stdout.splitlines()  # IRI and label per line
    assert r.returncode == 0 and f"{FBBI}00000251\tconfocal microscopy" in lines
    assert f"{FBBI}00000246\tfluorescence microscopy" in lines


def test_obsolete_terms_are_never_proposed(index):
    """FBbi deprecates 107 classes (owl:deprecated); grounding their own labels, or a typo of them, proposes none."""
    obsolete = [t for t in index.ontologies["fbbi"].terms.values() if t.obsolete]
    assert len(obsolete) == 107
    for t in obsolete:
        for text in (t.label, t.label[:-1]):
            assert not [c for c in candidates(index, text, ["fbbi"]) if c.term.obsolete], text
    assert index.get(FBBI + "00000242", "fbbi").label == "wide field light micrograph"  # still addressable


@pytest.mark.parametrize(
    "text",
    [
        "http://purl.obolibrary.org/obo/FBbi_00000246",
        "FBbi:00000246",
        "obo:FBbi_00000246",
        "fbbi:246",
        "FBBI:00000246",
        "FBbi_00000246",
    ],
)
def test_lookup_takes_iris_and_curies(index, text):
    assert [t.iri for t in index.lookup(text)] == [FBBI + "00000246"]


def test_lookup_refuses_what_names_no_term(index):
    assert index.lookup("fbbi:99999999") == [] and index.lookup("nope:1") == [] and index.lookup("") == []


def test_namespace_table_is_the_one_source():
    """ontologies/namespaces.tsv names every ontology namespace once; the manifests and IDR's alias table agree."""
    import tomllib

    from kg.namespaces import term_namespaces

    rows = term_namespaces()
    assert len({r["prefix"].lower() for r in rows}) == len({r["namespace"] for r in rows}) == len(rows) == 19
    assert {r["kind"] for r in rows} == {"bundled", "harvested"}
    onto = ROOT / "ontologies"
    bundled = tomllib.loads((onto / "manifest.toml").read_text(encoding="utf-8"))
    assert {r["ontology"] for r in rows if r["kind"] == "bundled"} <= set(bundled)
    harvested = {p.stem for p in (onto / "harvested").glob("*.ttl")}
    assert harvested <= {r["ontology"] for r in rows if r["kind"] == "harvested"}
    aliases = [
        line.split("\t")[0].lower()
        for line in (ROOT / "mappings/idr-study/term-sources.tsv").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert aliases == ["psi-mi", "orphanet", "gbif"] and not set(aliases) & {r["prefix"].lower() for r in rows}
