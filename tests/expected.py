"""Numbers the tests assert, copied from real output, in one place with how each was derived.

Each comes from the bundled snapshot (data/) and the ontologies (ontologies/); when a mapping rule or a
data file changes on purpose, rerun `PYTHONPATH=. python tests/expected.py`: it derives every number
again the way its comment says (the same harvest as tests/conftest.py's `harvested_store`) and prints
the ones that differ, so the new value is copied from output, not guessed.
"""

from __future__ import annotations

# Studies per crate source: `ls data/crates/<source>/*ro-crate-metadata.json | wc -l`, and the `studies`
# column of `kg harvest` (one study per crate).
STUDIES = {"bia": 740, "idr": 127, "ssbd-database": 232, "ssbd-repository": 126}
# The same, by publisher name: `SELECT ?name (COUNT(DISTINCT ?s) …) { ?s a schema:Dataset ; schema:publisher/schema:name ?name }`.
STUDIES_BY_PUBLISHER = {
    "BioImage Archive": 740,
    "Image Data Resource": 127,
    "SSBD:database": 232,
    "SSBD:repository": 126,
}
# Distinct studies of the four crate sources: kg.store.stats.distinct_studies(harvested_store), shown on `/`
# (740 + 127 + 232 + 126: no two crates describe the same study IRI).
CRATE_DISTINCT_STUDIES = 1225
# Triples per crate source graph: the `triples` column of `kg harvest` (= store.graph_sizes()[GRAPH + source]);
# they include the kg:authorOrder / kg:keywordOrder rdf:Lists (2 triples per item + 1 per list).
TRIPLES = {"bia": 66623, "idr": 10842, "ssbd-database": 23619, "ssbd-repository": 9357}
# Triples of the closure graph over the bundled ontologies: store.graph_sizes()[CLOSURE_GRAPH] after
# load_ontologies + rebuild_closure (kg:subClassOfOrSelf, reflexive and transitive).
CLOSURE_TRIPLES = 18194
# Rows of every named query (queries/*.rq) over harvested_store:
# `kg query --format csv queries/NAME.rq | tail -n +2 | wc -l` on a store holding only the crates and ontologies.
QUERY_ROWS = {
    "bacteria-light-microscopy": 38,
    "imaging-methods-per-repository": 172,
    "organisms": 218,
    "probable-duplicates": 0,
    "published-since-2020": 27,
    "qc-generic-imaging-method": 246,
    "qc-no-thumbnail": 340,
    "qc-not-imaging-methods": 16,
    "qc-samples-without-organism": 128,
    "qc-taxon-name-mismatch": 47,
    "reconciliation-conflicts": 0,
    "shared-publications": 22,
    "studies-per-repository": 4,
}
# FBbi terms served by the OLS API (`numberOfTerms` of /api/ontologies/fbbi): classes of the FBbi graph
# with a label, as kg.terms.TermIndex reads them.
FBBI_TERMS = 634
# BIA size nodes typed with the misspelt QuantitiveValue: `grep -o '"QuantitiveValue"' data/crates/bia/* | wc -l`,
# each kept as kg:sourceType on the node after mapping.
BIA_QUANTITIVE_VALUE = 1480
# IDR native study files: `ls data/native/idr-study/*/*-study.txt | wc -l` (the idr-study source).
IDR_STUDY_FILES = 131
# BIA studies published in 2025: the ("BioImage Archive", 2025) row of queries/published-since-2020.rq.
BIA_STUDIES_2025 = 328
# BIA studies by imaging method rolled up along FBbi: the ("BioImage Archive", FBbi_00000246 fluorescence
# microscopy) and (…, FBbi_00000251 confocal microscopy) rows of queries/imaging-methods-per-repository.rq.
BIA_FLUORESCENCE_STUDIES = 495
BIA_CONFOCAL_STUDIES = 274
# "@id" values of the SSBD:database crates holding an NCBI Datasets taxonomy URL ("/datasets/taxonomy/")
# and a legacy PubMed URL ("ncbi.nlm.nih.gov/pubmed/"): tests/test_quirks_gone.py crate_strings counts.
SSBD_NCBI_DATASETS_IDS = 979
SSBD_LEGACY_PUBMED_IDS = 162
# SSBD:repository studies without a thumbnail (= SHACL warnings "Dataset SHOULD have at least one
# schema:thumbnailUrl"): COUNT of schema:Dataset in its graph with no schema:thumbnailUrl.
SSBD_REPOSITORY_NO_THUMBNAIL = 119


