"""Authors and keywords in source order (issue #13).

RDF values are unordered, so the harvest states each source's order as an rdf:List besides the values
(`kg:authorOrder`, `kg:keywordOrder`), and /gide entries list authors and keywords in that order. The
expected order is read here from the records themselves with plain `json` / `csv` (tests/crate_facts.py),
never through kg's mapping code. Runs the real app over HTTP on 127.0.0.1 on the session stores.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
import requests

from _server import running_app
from expected import CRATE_DISTINCT_STUDIES

ROOT = Path(__file__).resolve().parent.parent
IDR_STUDIES = ROOT / "data" / "native" / "idr-study"
KG = "https://w3id.org/gide-kg/vocab#"
IDR0070 = "https://idr.openmicroscopy.org/study/idr0070/"


def all_entries(base: str, **params) -> dict[str, dict]:
    """Every /gide/search hit's entry, by study IRI (paged 100 at a time)."""
    out: dict[str, dict] = {}
    with requests.Session() as http:
        offset, total = 0, 1
        while offset < total:
            r = http.get(base + "/gide/search", params={**params, "size": 100, "offset": offset}, timeout=120)
            assert r.status_code == 200, r.text[:300]
            body = r.json()
            total = body["total"]
            out.update((hit["id"], hit["entry"]) for hit in body["hits"])
            offset += 100
    return out


def study_file_rows(path: Path) -> dict[str, list[str]]:
    """An IDR study file's study section as key → non-empty cells (in file order), read with csv."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
    rows: dict[str, list[str]] = {}
    for row in csv.reader(io.StringIO(text.replace("\r\n", "\n").replace("\r", "\n")), delimiter="\t"):
        if row and row[0].strip() in ("Screen Number", "Experiment Number"):
            break
        if row and row[0].strip():
            rows.setdefault(row[0].strip(), [c.strip() for c in row[1:]])
    return rows


@pytest.fixture(scope="module")
def crates_app(harvested_store):
    with running_app(harvested_store) as base:
        yield base


@pytest.fixture(scope="module")
def crate_entries(crates_app):
    return all_entries(crates_app)


def test_every_crate_study_lists_authors_and_keywords_in_crate_order(crate_entries, crate_studies):
    assert len(crate_entries) == len(crate_studies) == CRATE_DISTINCT_STUDIES
    wrong = {
        iri: ([a["id"] for a in crate_entries[iri]["author"]], crate_entries[iri]["keywords"])
        for iri, s in crate_studies.items()
        if [a["id"] for a in crate_entries[iri]["author"]] != s.author_ids
        or crate_entries[iri]["keywords"] != s.keywords
    }
    assert wrong == {}
    # the order carries information: in these many studies it is not the sorted order
    assert sum(s.author_ids != sorted(s.author_ids) for s in crate_studies.values()) == 408
    assert sum(s.keywords != sorted(s.keywords) for s in crate_studies.values()) == 567


def test_names_follow_the_order(crate_entries):
    assert [a["name"] for a in crate_entries[IDR0070]["author"]] == [
        "Janet Kerwin",
        "YuZhu Cheng",
        "Steven Lisgo",
        "Andrew Copp",
        "Deborah Henderson",
    ]


def test_study_crate_downloads_keep_the_order(crates_app, crate_studies):
    """The per-study RO-Crate (/study/<source>/<id>/ro-crate-metadata.json) of the 20 studies with the
    longest author + keyword arrays writes both arrays in the crate's order."""
    from crate_facts import ids

    longest = sorted(crate_studies.values(), key=lambda s: (-len(s.author_ids) - len(s.keywords), s.iri))[:20]
    wrong = {}
    with requests.Session() as http:
        for s in longest:
            ident = s.file.name.removesuffix("-ro-crate-metadata.json")
            r = http.get(f"{crates_app}/study/{s.source}/{ident}/ro-crate-metadata.json", timeout=60)
            assert r.status_code == 200, (s.iri, r.status_code)
            root = r.json()["@graph"][1]
            if ids(root.get("author")) != s.author_ids or ids(root.get("keywords")) != s.keywords:
                wrong[s.iri] = (ids(root.get("author")), ids(root.get("keywords")))
    assert wrong == {} and sum(len(s.author_ids) + len(s.keywords) for s in longest) == 690


