"""Study-page summaries computed for every study at once (kg/serve/describe.study_summaries, run with the
index build, kg/indexes.py) are the same as the page's own per-study queries give: for every study of
the real store harvested from all sources (computed in bulk for every study; compared with the per-study
queries on every 8th study and the merged ones, which keeps the 22 queries per study affordable)."""

from __future__ import annotations

from kg.namespaces import SCHEMA
from kg.serve.describe import find_study, labels, statement_labels, study_pages, study_summaries, study_summary


def test_bulk_summaries_equal_the_per_study_ones_for_every_study(full_store):
    iris = sorted(r["s"].value for r in full_store.query(f"SELECT DISTINCT ?s WHERE {{ ?s a <{SCHEMA}Dataset> }}"))
    assert len(iris) == 1232
    bulk = study_summaries(full_store, iris)
    assert sorted(bulk) == iris
    merged = {iri for iri in iris if len(bulk[iri]["sources"]) > 1}
    sample = sorted(set(iris[::8]) | merged | {"https://idr.openmicroscopy.org/study/idr0003/"})
    differ = [iri for iri in sample if bulk[iri] != study_summary(full_store, iri)]
    assert differ == []
    # the labels the "said by" section shows, from one pass over all studies = those asked per page
    bulk_labels = statement_labels(full_store, bulk)
    rows = {iri: bulk[iri]["statements_by_source"] for iri in sample}
    asked = {
        iri: labels(full_store, {r["p"] for r in rs} | {r["o"] for r in rs if r["iri"] == "true"})
        for iri, rs in rows.items()
    }
    assert [iri for iri in sample if bulk_labels[iri] != asked[iri]] == []
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


def test_similar_studies_are_those_sharing_the_most_terms(full_store):
    """The study page's similar studies (StudyIndex.similar scores only studies the facet bitmaps say
    share a term) against the definition scored over every study: Jaccard over organism, imaging method,
    GO, cell-line and anatomy terms, +0.5 for a shared publication, ties by IRI."""
    from kg.indexes import IndexService

    index = IndexService(full_store).warm().studies  # the session's indexes of this store, if built already
    keys = ("organism", "imaging_method", "biological_process", "cell_line", "anatomy")

    def terms(d):
        return {(k, v) for k in keys for v in d.facets.get(k, ())}

    for doc in index.docs[::7]:
        scored = [
            (
                -(
                    len(terms(doc) & terms(o)) / len(terms(doc) | terms(o))
                    + (0.5 if set(doc.citations) & set(o.citations) else 0)
                ),
                o.iri,
            )
            for o in index.docs
            if o.iri != doc.iri and terms(doc) & terms(o)
        ]
        assert [(o.iri, -s) for o, s, _ in index.similar(doc.iri)] == [(i, s) for s, i in sorted(scored)[:5]]
    idr3 = [o.iri for o, _, _ in index.similar("https://idr.openmicroscopy.org/study/idr0003/")]
    assert len(idr3) == 5 and "https://idr.openmicroscopy.org/study/idr0003/" not in idr3
    # every study's, computed with the index for the study records (kg/indexes.py): the same
    every = index.similar_all()
    assert len(every) == len(index.docs) == 1232
    for doc in index.docs[::7]:
        assert every[doc.iri] == [(o.iri, score, shared) for o, score, shared in index.similar(doc.iri)]


def test_each_page_shows_the_study_find_study_finds(full_store):
    """Which study each /study/<repository>/<accession> page shows, computed for all at once with the
    indexes (describe.study_pages), is find_study's answer; an accession no study has is not there."""
    pages = study_pages(full_store)
    assert len(pages) == 1232
    idr = "https://idr.openmicroscopy.org/"
    assert pages[(idr, "idr0003")] == "https://idr.openmicroscopy.org/study/idr0003/"
    for (publisher, accession), iri in sorted(pages.items())[::25]:
        assert find_study(full_store, accession, publisher) == iri
    assert (idr, "idr9999") not in pages and find_study(full_store, "idr9999", idr) is None