def derive() -> dict[str, object]:
    """Every number above, computed again from data/ and ontologies/ (a few seconds)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from test_quirks_gone import crate_strings

    from kg.config import QUERIES, load_sources
    from kg.namespaces import CLOSURE_GRAPH, GRAPH
    from kg.pipeline import harvest_snapshot
    from kg.serve.queries import named_queries
    from kg.store import open_store
    from kg.store.ontologies import load_ontologies, rebuild_closure
    from kg.store.stats import distinct_studies
    from kg.terms import TermIndex

    from conftest import select_rows

    root = Path(__file__).resolve().parent.parent
    crates = {n: s for n, s in load_sources().items() if s.kind == "rocrate"}
    store = open_store(None)
    load_ontologies(store)
    reports = {n: harvest_snapshot(store, s) for n, s in crates.items()}
    rebuild_closure(store)
    sizes = store.graph_sizes()
    by_publisher = select_rows(
        store,
        "SELECT ?name (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a schema:Dataset ; "
        "schema:publisher/schema:name ?name } GROUP BY ?name",
    )
    quantitive = select_rows(
        store,
        f"SELECT (COUNT(?q) AS ?n) WHERE {{ GRAPH <{GRAPH}bia> {{ ?q a schema:QuantitativeValue ; "
        "kg:sourceType ?t FILTER(STRENDS(?t, '/QuantitiveValue')) } }",
    )
    named = {q.name: q.text for q in named_queries(QUERIES)}
    since = {
        (r["repositoryName"].value, int(r["year"].value)): int(r["studies"].value)
        for r in select_rows(store, named["published-since-2020"])
    }
    methods = {
        (r["repositoryName"].value, r["method"].value): int(r["studies"].value)
        for r in select_rows(store, named["imaging-methods-per-repository"])
    }
    no_thumb = select_rows(
        store,
        f"SELECT (COUNT(?d) AS ?n) WHERE {{ GRAPH <{GRAPH}ssbd-repository> {{ ?d a schema:Dataset "
        "FILTER NOT EXISTS { ?d schema:thumbnailUrl ?t } } }",
    )
    obo = "http://purl.obolibrary.org/obo/"
    return {
        "STUDIES": {n: r.studies for n, r in reports.items()},
        "STUDIES_BY_PUBLISHER": {
            r["name"].value: int(r["n"].value) for r in sorted(by_publisher, key=lambda r: r["name"].value)
        },
        "CRATE_DISTINCT_STUDIES": distinct_studies(store),
        "TRIPLES": {n: sizes[GRAPH + n] for n in crates},
        "CLOSURE_TRIPLES": sizes[CLOSURE_GRAPH],
        "QUERY_ROWS": {name: len(select_rows(store, text)) for name, text in named.items()},
        "FBBI_TERMS": len(TermIndex.from_store(store).ontologies["fbbi"].terms),
        "BIA_QUANTITIVE_VALUE": int(quantitive[0]["n"].value),
        "IDR_STUDY_FILES": len(list((root / "data" / "native" / "idr-study").glob("*/*-study.txt"))),
        "BIA_STUDIES_2025": since[("BioImage Archive", 2025)],
        "BIA_FLUORESCENCE_STUDIES": methods[("BioImage Archive", obo + "FBbi_00000246")],
        "BIA_CONFOCAL_STUDIES": methods[("BioImage Archive", obo + "FBbi_00000251")],
        "SSBD_NCBI_DATASETS_IDS": sum("/datasets/taxonomy/" in i for i in crate_strings("ssbd-database", "@id")),
        "SSBD_LEGACY_PUBMED_IDS": sum("ncbi.nlm.nih.gov/pubmed/" in i for i in crate_strings("ssbd-database", "@id")),
        "SSBD_REPOSITORY_NO_THUMBNAIL": int(no_thumb[0]["n"].value),
    }


if __name__ == "__main__":
    recorded = globals()
    differ = 0
    for name, value in derive().items():
        if recorded[name] != value:
            differ += 1
            print(f"{name}: recorded {recorded[name]!r}\n{' ' * len(name)}  derived  {value!r}")
    print(
        f"{differ} of the recorded numbers differ from the data" if differ else "every recorded number matches the data"
    )
    raise SystemExit(1 if differ else 0)
