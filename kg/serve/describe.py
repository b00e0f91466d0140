"""Reading resources out of the store for pages: labels, statements, study summaries, RDF descriptions."""

from __future__ import annotations

import re

import pyoxigraph as ox

from ..config import QUERIES
from ..namespaces import DWC, RDFS, SCHEMA, SKOS, compact
from ..study_nodes import MAX_LIST, ORDER
from .queries import STUDY_PLACEHOLDER, bind_iri, internal_queries

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

LABEL_PREDICATES = [RDFS + "label", SCHEMA + "name", DWC + "scientificName", SKOS + "prefLabel"]


def _iri(value: str) -> str:
    """The IRI as a SPARQL term; ValueError for something that is not an IRI."""
    return str(ox.NamedNode(value))


def _valid_iri(value: str) -> bool:
    try:
        ox.NamedNode(value)
    except ValueError:
        return False
    return True


def labels(store, iris) -> dict[str, str]:
    """The best label of each IRI (values that are not IRIs are skipped)."""
    iris = sorted({i for i in iris if i and _valid_iri(i)})
    if not iris:
        return {}
    out: dict[str, str] = {}
    # one UNION branch per predicate: 40x faster in Oxigraph than a VALUES list of predicates
    branches = " UNION ".join(f"{{ ?x <{p}> ?l BIND({i} AS ?rank) }}" for i, p in enumerate(LABEL_PREDICATES))
    for start in range(0, len(iris), 200):
        chunk = " ".join(_iri(i) for i in iris[start : start + 200])
        rows = store.query(f"SELECT ?x ?rank ?l WHERE {{ VALUES ?x {{ {chunk} }} {branches} }}")
        ranked: dict[str, tuple[int, str]] = {}
        for r in rows:
            rank = int(r["rank"].value)
            x = r["x"].value
            if x not in ranked or rank < ranked[x][0]:
                ranked[x] = (rank, r["l"].value)
        out.update({k: v[1] for k, v in ranked.items()})
    return out


def term_view(value, label_map: dict[str, str]) -> dict:
    """A display dict for any RDF term: IRI with label and short form, or literal with datatype."""
    if isinstance(value, ox.NamedNode):
        return {"kind": "iri", "iri": value.value, "label": label_map.get(value.value), "short": compact(value.value)}
    if isinstance(value, ox.BlankNode):
        return {"kind": "bnode", "id": value.value}
    dt = value.datatype.value if value.datatype else ""
    return {
        "kind": "literal",
        "value": value.value,
        "datatype": "" if dt.endswith("#string") or dt.endswith("#langString") else compact(dt),
        "language": value.language,
    }


def statements(store, iri: str, limit: int = 500, per_predicate: int = 50) -> dict:
    """Outgoing statements (up to `limit`) and incoming ones grouped by predicate, with counts.

    Popular terms (a taxon, a method) are referenced by hundreds of studies: grouping keeps every kind
    of link visible, LodView-style, instead of cutting the list at an arbitrary row.
    """
    node = _iri(iri)
    out_rows = list(
        store.query(f"SELECT ?p ?o ?g WHERE {{ GRAPH ?g {{ {node} ?p ?o }} }} ORDER BY ?p ?o LIMIT {limit}")
    )
    groups = [
        (r["p"], int(r["n"].value))
        for r in store.query(
            f"SELECT ?p (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p {node} }} }} GROUP BY ?p ORDER BY ?p"
        )
    ]
    in_rows = []
    for pred, _ in groups:
        # no ORDER BY in the query: sorting every referrer of a popular term costs 100 ms; index order
        # is stable, the page sorts the sample it shows
        rows = store.query(f"SELECT ?s ?g WHERE {{ GRAPH ?g {{ ?s {pred} {node} }} }} LIMIT {per_predicate}")
        in_rows += sorted(((pred, r) for r in rows), key=lambda pr: (pr[1]["s"].value, pr[1]["g"].value))
    iris = {iri}
    for r in out_rows:
        iris |= {r["p"].value, r["g"].value}
        if isinstance(r["o"], ox.NamedNode):
            iris.add(r["o"].value)
    for pred, r in in_rows:
        iris |= {pred.value}
        if isinstance(r["s"], ox.NamedNode):
            iris.add(r["s"].value)
    lab = labels(store, iris)
    return {
        "iri": iri,
        "label": lab.get(iri),
        "outgoing": [
            {"predicate": term_view(r["p"], lab), "object": term_view(r["o"], lab), "graph": r["g"].value}
            for r in out_rows
        ],
        "incoming_by_predicate": [{"predicate": term_view(p, lab), "count": n} for p, n in groups],
        "incoming": [
            {"subject": term_view(r["s"], lab), "predicate": term_view(pred, lab), "graph": r["g"].value}
            for pred, r in in_rows
        ],
        "incoming_total": sum(n for _, n in groups),
    }