def test_study_pages_list_authors_and_keywords_in_crate_order(harvested_store, crates_app, crate_studies):
    """The study summary (a study page and its JSON twin, "cite this") of every crate study lists authors
    and keywords as the crate does (they were sorted by name before), computed in bulk as the index build
    does; the page of the 20 studies with the longest arrays shows them so over HTTP."""
    from kg.serve.describe import study_summaries

    summaries = study_summaries(harvested_store, sorted(crate_studies))
    wrong = {
        iri: ([a["author"] for a in summaries[iri]["authors"]], summaries[iri]["keywords"])
        for iri, s in crate_studies.items()
        if [a["author"] for a in summaries[iri]["authors"]] != s.author_ids or summaries[iri]["keywords"] != s.keywords
    }
    assert wrong == {} and len(summaries) == CRATE_DISTINCT_STUDIES
    longest = sorted(crate_studies.values(), key=lambda s: (-len(s.author_ids) - len(s.keywords), s.iri))[:20]
    with requests.Session() as http:
        for s in longest:
            ident = s.file.name.removesuffix("-ro-crate-metadata.json")
            page = http.get(f"{crates_app}/study/{s.source}/{ident}", params={"format": "json"}, timeout=60)
            assert page.status_code == 200, (s.iri, page.status_code)
            body = page.json()
            assert [a["author"] for a in body["authors"]] == s.author_ids and body["keywords"] == s.keywords, s.iri
    names = [a["name"] for a in summaries[IDR0070]["authors"]]
    assert names == ["Janet Kerwin", "YuZhu Cheng", "Steven Lisgo", "Andrew Copp", "Deborah Henderson"]
    assert names != sorted(names)


def test_graph_states_the_order_as_rdf_lists(harvested_store, select, crate_studies):
    """One list per ordered property of every crate whose root has one, holding exactly its values."""
    rows = select(
        harvested_store,
        """SELECT ?p (COUNT(DISTINCT ?s) AS ?studies) (SUM(?bad) AS ?mismatches) WHERE {
             { SELECT ?s ?p ?list (IF(COUNT(?x) = COUNT(?v), 0, 1) AS ?bad) WHERE {
                 VALUES (?p ?q) { (kg:authorOrder schema:author) (kg:keywordOrder schema:keywords) }
                 ?s ?p ?list . ?list rdf:rest*/rdf:first ?x . OPTIONAL { ?s ?q ?v FILTER(sameTerm(?v, ?x)) }
               } GROUP BY ?s ?p ?list }
           } GROUP BY ?p""",
    )
    got = {r["p"].value: (int(r["studies"].value), int(r["mismatches"].value)) for r in rows}
    assert got == {
        KG + "authorOrder": (sum(bool(s.author_ids) for s in crate_studies.values()), 0),
        KG + "keywordOrder": (sum(bool(s.keywords) for s in crate_studies.values()), 0),
    }


def test_readme_query_gives_the_positions(harvested_store):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    query = next(q for q in re.findall(r"```sparql\n(.*?)```", readme, flags=re.S) if "kg:authorOrder" in q)
    rows = list(harvested_store.query(query))
    assert [(r["name"].value, int(r["position"].value)) for r in rows] == [
        ("Janet Kerwin", 1),
        ("YuZhu Cheng", 2),
        ("Steven Lisgo", 3),
        ("Andrew Copp", 4),
        ("Deborah Henderson", 5),
    ]


def test_idr_study_files_give_their_keyword_and_author_order(full_store, crate_studies):
    """IDR's crates have no keywords: entries take them from the study files, in cell order; a study's
    authors are its crate's, in order, then those only the study file names."""
    with running_app(full_store) as base:
        entries = all_entries(base, publisher="IDR")
    files = sorted(IDR_STUDIES.glob("*/*-study.txt"))
    assert len(files) == 131
    wrong, checked = {}, 0
    for f in files:
        rows = study_file_rows(f)
        iri = f"https://idr.openmicroscopy.org/study/{rows['Comment[IDR Study Accession]'][0]}/"
        e = entries[iri]
        keywords = list(dict.fromkeys(c for c in rows.get("Study Key Words", []) if c))
        crate = crate_studies[iri].author_ids if iri in crate_studies else []
        if e["keywords"] != keywords or [a["id"] for a in e["author"]][: len(crate)] != crate:
            wrong[iri] = (e["keywords"], [a["id"] for a in e["author"]])
        checked += bool(keywords)
    assert wrong == {} and checked == 85
