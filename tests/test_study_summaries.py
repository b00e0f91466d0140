"""Study-page summaries computed for every study at once (kg/serve/describe.study_summaries, run with the
index build, kg/indexes.py) are the same as the page's own per-study queries give: for every study of
the real store harvested from all sources."""

from __future__ import annotations

from kg.namespaces import SCHEMA
from kg.serve.describe import labels, statement_labels, study_summaries, study_summary


def test_bulk_summaries_equal_the_per_study_ones_for_every_study(full_store):
    iris = sorted(
        r["s"].value for r in full_store.query(f"SELECT DISTINCT ?s WHERE {{ ?s a <{SCHEMA}Dataset> }}")
    )
    assert len(iris) == 1232
    bulk = study_summaries(full_store, iris)
    assert sorted(bulk) == iris
    differ = [iri for iri in iris if bulk[iri] != study_summary(full_store, iri)]
    assert differ == []
    # the labels the "said by" section shows, from one pass over all studies = those asked per page
    bulk_labels = statement_labels(full_store, bulk)
    rows = {iri: bulk[iri]["statements_by_source"] for iri in iris}
    asked = {
        iri: labels(full_store, {r["p"] for r in rs} | {r["o"] for r in rs if r["iri"] == "true"})
        for iri, rs in rows.items()
    }
    assert [iri for iri in iris if bulk_labels[iri] != asked[iri]] == []
    idr3_labels = bulk_labels["https://idr.openmicroscopy.org/study/idr0003/"]
    assert idr3_labels["http://purl.obolibrary.org/obo/NCBITaxon_4932"] == "Saccharomyces cerevisiae"
    assert idr3_labels["https://w3id.org/gide-kg/vocab#organism"] == "organism"
    # the merged study: both IDR sources' statements and provenance records, in the per-study order
    idr3 = bulk["https://idr.openmicroscopy.org/study/idr0003/"]
    assert idr3["sources"] == ["https://w3id.org/gide-kg/graph/idr", "https://w3id.org/gide-kg/graph/idr-study"]
    assert [p["record"] for p in idr3["provenance"]] == [
        "https://w3id.org/gide-kg/record/idr-study/idr0003-study.txt",
        "https://w3id.org/gide-kg/record/idr/idr0003-ro-crate-metadata.json",
    ]
