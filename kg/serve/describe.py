"""Reading resources out of the store for pages: labels, statements, study summaries, RDF descriptions."""

from __future__ import annotations

import pyoxigraph as ox

from ..namespaces import DWC, KG, PROV, PROVENANCE_GRAPH, RDFS, SCHEMA, SKOS, compact

LABEL_PREDICATES = [RDFS + "label", SCHEMA + "name", DWC + "scientificName", SKOS + "prefLabel"]


def _iri(value: str) -> str:
    """The IRI as a SPARQL term; ValueError for something that is not an IRI."""
    return str(ox.NamedNode(value))


def labels(store, iris) -> dict[str, str]:
    iris = sorted({i for i in iris if i})
    if not iris:
        return {}
    out: dict[str, str] = {}
    for start in range(0, len(iris), 200):
        chunk = " ".join(_iri(i) for i in iris[start : start + 200])
        preds = " ".join(f"<{p}>" for p in LABEL_PREDICATES)
        rows = store.query(f"SELECT ?x ?p ?l WHERE {{ VALUES ?x {{ {chunk} }} VALUES ?p {{ {preds} }} ?x ?p ?l }}")
        ranked: dict[str, tuple[int, str]] = {}
        for r in rows:
            rank = LABEL_PREDICATES.index(r["p"].value)
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
    out_rows = list(store.query(f"SELECT ?p ?o ?g WHERE {{ GRAPH ?g {{ {node} ?p ?o }} }} ORDER BY ?p ?o LIMIT {limit}"))
    groups = [
        (r["p"], int(r["n"].value))
        for r in store.query(f"SELECT ?p (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p {node} }} }} GROUP BY ?p ORDER BY ?p")
    ]
    in_rows = []
    for pred, _ in groups:
        in_rows += [
            (pred, r)
            for r in store.query(
                f"SELECT ?s ?g WHERE {{ GRAPH ?g {{ ?s {pred} {node} }} }} ORDER BY ?s LIMIT {per_predicate}"
            )
        ]
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
            {"predicate": term_view(r["p"], lab), "object": term_view(r["o"], lab), "graph": r["g"].value} for r in out_rows
        ],
        "incoming_by_predicate": [{"predicate": term_view(p, lab), "count": n} for p, n in groups],
        "incoming": [
            {"subject": term_view(r["s"], lab), "predicate": term_view(pred, lab), "graph": r["g"].value} for pred, r in in_rows
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


def find_study(store, graph: str, accession: str) -> str | None:
    rows = store.query(
        f"SELECT ?s WHERE {{ GRAPH {_iri(graph)} {{ ?s a <{SCHEMA}Dataset> ; <{SCHEMA}identifier> ?id FILTER(STR(?id) = {ox.Literal(accession)}) }} }} LIMIT 1"
    )
    for r in rows:
        return r["s"].value
    return None


def study_source(store, iri: str) -> tuple[str, str] | None:
    """(source graph, accession) of a study IRI, for linking to its study page."""
    rows = store.query(
        f"SELECT ?g ?id WHERE {{ GRAPH ?g {{ {_iri(iri)} a <{SCHEMA}Dataset> ; <{SCHEMA}identifier> ?id }} }} LIMIT 1"
    )
    for r in rows:
        return r["g"].value, r["id"].value
    return None


def _values(store, query: str, *names: str) -> list[dict]:
    out = []
    for r in store.query(query):
        out.append({n: (r[n].value if r[n] is not None else None) for n in names})
    return out


def study_summary(store, iri: str) -> dict:
    """Everything a study page shows, as plain data (the page's JSON twin)."""
    s = _iri(iri)
    S = f"<{SCHEMA}"
    basic = _values(
        store,
        f"""SELECT ?name ?description ?date ?license ?identifier ?publisher ?publisherName WHERE {{
            {s} {S}name> ?name . OPTIONAL {{ {s} {S}description> ?description }}
            OPTIONAL {{ {s} {S}datePublished> ?date }} OPTIONAL {{ {s} {S}license> ?license }}
            OPTIONAL {{ {s} {S}identifier> ?identifier }}
            OPTIONAL {{ {s} {S}publisher> ?publisher . OPTIONAL {{ ?publisher {S}name> ?publisherName }} }} }} LIMIT 1""",
        "name", "description", "date", "license", "identifier", "publisher", "publisherName",
    )
    if not basic:
        return {}
    summary = dict(basic[0], iri=iri)
    summary["keywords"] = sorted(r["k"] for r in _values(store, f"SELECT DISTINCT ?k WHERE {{ {s} {S}keywords> ?k }}", "k"))
    summary["thumbnails"] = sorted(r["t"] for r in _values(store, f"SELECT DISTINCT ?t WHERE {{ {s} {S}thumbnailUrl> ?t }}", "t"))
    summary["authors"] = _values(
        store,
        f"""SELECT ?author (SAMPLE(?n) AS ?name) (SAMPLE(?e) AS ?email) (GROUP_CONCAT(DISTINCT ?an; separator="; ") AS ?affiliations)
            WHERE {{ {s} {S}author> ?author . OPTIONAL {{ ?author {S}name> ?n }}
            OPTIONAL {{ ?author {S}affiliation>/{S}name> ?an }} OPTIONAL {{ ?author {S}email> ?e }} }}
            GROUP BY ?author ORDER BY ?name""",
        "author", "name", "email", "affiliations",
    )
    for a in summary["authors"]:
        a["orcid"] = a["author"] if a["author"].startswith("https://orcid.org/") else None
        a["email"] = None  # e-mail addresses stay in the graph but are not put on public pages
    term_q = """SELECT ?term (SAMPLE(?l) AS ?label) (SAMPLE(?sl) AS ?sourceLabel) WHERE {{ {s} <{KG}{p}> ?term .
        OPTIONAL {{ GRAPH ?og {{ ?term <{RDFS}label> ?l }} FILTER(STRSTARTS(STR(?og), "https://w3id.org/gide-kg/graph/ontology/")) }}
        OPTIONAL {{ ?term <{SCHEMA}name>|<{DWC}scientificName> ?sl }} }} GROUP BY ?term ORDER BY ?term"""
    summary["organisms"] = _values(store, term_q.format(s=s, KG=KG, p="organism", RDFS=RDFS, SCHEMA=SCHEMA, DWC=DWC), "term", "label", "sourceLabel")
    summary["methods"] = _values(store, term_q.format(s=s, KG=KG, p="imagingMethod", RDFS=RDFS, SCHEMA=SCHEMA, DWC=DWC), "term", "label", "sourceLabel")
    summary["other_terms"] = _values(
        store,
        f"""SELECT DISTINCT ?term ?label WHERE {{ {s} {S}about> ?term . ?term a {S}DefinedTerm> . OPTIONAL {{ ?term {S}name> ?label }} }} ORDER BY ?term""",
        "term", "label",
    )
    summary["samples"] = _values(
        store,
        f"""SELECT ?sample ?name ?description WHERE {{ {s} {S}about> ?sample . ?sample a {S}BioSample> .
            OPTIONAL {{ ?sample {S}name> ?name }} OPTIONAL {{ ?sample {S}description> ?description }} }} ORDER BY ?sample""",
        "sample", "name", "description",
    )
    summary["protocols"] = _values(
        store,
        f"""SELECT ?protocol ?name ?description ?equipment WHERE {{ {s} <http://rs.tdwg.org/dwc/iri/measurementMethod> ?protocol .
            ?protocol a {S}LabProtocol> . OPTIONAL {{ ?protocol {S}name> ?name }} OPTIONAL {{ ?protocol {S}description> ?description }}
            OPTIONAL {{ ?protocol {S}labEquipment> ?equipment }} }} ORDER BY ?protocol""",
        "protocol", "name", "description", "equipment",
    )
    summary["publications"] = _values(
        store,
        f"""SELECT ?publication (SAMPLE(?n) AS ?name) (SAMPLE(?d) AS ?date) WHERE {{ {s} {S}citation> ?publication .
            OPTIONAL {{ ?publication {S}name> ?n }} OPTIONAL {{ ?publication {S}datePublished> ?d }} }} GROUP BY ?publication ORDER BY ?publication""",
        "publication", "name", "date",
    )
    summary["sizes"] = _values(
        store,
        f"""SELECT ?value ?unit ?unitText ?description WHERE {{ {s} {S}size> ?q . ?q {S}value> ?value .
            OPTIONAL {{ ?q {S}unitCode> ?unit }} OPTIONAL {{ ?q {S}unitText> ?unitText }} OPTIONAL {{ ?q {S}description> ?description }} }}
            ORDER BY ?unitText""",
        "value", "unit", "unitText", "description",
    )
    summary["study_types"] = _values(
        store,
        f"""SELECT ?term (SAMPLE(?l) AS ?label) WHERE {{ {s} <{KG}studyType> ?term . OPTIONAL {{ ?term <{RDFS}label> ?l }} }} GROUP BY ?term ORDER BY ?term""",
        "term", "label",
    )
    summary["data_dois"] = sorted(r["d"] for r in _values(store, f"SELECT DISTINCT ?d WHERE {{ {{ {s} <{KG}dataDoi> ?d }} UNION {{ {s} {S}hasPart>/<{KG}dataDoi> ?d }} }}", "d"))
    summary["parts"] = _values(
        store,
        f"""SELECT ?part (SAMPLE(?t) AS ?kind) (SAMPLE(?n) AS ?name) (SAMPLE(?st) AS ?sampleType)
            (GROUP_CONCAT(DISTINCT COALESCE(?stl, STR(?stype)); separator="; ") AS ?screenType)
            (GROUP_CONCAT(DISTINCT COALESCE(?tl, STR(?tech)); separator="; ") AS ?technology)
            (COUNT(DISTINCT ?ph) AS ?phenotypes)
            WHERE {{ {s} {S}hasPart> ?part . ?part a ?t . OPTIONAL {{ ?part {S}name> ?n }} OPTIONAL {{ ?part <{KG}sampleType> ?st }}
              OPTIONAL {{ ?part <{KG}screenType> ?stype OPTIONAL {{ ?stype <{RDFS}label> ?stl }} }}
              OPTIONAL {{ ?part <{KG}screenTechnology> ?tech OPTIONAL {{ ?tech <{RDFS}label> ?tl }} }}
              OPTIONAL {{ ?part <{KG}phenotype> ?ph }} }} GROUP BY ?part ORDER BY ?part""",
        "part", "kind", "name", "sampleType", "screenType", "technology", "phenotypes",
    )
    summary["links"] = _values(
        store,
        f"""SELECT ?other ?type ?evidence ?otherName WHERE {{
              ?link a <{KG}StudyLink> ; <{KG}linkType> ?type ; <{KG}evidence> ?evidence .
              {{ ?link <{KG}fromStudy> {s} ; <{KG}toStudy> ?other }} UNION {{ ?link <{KG}toStudy> {s} ; <{KG}fromStudy> ?other }}
              OPTIONAL {{ ?other {S}name> ?otherName }} }} ORDER BY ?type ?other""",
        "other", "type", "evidence", "otherName",
    )
    summary["strains"] = _values(
        store,
        f"""SELECT ?strain (SAMPLE(?l) AS ?label) (SAMPLE(?u) AS ?url) WHERE {{ {s} <{KG}strain> ?strain .
            OPTIONAL {{ ?strain <{RDFS}label> ?l }} OPTIONAL {{ ?strain {S}url> ?u }} }} GROUP BY ?strain ORDER BY ?strain""",
        "strain", "label", "url",
    )
    summary["ome_zarr"] = _values(
        store,
        f"""SELECT ?part ?partName ?url ?viewer ?axes WHERE {{ {s} {S}hasPart> ?part . ?part {S}distribution> ?z .
            ?z {S}encodingFormat> "OME-Zarr" . OPTIONAL {{ ?z {S}contentUrl> ?url }} OPTIONAL {{ ?z <{KG}viewerUrl> ?viewer }}
            OPTIONAL {{ ?z <{KG}axes> ?axes }} OPTIONAL {{ ?part {S}name> ?partName }} }} ORDER BY ?part""",
        "part", "partName", "url", "viewer", "axes",
    )
    summary["sources"] = sorted(r["g"] for r in _values(store, f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ {s} a {S}Dataset> }} }}", "g"))
    summary["provenance"] = _values(
        store,
        f"""SELECT ?record ?file ?sha ?location ?fetched ?run ?runStarted ?runEnded ?mapping
              (GROUP_CONCAT(?mf; separator=" | ") AS ?mappingFiles) WHERE {{ GRAPH <{PROVENANCE_GRAPH}> {{
            {s} <{PROV}wasDerivedFrom> ?record . ?record <{KG}fileName> ?file ; <{KG}sha256> ?sha .
            OPTIONAL {{ ?record <{PROV}atLocation> ?location }} OPTIONAL {{ ?record <{PROV}generatedAtTime> ?fetched }}
            OPTIONAL {{ ?record <{PROV}wasGeneratedBy> ?run . OPTIONAL {{ ?run <{PROV}startedAtTime> ?runStarted }}
                        OPTIONAL {{ ?run <{PROV}endedAtTime> ?runEnded }} OPTIONAL {{ ?run <{PROV}used> ?mapping
                        OPTIONAL {{ ?mapping <{KG}mappingFile> ?mf }} }} }} }} }}
            GROUP BY ?record ?file ?sha ?location ?fetched ?run ?runStarted ?runEnded ?mapping""",
        "record", "file", "sha", "location", "fetched", "run", "runStarted", "runEnded", "mapping", "mappingFiles",
    )
    return summary
