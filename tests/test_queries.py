"""The named queries (queries/*.rq) on the harvested store give the answers the crate files imply.

Expected answers are computed independently: from the crate JSON (tests/crate_facts.py) and from the
ontology files parsed on their own (not through the store), or by a separate, simpler SPARQL query.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from functools import cache

import pyoxigraph as ox
import pytest

from crate_facts import ROOT
from expected import BIA_CONFOCAL_STUDIES, BIA_FLUORESCENCE_STUDIES, BIA_STUDIES_2025

QUERIES = ROOT / "queries"
OBO = "http://purl.obolibrary.org/obo/"
SUBCLASS = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
FLUORESCENCE = OBO + "FBbi_00000246"
CONFOCAL = OBO + "FBbi_00000251"
LIGHT_MICROSCOPY = OBO + "FBbi_00000345"
BACTERIA = OBO + "NCBITaxon_2"


def run(store, name: str) -> list[dict]:
    result = store.query((QUERIES / f"{name}.rq").read_text(encoding="utf-8"))
    names = [v.value for v in result.variables]
    return [{n: row[n] for n in names if row[n] is not None} for row in result]


@cache
def subclass_edges() -> dict[str, set[str]]:
    """Parent → direct children, read from the FBbi and NCBITaxon files themselves."""
    files = [
        ("fbbi/fbbi.owl", ox.RdfFormat.RDF_XML),
        ("fbbi/gide_fbbi_hierarchy_subset.ttl", ox.RdfFormat.TURTLE),
        ("ncbitaxon/gide_ncbitaxon_hierarchy_subset.ttl", ox.RdfFormat.TURTLE),
        ("ncbitaxon/idr_ncbitaxon_hierarchy_subset.ttl", ox.RdfFormat.TURTLE),
        ("ncbitaxon/taxonomy_supplement.ttl", ox.RdfFormat.TURTLE),
    ]
    children: dict[str, set[str]] = defaultdict(set)
    for rel, fmt in files:
        path = ROOT / "ontologies" / rel
        for t in ox.parse(path=str(path), format=fmt, base_iri="file:///" + path.name):
            if (
                t.predicate.value == SUBCLASS
                and isinstance(t.object, ox.NamedNode)
                and isinstance(t.subject, ox.NamedNode)
            ):
                children[t.object.value].add(t.subject.value)
    return children


def descendants(term: str) -> set[str]:
    """The term and everything below it (rdfs:subClassOf*)."""
    edges = subclass_edges()
    seen, todo = {term}, [term]
    while todo:
        for c in edges.get(todo.pop(), ()):
            if c not in seen:
                seen.add(c)
                todo.append(c)
    return seen


def test_every_named_query_runs_and_answers(full_store):
    files = sorted(QUERIES.glob("*.rq"))
    assert [f.stem for f in files] == [
        "bacteria-light-microscopy",
        "imaging-methods-per-repository",
        "organisms",
        "probable-duplicates",
        "published-since-2020",
        "qc-generic-imaging-method",
        "qc-no-thumbnail",
        "qc-not-imaging-methods",
        "qc-samples-without-organism",
        "qc-taxon-name-mismatch",
        "reconciliation-conflicts",
        "shared-publications",
        "studies-per-repository",
    ]
    for f in files:
        text = f.read_text(encoding="utf-8")
        assert text.startswith("# title: "), f.name
        assert len(run(full_store, f.stem)) > 0, f.name


# -- studies per repository ------------------------------------------------------------------------------


def test_studies_per_repository(harvested_store, crate_studies):
    rows = run(harvested_store, "studies-per-repository")
    got = [(r["repository"].value, r["name"].value, int(r["studies"].value)) for r in rows]
    by_pub = Counter((s.publisher, s.publisher_name) for s in crate_studies.values())
    expected = sorted(((p, n, c) for (p, n), c in by_pub.items()), key=lambda x: -x[2])
    assert got == expected
    assert got == [
        ("https://www.ebi.ac.uk/bioimage-archive/", "BioImage Archive", 740),
        ("https://ssbd.riken.jp/database", "SSBD:database", 232),
        ("https://idr.openmicroscopy.org/", "Image Data Resource", 127),
        ("https://ssbd.riken.jp/repository", "SSBD:repository", 126),
    ]


# -- organisms ----------------------------------------------------------------------------------------------


def test_organisms_top_row_is_homo_sapiens(harvested_store, crate_studies):
    rows = run(harvested_store, "organisms")
    top = rows[0]
    assert top["organism"].value == OBO + "NCBITaxon_9606"
    assert top["name"].value == "Homo sapiens"
    assert int(top["studies"].value) == sum(OBO + "NCBITaxon_9606" in s.organisms for s in crate_studies.values())


def test_organism_counts_match_the_crates(harvested_store, crate_studies):
    rows = run(harvested_store, "organisms")
    got = {r["organism"].value: int(r["studies"].value) for r in rows}
    expected = Counter(o for s in crate_studies.values() for o in s.organisms)
    assert got == dict(expected)
    counts = [int(r["studies"].value) for r in rows]
    assert counts == sorted(counts, reverse=True)
    # every organism has a human-readable name, not its IRI
    assert all(not r["name"].value.startswith("http") for r in rows)


# -- bacteria imaged by light microscopy ---------------------------------------------------------------------


def test_bacteria_light_microscopy_exact_answer(harvested_store, crate_studies):
    rows = run(harvested_store, "bacteria-light-microscopy")
    got = {r["study"].value for r in rows}
    bacteria, light = descendants(BACTERIA), descendants(LIGHT_MICROSCOPY)
    assert OBO + "NCBITaxon_562" in bacteria and OBO + "FBbi_00000246" in light  # sanity of the closure
    expected = {iri for iri, s in crate_studies.items() if s.organisms & bacteria and s.methods & light}
    assert got == expected
    assert len(rows) == len(got) == 38  # DISTINCT: one row per study
    assert "https://www.ebi.ac.uk/biostudies/bioimages/studies/S-BIAD1002" in got
    names = Counter(r["repositoryName"].value for r in rows)
    assert names == Counter(crate_studies[i].publisher_name for i in expected)
    titles = {r["study"].value: r["title"].value for r in rows}
    assert titles["https://www.ebi.ac.uk/biostudies/bioimages/studies/S-BIAD1002"].startswith(
        'Images for "The role of the essential GTPase ObgE'
    )


def test_bacteria_light_microscopy_studies_really_are_bacteria(harvested_store, select):
    rows = run(harvested_store, "bacteria-light-microscopy")
    for r in rows:
        study = r["study"].value
        organisms = select(
            harvested_store, f"SELECT ?o WHERE {{ <{study}> kg:organism ?o . ?o rdfs:subClassOf* obo:NCBITaxon_2 }}"
        )
        assert organisms, study
        assert {o["o"].value for o in organisms} <= descendants(BACTERIA), study
        assert select(
            harvested_store, f"ASK {{ <{study}> kg:imagingMethod ?m . ?m rdfs:subClassOf* obo:FBbi_00000345 }}"
        ), study
    # and a study not about bacteria is not in the answer: idr0003 is yeast imaged by fluorescence microscopy
    assert "https://idr.openmicroscopy.org/study/idr0003/" not in {r["study"].value for r in rows}


def test_bacteria_light_microscopy_order(harvested_store):
    rows = run(harvested_store, "bacteria-light-microscopy")
    keys = [(r["repositoryName"].value, r["study"].value) for r in rows]
    assert keys == sorted(keys)


# -- published since 2020 -------------------------------------------------------------------------------------


def test_published_since_2020_matches_the_crates(harvested_store, crate_studies):
    rows = run(harvested_store, "published-since-2020")
    got = {(r["repositoryName"].value, int(r["year"].value)): int(r["studies"].value) for r in rows}
    expected = Counter(
        (s.publisher_name, int(s.date[:4])) for s in crate_studies.values() if s.date and int(s.date[:4]) >= 2020
    )
    assert got == dict(expected)
    assert got[("BioImage Archive", 2025)] == BIA_STUDIES_2025
    assert min(y for _, y in got) == 2020
    keys = [(r["repositoryName"].value, int(r["year"].value)) for r in rows]
    assert keys == sorted(keys)


# -- shared publications -----------------------------------------------------------------------------------------


def test_shared_publications_match_the_crates(harvested_store, crate_studies):
    rows = run(harvested_store, "shared-publications")
    got = [(r["publication"].value, r["study1"].value, r["study2"].value) for r in rows]
    assert len(got) == len(set(got))
    by_pub = defaultdict(list)
    for _iri, s in crate_studies.items():
        for c in s.citations:
            by_pub[c].append(s)
    expected = {
        (pub, a.iri, b.iri)
        for pub, studies in by_pub.items()
        for a in studies
        for b in studies
        if a.publisher < b.publisher
    }
    assert set(got) == expected
    assert len(got) == 22


def test_shared_publications_rows_are_consistent(harvested_store, select, crate_studies):
    rows = run(harvested_store, "shared-publications")
    for r in rows:
        s1, s2, pub = crate_studies[r["study1"].value], crate_studies[r["study2"].value], r["publication"].value
        assert r["repository1"].value == s1.publisher_name
        assert r["repository2"].value == s2.publisher_name
        assert s1.publisher != s2.publisher
        assert select(
            harvested_store, f"ASK {{ <{s1.iri}> schema:citation <{pub}> . <{s2.iri}> schema:citation <{pub}> }}"
        )
    pairs = {
        (r["publication"].value, r["study1"].value, r["repository1"].value, r["study2"].value, r["repository2"].value)
        for r in rows
    }
    assert (
        "https://doi.org/10.1016/j.crmeth.2021.100012",
        "https://ssbd.riken.jp/v2/project/140-Hirata-MouseBrainSlice",
        "SSBD:database",
        "https://ssbd.riken.jp/repository/ssbd-repos-000140/",
        "SSBD:repository",
    ) in pairs


# -- imaging methods per repository ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def methods_per_repo(harvested_store):
    rows = run(harvested_store, "imaging-methods-per-repository")
    return {(r["repositoryName"].value, r["method"].value): int(r["studies"].value) for r in rows}, rows


def test_fluorescence_counts_confocal_too(methods_per_repo):
    counts, _ = methods_per_repo
    repos_with_confocal = {repo for repo, m in counts if m == CONFOCAL}
    assert repos_with_confocal  # the comparison below must have something to compare
    for repo in repos_with_confocal:
        assert counts[(repo, FLUORESCENCE)] >= counts[(repo, CONFOCAL)], repo
    assert CONFOCAL in descendants(FLUORESCENCE)


def test_fluorescence_counts_match_a_direct_query(harvested_store, select, methods_per_repo):
    counts, _ = methods_per_repo
    repos = {repo for repo, _ in counts}
    assert repos == {"BioImage Archive", "Image Data Resource", "SSBD:database", "SSBD:repository"}
    for repo in repos:
        for method in (FLUORESCENCE, CONFOCAL):
            rows = select(
                harvested_store,
                f"""SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s kg:imagingMethod ?m ; schema:publisher ?p .
                    ?p schema:name "{repo}" . ?m rdfs:subClassOf* <{method}> }}""",
            )
            assert counts.get((repo, method), 0) == int(rows[0]["n"].value), (repo, method)


def test_method_counts_match_the_crates(methods_per_repo, crate_studies):
    counts, _ = methods_per_repo
    for method in (FLUORESCENCE, CONFOCAL, LIGHT_MICROSCOPY, OBO + "FBbi_00000256"):
        below = descendants(method)
        expected = Counter(s.publisher_name for s in crate_studies.values() if s.methods & below)
        got = {repo: n for (repo, m), n in counts.items() if m == method}
        assert got == dict(expected), method
    assert counts[("BioImage Archive", FLUORESCENCE)] == BIA_FLUORESCENCE_STUDIES
    assert counts[("BioImage Archive", CONFOCAL)] == BIA_CONFOCAL_STUDIES


def test_imaging_methods_rows_have_labels_and_order(methods_per_repo):
    _, rows = methods_per_repo
    labels = {r["method"].value: r["methodLabel"].value for r in rows if "methodLabel" in r}
    assert labels[FLUORESCENCE] == "fluorescence microscopy"
    assert labels[CONFOCAL] == "confocal microscopy"
    assert all(r["method"].value.startswith(OBO + "FBbi_") for r in rows)
    keys = [(r["repositoryName"].value, -int(r["studies"].value)) for r in rows]
    assert keys == sorted(keys)
