"""Harvest of the bundled snapshots: every crate becomes one study, with normalised terms and values.

Expected values are either read from the crate files with plain `json` (tests/crate_facts.py) or
hard-coded after reading the crate JSON by hand.
"""

from __future__ import annotations

import pytest

from crate_facts import SOURCES, crate_files

GRAPH = "https://w3id.org/gide-kg/graph/"
XSD = "http://www.w3.org/2001/XMLSchema#"
OBO = "http://purl.obolibrary.org/obo/"
BIA = "https://www.ebi.ac.uk/biostudies/bioimages/studies/"


def objects(select, store, study: str, predicate: str) -> list:
    rows = select(store, f"SELECT ?o WHERE {{ <{study}> {predicate} ?o }}")
    return [r["o"] for r in rows]


def iris(select, store, study: str, predicate: str) -> set[str]:
    return {o.value for o in objects(select, store, study, predicate)}


# -- counts ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("source", SOURCES)
def test_one_study_per_bundled_crate(harvested_store, select, source):
    expected = len(crate_files(source))
    rows = select(
        harvested_store,
        f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH <{GRAPH}{source}> {{ ?s a schema:Dataset }} }}",
    )
    assert int(rows[0]["n"].value) == expected


def test_bundled_crate_counts_are_the_known_ones():
    # guards the snapshot itself: the numbers the project documents
    assert [len(crate_files(s)) for s in SOURCES] == [740, 127, 232, 126]


def test_reports_say_everything_loaded(harvest_reports):
    by_source = {r.source: r for r in harvest_reports}
    assert sorted(by_source) == sorted(SOURCES)
    for source in SOURCES:
        r = by_source[source]
        n = len(crate_files(source))
        assert r.ok, r.error
        assert (r.records, r.studies, r.quarantined) == (n, n, [])
        assert r.triples > n * 10


def test_each_study_lives_in_its_own_source_graph(harvested_store, select, crate_studies):
    rows = select(harvested_store, "SELECT ?g ?s WHERE { GRAPH ?g { ?s a schema:Dataset } }")
    got = {(r["g"].value, r["s"].value) for r in rows}
    expected = {(GRAPH + s.source, iri) for iri, s in crate_studies.items()}
    assert got == expected


def test_every_harvest_run_succeeded_in_provenance(harvested_store, select):
    rows = select(
        harvested_store,
        f"""SELECT ?src ?status ?loaded WHERE {{ GRAPH <{GRAPH}provenance> {{
            ?run a kg:HarvestRun ; kg:harvestSource ?src ; kg:status ?status ; kg:studiesLoaded ?loaded }} }}""",
    )
    got = {(r["src"].value, r["status"].value, int(r["loaded"].value)) for r in rows}
    assert got == {(s, "succeeded", len(crate_files(s))) for s in SOURCES}


def test_every_study_is_derived_from_its_file(harvested_store, select, crate_studies):
    rows = select(
        harvested_store,
        f"""SELECT ?study ?name ?loc WHERE {{ GRAPH <{GRAPH}provenance> {{
            ?study prov:wasDerivedFrom ?rec . ?rec a kg:SourceRecord ; kg:fileName ?name ; prov:atLocation ?loc }} }}""",
    )
    got = {r["study"].value: (r["name"].value, r["loc"].value) for r in rows}
    assert len(rows) == len(crate_studies)
    for iri, s in crate_studies.items():
        assert got[iri] == (s.file.name, s.file.resolve().as_uri())


# -- named studies, values checked by hand against the crate JSON ----------------------------------