def describe_graph(store, iri: str):
    """Triples describing a resource: its statements plus those of its own `#local` nodes."""
    node = _iri(iri)
    return store.query(
        f"""CONSTRUCT {{ {node} ?p ?o . ?local ?lp ?lo }} WHERE {{
              {{ {node} ?p ?o }} UNION
              {{ {node} ?p0 ?local . FILTER(isIRI(?local) && STRSTARTS(STR(?local), CONCAT(STR({node}), "#"))) ?local ?lp ?lo }}
            }}"""
    )


def find_study(store, accession: str, publisher: str) -> str | None:
    """The study IRI with this accession published by `publisher`, whichever source graphs describe it."""
    rows = store.query(
        f"""SELECT DISTINCT ?s WHERE {{ ?s <{SCHEMA}identifier> {ox.Literal(accession)} ; a <{SCHEMA}Dataset> ;
              <{SCHEMA}publisher> {_iri(publisher)} }} ORDER BY ?s LIMIT 1"""
    )
    for r in rows:
        return r["s"].value
    return None


def study_pages(store) -> dict[tuple[str, str], str]:
    """`find_study` of every (publisher, accession) at once, by the same pattern and order: computed
    with the indexes, so that a study page's first visit does not ask the store which study it shows."""
    found: dict[tuple[str, str], str] = {}
    for r in store.query(
        f"""SELECT ?s ?id ?pub WHERE {{ ?s <{SCHEMA}identifier> ?id ; a <{SCHEMA}Dataset> ; <{SCHEMA}publisher> ?pub
              FILTER(isIRI(?pub) && isLiteral(?id) && datatype(?id) = <http://www.w3.org/2001/XMLSchema#string>) }}
            ORDER BY ?s"""
    ):
        found.setdefault((r["pub"].value, r["id"].value), r["s"].value)
    return found


def study_key(store, iri: str) -> tuple[str, str] | None:
    """(publisher, accession) of a study IRI: what its one canonical page is named by."""
    rows = store.query(
        f"SELECT ?pub ?id WHERE {{ {_iri(iri)} a <{SCHEMA}Dataset> ; <{SCHEMA}identifier> ?id ; <{SCHEMA}publisher> ?pub }} ORDER BY ?pub ?id LIMIT 1"
    )
    for r in rows:
        return r["pub"].value, r["id"].value
    return None


def study_graphs(store, iri: str) -> list[str]:
    """The source graphs that describe a study (say it is a schema:Dataset), sorted."""
    return sorted(
        r["g"].value
        for r in store.query(f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ {_iri(iri)} a <{SCHEMA}Dataset> }} }}")
    )


def _rows(store, name: str, iri: str) -> list[dict]:
    """Rows of the internal study query `name` for one study, each as {variable: value or None}."""
    result = store.query(bind_iri(STUDY_QUERIES()[name].text, iri))
    names = [v.value for v in result.variables]
    return [{n: (r[n].value if r[n] is not None else None) for n in names} for r in result]


def STUDY_QUERIES():
    return internal_queries(QUERIES / "internal" / "study")


LIST_SECTIONS = {  # summary key → internal query (queries/internal/study/<name>.rq)
    "authors": "authors",
    "organisms": "terms-organism",
    "methods": "terms-imagingMethod",
    "other_terms": "other-terms",
    "samples": "samples",
    "protocols": "protocols",
    "publications": "publications",
    "sizes": "sizes",
    "study_types": "study-types",
    "parts": "parts",
    "links": "links",
    "strains": "strains",
    "ome_zarr": "ome-zarr",
    "provenance": "provenance",
}


def study_summary(store, iri: str) -> dict:
    """Everything a study page shows, as plain data (the page's JSON twin). The queries are data files
    (queries/internal/study/*.rq); the result is cached per harvest generation by the caller."""
    return _summary(iri, lambda name: _rows(store, name, iri))