STUDIES = {
    # BIA
    BIA + "S-BIAD1002": dict(
        graph="bia",
        organism={"NCBITaxon_562"},
        method={"FBbi_00000246", "FBbi_00000247"},
        date=("2024-10-06", "date"),
        license="https://creativecommons.org/publicdomain/zero/1.0/",
        citation=set(),
    ),
    BIA + "S-BIAD2313": dict(
        graph="bia",
        organism={"NCBITaxon_9606"},
        method={"FBbi_00000251"},
        date=("2025-09-25", "date"),
        license="https://creativecommons.org/publicdomain/zero/1.0/",
        # written as bare PubMed numbers "35209227" / "36317177" in the crate
        citation={"https://pubmed.ncbi.nlm.nih.gov/35209227", "https://pubmed.ncbi.nlm.nih.gov/36317177"},
    ),
    BIA + "EMPIAR-10310": dict(
        graph="bia",
        organism={"NCBITaxon_6359"},
        method={"FBbi_00050000"},
        date=("2020-02-07", "date"),
        license="https://creativecommons.org/publicdomain/zero/1.0/",
        citation=set(),
    ),
    BIA + "S-BIAD2822": dict(
        graph="bia",
        organism={"NCBITaxon_9606", "NCBITaxon_10090"},
        # written as the undeclared CURIEs "FBbi:00000257" / "FBbi:00050000"
        method={"FBbi_00000257", "FBbi_00050000"},
        date=("2026-02-03", "date"),
        license="https://creativecommons.org/publicdomain/zero/1.0/",
        citation=set(),
    ),
    # IDR
    "https://idr.openmicroscopy.org/study/idr0003/": dict(
        graph="idr",
        organism={"NCBITaxon_4932"},
        method={"FBbi_00000246"},
        date=("2016-04-27", "date"),
        license="https://creativecommons.org/licenses/by-nc-sa/3.0/",
        citation={"https://doi.org/10.1083/jcb.201301120"},
    ),
    "https://idr.openmicroscopy.org/study/idr0001/": dict(
        graph="idr",
        organism={"NCBITaxon_4896"},
        method={"FBbi_00000253"},
        date=("2016-04-27", "date"),
        license="https://creativecommons.org/licenses/by/4.0/",
        citation={"https://doi.org/10.1016/j.devcel.2014.09.005"},
    ),
    "https://idr.openmicroscopy.org/study/idr0095/": dict(
        graph="idr",
        organism={"NCBITaxon_562"},
        method={"FBbi_00000246"},
        date=("2020-11-19", "date"),
        license="https://creativecommons.org/licenses/by/4.0/",
        # the crate writes https://doi.org/10.7554/eLife.56517: DOIs are made lower case
        citation={"https://doi.org/10.7554/elife.56517"},
    ),
    # SSBD:database
    "https://ssbd.riken.jp/v1/project/10-Komatsuzaki-MolDyn": dict(
        graph="ssbd-database",
        # the crate links https://www.ncbi.nlm.nih.gov/datasets/taxonomy/44689
        organism={"NCBITaxon_44689"},
        method={"FBbi_00000617"},
        date=("2015-10-03", "date"),
        license="https://creativecommons.org/licenses/by-nc-sa/4.0/",
        # the crate writes https://www.ncbi.nlm.nih.gov/pubmed/25504902
        citation={"https://pubmed.ncbi.nlm.nih.gov/25504902"},
    ),
    "https://ssbd.riken.jp/v2/project/134-Tanaka-SalivaryglandDev": dict(
        graph="ssbd-database",
        organism={"NCBITaxon_10090"},
        # FBbi_00000246 is written "http://purl.obolibrary.org/obo/FBbi_ 00000246" (with a space)
        method={"FBbi_00000246", "FBbi_00000258", "FBbi_00000249"},
        date=("2020-12-23", "date"),
        license="https://creativecommons.org/licenses/by/4.0/",
        citation={"https://doi.org/10.1038/s41467-018-06469-7"},
    ),
    "https://ssbd.riken.jp/v2/project/140-Hirata-MouseBrainSlice": dict(
        graph="ssbd-database",
        organism={"NCBITaxon_10090"},
        method={"FBbi_00000243", "FBbi_00000002", "FBbi_00000027", "FBbi_00000138"},
        date=("2022-04-15", "date"),
        license="https://creativecommons.org/licenses/by/4.0/",
        citation={"https://doi.org/10.1016/j.crmeth.2021.100012"},
    ),
    "https://ssbd.riken.jp/v2/project/187-Tsuboi-TumorDyn": dict(
        graph="ssbd-database",
        organism={"NCBITaxon_10090", "NCBITaxon_9606"},
        method={"FBbi_00000246", "FBbi_00000243"},
        date=None,  # the crate has no datePublished
        license="https://creativecommons.org/licenses/by/4.0/",
        citation={"https://doi.org/10.1039/d0ra04710d"},
    ),
    # SSBD:repository
    "https://ssbd.riken.jp/repository/ssbd-repos-000020/": dict(
        graph="ssbd-repository",
        organism={"NCBITaxon_6239"},
        method={"FBbi_00000265"},
        date=("2017-03-17", "date"),
        license="https://creativecommons.org/licenses/by-nc-sa/4.0/",
        citation={"https://doi.org/10.1186/s12859-017-1717-6"},
    ),
    "https://ssbd.riken.jp/repository/ssbd-repos-000140/": dict(
        graph="ssbd-repository",
        organism={"NCBITaxon_10090"},
        method={"FBbi_00000243", "FBbi_00000002", "FBbi_00000024", "FBbi_00000077"},
        date=("2021-03-29", "date"),
        license="https://creativecommons.org/licenses/by/4.0/",
        citation={"https://doi.org/10.1016/j.crmeth.2021.100012"},
    ),
}


@pytest.mark.parametrize("study", sorted(STUDIES))
def test_named_study(harvested_store, select, study):
    exp = STUDIES[study]
    assert select(harvested_store, f"ASK {{ GRAPH <{GRAPH}{exp['graph']}> {{ <{study}> a schema:Dataset }} }}") is True
    assert iris(select, harvested_store, study, "kg:organism") == {OBO + t for t in exp["organism"]}
    assert iris(select, harvested_store, study, "kg:imagingMethod") == {OBO + m for m in exp["method"]}
    dates = objects(select, harvested_store, study, "schema:datePublished")
    if exp["date"] is None:
        assert dates == []
    else:
        assert [(d.value, d.datatype.value) for d in dates] == [(exp["date"][0], XSD + exp["date"][1])]
    licences = objects(select, harvested_store, study, "schema:license")
    assert [type(x).__name__ for x in licences] == ["NamedNode"]
    assert licences[0].value == exp["license"]
    assert iris(select, harvested_store, study, "schema:citation") == exp["citation"]


# -- all studies against the crate JSON ------------------------------------------------------------


def _by_study(select, store, predicate: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for r in select(store, f"SELECT ?s ?o WHERE {{ ?s a schema:Dataset ; {predicate} ?o }}"):
        out.setdefault(r["s"].value, set()).add(r["o"].value)
    return out


def test_every_study_has_the_organisms_of_its_crate(harvested_store, select, crate_studies):
    got = _by_study(select, harvested_store, "kg:organism")
    wrong = {
        iri: (s.organisms, got.get(iri, set()))
        for iri, s in crate_studies.items()
        if s.organisms != got.get(iri, set())
    }
    assert wrong == {}


def test_every_study_has_the_imaging_methods_of_its_crate(harvested_store, select, crate_studies):
    got = _by_study(select, harvested_store, "kg:imagingMethod")
    wrong = {
        iri: (s.methods, got.get(iri, set())) for iri, s in crate_studies.items() if s.methods != got.get(iri, set())
    }
    assert wrong == {}


def test_every_study_has_the_publications_of_its_crate(harvested_store, select, crate_studies):
    got = _by_study(select, harvested_store, "schema:citation")
    wrong = {
        iri: (s.citations, got.get(iri, set()))
        for iri, s in crate_studies.items()
        if s.citations != got.get(iri, set())
    }
    assert wrong == {}


def test_every_study_has_the_date_and_licence_of_its_crate(harvested_store, select, crate_studies):
    rows = select(
        harvested_store,
        "SELECT ?s ?d ?l WHERE { ?s a schema:Dataset ; schema:license ?l OPTIONAL { ?s schema:datePublished ?d } }",
    )
    got = {r["s"].value: (r["d"].value if "d" in r else None, r["l"].value) for r in rows}
    assert len(rows) == len(crate_studies)
    expected = {iri: (s.date, s.license) for iri, s in crate_studies.items()}
    assert got == expected
    assert sum(1 for s in crate_studies.values() if s.date is None) == 2  # two SSBD:database crates


def test_every_study_keeps_all_its_authors(harvested_store, select, crate_studies):
    rows = select(
        harvested_store,
        "SELECT ?s (COUNT(DISTINCT ?a) AS ?n) WHERE { ?s a schema:Dataset ; schema:author ?a } GROUP BY ?s",
    )
    got = {r["s"].value: int(r["n"].value) for r in rows}
    wrong = {iri: (s.authors, got.get(iri, 0)) for iri, s in crate_studies.items() if s.authors != got.get(iri, 0)}
    assert wrong == {}


def test_every_study_has_its_publisher_and_name(harvested_store, select, crate_studies):
    rows = select(
        harvested_store,
        "SELECT ?s ?p ?pn WHERE { ?s a schema:Dataset ; schema:name ?n ; schema:publisher ?p . ?p schema:name ?pn }",
    )
    got = {r["s"].value: (r["p"].value, r["pn"].value) for r in rows}
    assert len(rows) == len(crate_studies)
    assert got == {iri: (s.publisher, s.publisher_name) for iri, s in crate_studies.items()}


# -- values the mapping rules retype -----------------------------------------------------------------


def test_publication_years_become_gyear(harvested_store, select):
    # ssbd-repos-000020 cites a ScholarlyArticle with "datePublished": "2017" (xsd:date by SSBD's context)
    rows = select(
        harvested_store, "SELECT ?d WHERE { <https://doi.org/10.1186/s12859-017-1717-6> schema:datePublished ?d }"
    )
    assert [(r["d"].value, r["d"].datatype.value) for r in rows] == [("2017", XSD + "gYear")]
    # S-BIAD2313's bare-number publication, "datePublished": "2022"
    rows = select(
        harvested_store,
        "SELECT ?d ?n WHERE { <https://pubmed.ncbi.nlm.nih.gov/35209227> schema:datePublished ?d ; schema:name ?n }",
    )
    assert [(r["d"].value, r["d"].datatype.value) for r in rows] == [("2022", XSD + "gYear")]
    assert rows[0]["n"].value == "Image-Based Annotation of Chemogenomic Libraries for Phenotypic Screening."


def test_publications_get_a_plain_identifier(harvested_store, select):
    rows = select(
        harvested_store,
        """SELECT ?pub ?id WHERE { VALUES ?pub { <https://pubmed.ncbi.nlm.nih.gov/25504902> <https://doi.org/10.1083/jcb.201301120> }
           ?pub schema:identifier ?id }""",
    )
    assert {(r["pub"].value, r["id"].value) for r in rows} == {
        ("https://pubmed.ncbi.nlm.nih.gov/25504902", "pmid:25504902"),
        ("https://doi.org/10.1083/jcb.201301120", "doi:10.1083/jcb.201301120"),
    }


def test_sizes_are_typed_numbers(harvested_store, select):
    # EMPIAR-10310: two "QuantitiveValue" sizes, 91124559572 bytes and 5899 files
    rows = select(
        harvested_store,
        f"SELECT ?v ?u WHERE {{ <{BIA}EMPIAR-10310> schema:size ?q . ?q a schema:QuantitativeValue ; schema:value ?v OPTIONAL {{ ?q schema:unitCode ?u }} }}",
    )
    assert sorted((r["v"].value, r["v"].datatype.value) for r in rows) == [
        ("5899", XSD + "integer"),
        ("91124559572", XSD + "integer"),
    ]


def test_taxon_names_survive_normalisation(harvested_store, select):
    rows = select(
        harvested_store,
        f"SELECT ?n WHERE {{ GRAPH <{GRAPH}ssbd-database> {{ obo:NCBITaxon_44689 a dwc:Taxon ; dwc:scientificName ?n }} }}",
    )
    assert {r["n"].value for r in rows} == {"Dictyostelium discoideum"}