def study_summaries(store, iris: list[str], chunk: int = 400) -> dict[str, dict]:
    """`study_summary` of many studies at once: each internal query runs once per `chunk` studies (its
    VALUES clause lists them, `?study` is projected and grouped by) instead of once per study, so all
    ~1,200 studies cost a few seconds, not a minute. The same queries, grouped per study in the order
    they answer, give the same summaries (tests/test_study_summaries.py checks every study)."""
    rows: dict[str, dict[str, list[dict]]] = {i: {} for i in iris}
    for name, query in STUDY_QUERIES().items():
        text, limit = _bulk_text(query.text)
        for start in range(0, len(iris), chunk):
            values = " ".join(_iri(i) for i in iris[start : start + chunk])
            result = store.query(text.replace(STUDY_PLACEHOLDER, values))
            names = [v.value for v in result.variables][1:]
            for r in result:
                mine = rows[r["study"].value].setdefault(name, [])
                if limit is None or len(mine) < limit:
                    mine.append({n: (r[n].value if r[n] is not None else None) for n in names})
    return {i: summary for i in iris if (summary := _summary(i, lambda name, i=i: rows[i].get(name, [])))}


def statement_labels(store, summaries: dict[str, dict]) -> dict[str, dict[str, str]]:
    """Per study, the labels of the predicates and IRI values of its statements (what the page's "said
    by" section asks `labels` for), from one `labels` pass over every study's IRIs."""
    wanted = {iri: _statement_iris(s["statements_by_source"]) for iri, s in summaries.items()}
    found = labels(store, set().union(*wanted.values()))
    return {iri: {i: found[i] for i in iris if i in found} for iri, iris in wanted.items()}


def _statement_iris(rows: list[dict]) -> set[str]:
    return {r["p"] for r in rows} | {r["o"] for r in rows if r.get("iri") == "true"}


def _bulk_text(text: str) -> tuple[str, int | None]:
    """An internal study query rewritten for many studies: `?study` first in the projection and the
    grouping; a final LIMIT becomes a per-study limit (returned, applied by the caller)."""
    limit = None
    m = re.search(r"\bLIMIT\s+(\d+)\s*$", text)
    if m:
        text, limit = text[: m.start()], int(m.group(1))
    text, n = re.subn(r"\bSELECT(\s+DISTINCT)?\s", lambda m: f"SELECT{m.group(1) or ''} ?study ", text, count=1)
    if n != 1:
        raise ValueError("an internal study query without SELECT")
    text = re.sub(r"\bGROUP BY\s", "GROUP BY ?study ", text, count=1)
    return text, limit


def source_order(rows: list[dict], pred: str) -> list[str]:
    """The items of a study's `pred` lists (rows of the internal `order` query: each list's cells), graph by
    graph in name order (crates before native records, as the GIDE entries take them), each item once."""
    cells: dict[str, dict[str, tuple[str, str]]] = {}
    heads: dict[str, set[str]] = {}
    for r in rows:
        if r["p"] == pred:
            cells.setdefault(r["g"], {})[r["cell"]] = (r["item"], r["next"])
            heads.setdefault(r["g"], set()).add(r["list"])
    out: list[str] = []
    seen: set[str] = set()
    for g in sorted(cells):
        for cell in sorted(heads[g]):
            walked = 0
            while cell in cells[g] and walked < MAX_LIST:  # a cyclic list ends at MAX_LIST cells
                item, cell = cells[g][cell]
                walked += 1
                if item not in seen:
                    seen.add(item)
                    out.append(item)
    return out


def _summary(iri: str, rows) -> dict:
    """A study's summary from `rows(query name)`: the rows of one internal query for this study."""
    basic = rows("basic")
    if not basic:
        return {}
    summary = dict(basic[0], iri=iri)
    summary["keywords"] = [r["k"] for r in rows("keywords")]
    summary["thumbnails"] = [r["t"] for r in rows("thumbnails")]
    summary["data_dois"] = [r["d"] for r in rows("data-dois")]
    for key, name in LIST_SECTIONS.items():
        summary[key] = [dict(r) for r in rows(name)]
    order = rows("order")
    authors = {a: i for i, a in enumerate(source_order(order, ORDER[SCHEMA + "author"]))}
    keywords = {k: i for i, k in enumerate(source_order(order, ORDER[SCHEMA + "keywords"]))}
    # as the GIDE entries (kg/study_nodes.py): listed values in source order, then the others as queried
    summary["authors"].sort(key=lambda a: authors.get(a["author"], len(authors)))
    summary["keywords"].sort(key=lambda k: keywords.get(k, len(keywords)))
    for a in summary["authors"]:
        a["orcid"] = a["author"] if a["author"].startswith("https://orcid.org/") else None
        a["email"] = None  # e-mail addresses stay in the graph but are not put on public pages
    # sorted here: ORDER BY in the query triples its cost (12 ms of a 45 ms page)
    by_source = sorted(rows("by-source"), key=lambda r: (r["g"], r["p"], r["o"]))
    summary["sources"] = sorted({r["g"] for r in by_source if r["p"] == RDF_TYPE and r["o"] == SCHEMA + "Dataset"})
    summary["statements_by_source"] = by_source
    return summary
