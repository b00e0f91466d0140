"""Grounding the organism and imaging-method values that arrive as text only, with a reviewable SSSOM table.

Values are the objects of `kg:organism` / `kg:imagingMethod` in the source graphs: an IRI is already
grounded; a literal (a term a source names without a usable accession) is grounded here when the term
index gives a decisive candidate, or when a curator's row in mappings/grounding/gide-kg.sssom.tsv says so
(`mapping_justification` semapv:ManualMappingCuration wins over automatic decisions on every harvest).
Groundings go to their own graph with the text, score and reason, so nothing in the sources is changed.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyoxigraph as ox

from ..config import MAPPINGS
from ..namespaces import GRAPH, KG, ONTOLOGY_GRAPH, PROVENANCE_GRAPH
from .ground import candidates, decide
from .index import TermIndex, normalise

GROUNDING_GRAPH = GRAPH + "grounding"
SSSOM_PATH = MAPPINGS / "grounding" / "gide-kg.sssom.tsv"
PROPERTIES = {KG + "organism": ("organism", ["ncbitaxon"]), KG + "imagingMethod": ("imaging method", ["fbbi"])}
MANUAL = "semapv:ManualMappingCuration"
LEXICAL = "semapv:LexicalMatching"
NO_TERM = "sssom:NoTermFound"
COLUMNS = [
    "subject_label",
    "subject_category",
    "predicate_id",
    "object_id",
    "object_label",
    "mapping_justification",
    "confidence",
    "author_id",
    "mapping_date",
    "comment",
]
HEADER = """# curie_map:
#   FBbi: http://purl.obolibrary.org/obo/FBbi_
#   NCBITaxon: http://purl.obolibrary.org/obo/NCBITaxon_
#   semapv: https://w3id.org/semapv/vocab/
#   skos: http://www.w3.org/2004/02/skos/core#
#   sssom: https://w3id.org/sssom/
# mapping_set_id: https://w3id.org/gide-kg/mappings/grounding
# license: https://creativecommons.org/publicdomain/zero/1.0/
# comment: >-
#   Free-text organism and imaging-method values of the harvested metadata, grounded to ontology terms.
#   Rows written by `kg ground --write` are automatic (semapv:LexicalMatching, or sssom:NoTermFound when no
#   candidate was decisive). To decide a value yourself, set object_id (or sssom:NoTermFound to keep it
#   ungrounded) and mapping_justification semapv:ManualMappingCuration: your row wins on the next harvest.
"""


@dataclass
class TextValue:
    graph: str
    subject: str
    prop: str
    text: str


def _iri_to_curie(iri: str) -> str:
    for prefix, ns in (
        ("FBbi", "http://purl.obolibrary.org/obo/FBbi_"),
        ("NCBITaxon", "http://purl.obolibrary.org/obo/NCBITaxon_"),
    ):
        if iri.startswith(ns):
            return f"{prefix}:{iri[len(ns) :]}"
    return iri


def _curie_to_iri(curie: str) -> str:
    for prefix, ns in (
        ("FBbi:", "http://purl.obolibrary.org/obo/FBbi_"),
        ("NCBITaxon:", "http://purl.obolibrary.org/obo/NCBITaxon_"),
    ):
        if curie.startswith(prefix):
            return ns + curie[len(prefix) :]
    return curie


def source_graphs(store) -> list[str]:
    return [
        g.value
        for g in store.public_graphs()
        if not g.value.startswith(ONTOLOGY_GRAPH)
        and g.value not in (PROVENANCE_GRAPH, GROUNDING_GRAPH, GRAPH + "links")
    ]


def value_counts(store) -> dict[tuple[str, str], dict[str, int]]:
    """(graph, property) -> {"iri": n, "text": n}: the organism / method values of each source."""
    out: dict[tuple[str, str], dict[str, int]] = {}
    graphs = " ".join(f"<{g}>" for g in source_graphs(store))
    props = " ".join(f"<{p}>" for p in PROPERTIES)
    rows = store.query(f"""SELECT ?g ?p (SUM(IF(isIRI(?o), 1, 0)) AS ?iris) (SUM(IF(isLiteral(?o), 1, 0)) AS ?texts)
        WHERE {{ VALUES ?g {{ {graphs} }} VALUES ?p {{ {props} }} GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g ?p""")
    for r in rows:
        out[(r["g"].value, r["p"].value)] = {"iri": int(r["iris"].value), "text": int(r["texts"].value)}
    return out


def text_values(store) -> list[TextValue]:
    graphs = " ".join(f"<{g}>" for g in source_graphs(store))
    props = " ".join(f"<{p}>" for p in PROPERTIES)
    rows = store.query(f"""SELECT ?g ?s ?p ?o WHERE {{ VALUES ?g {{ {graphs} }} VALUES ?p {{ {props} }}
        GRAPH ?g {{ ?s ?p ?o FILTER(isLiteral(?o)) }} }} ORDER BY ?g ?s ?p ?o""")
    return [TextValue(r["g"].value, r["s"].value, r["p"].value, r["o"].value) for r in rows]


def read_table(path: Path | None = None) -> dict[tuple[str, str], dict]:
    """(category, normalised label) -> row of the SSSOM table."""
    path = path or SSSOM_PATH
    if not path.exists():
        return {}
    lines = [l for l in path.read_text(encoding="utf-8").splitlines() if not l.startswith("#")]
    return {
        (row["subject_category"], normalise(row["subject_label"])): row for row in csv.DictReader(lines, delimiter="\t")
    }


@dataclass
class Decision:
    value: TextValue
    iri: str | None
    label: str
    score: float
    reason: str
    justification: str


def decide_all(index: TermIndex, values: list[TextValue], table: dict | None = None) -> list[Decision]:
    table = read_table() if table is None else table
    cache: dict[tuple[str, str], Decision] = {}
    out = []
    for v in values:
        category, ontos = PROPERTIES[v.prop]
        key = (category, normalise(v.text))
        if key not in cache:
            manual = table.get(key)
            if manual and manual.get("mapping_justification") == MANUAL:
                iri = None if manual["object_id"] in ("", NO_TERM) else _curie_to_iri(manual["object_id"])
                cache[key] = Decision(v, iri, manual.get("object_label", ""), 100.0, "curated", MANUAL)
            else:
                cands = candidates(index, v.text, ontos)
                chosen = decide(cands)
                if chosen:
                    cache[key] = Decision(v, chosen.term.iri, chosen.term.label, chosen.score, chosen.reason, LEXICAL)
                else:
                    best = cands[0] if cands else None
                    cache[key] = Decision(
                        v,
                        None,
                        best.term.label if best else "",
                        best.score if best else 0.0,
                        f"not decisive (best: {best.term.label}, {best.reason})" if best else "no candidate",
                        LEXICAL,
                    )
        d = cache[key]
        out.append(Decision(v, d.iri, d.label, d.score, d.reason, d.justification))
    return out


def node_key(value: TextValue) -> str:
    """The grounding node's local name: a digest of subject, property and text, so the same input gives the
    same IRI in every process (Python's hash() is salted per process)."""
    return hashlib.sha1("\n".join((value.subject, value.prop, value.text)).encode("utf-8")).hexdigest()[:16]


def grounding_quads(decisions: list[Decision]) -> list[ox.Quad]:
    g = ox.NamedNode(GROUNDING_GRAPH)
    quads = []
    for d in decisions:
        if not d.iri:
            continue
        s, p, term = ox.NamedNode(d.value.subject), ox.NamedNode(d.value.prop), ox.NamedNode(d.iri)
        node = ox.NamedNode(f"{GROUNDING_GRAPH}/{node_key(d.value)}")
        quads += [
            ox.Quad(s, p, term, g),
            ox.Quad(node, ox.NamedNode(KG + "groundedSubject"), s, g),
            ox.Quad(node, ox.NamedNode(KG + "groundedProperty"), p, g),
            ox.Quad(node, ox.NamedNode(KG + "text"), ox.Literal(d.value.text), g),
            ox.Quad(node, ox.NamedNode(KG + "groundedTo"), term, g),
            ox.Quad(
                node,
                ox.NamedNode(KG + "score"),
                ox.Literal(f"{d.score:.1f}", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#decimal")),
                g,
            ),
            ox.Quad(node, ox.NamedNode(KG + "reason"), ox.Literal(d.reason), g),
            ox.Quad(node, ox.NamedNode(KG + "justification"), ox.Literal(d.justification), g),
            ox.Quad(node, ox.NamedNode(KG + "sourceGraph"), ox.NamedNode(d.value.graph), g),
        ]
    return quads


def write_table(decisions: list[Decision], path: Path | None = None) -> Path:
    """Write the SSSOM table: curated rows kept as they are, automatic rows refreshed."""
    path = path or SSSOM_PATH
    old = read_table(path)
    rows: dict[tuple[str, str], dict] = {k: r for k, r in old.items() if r.get("mapping_justification") == MANUAL}
    for d in decisions:
        category = PROPERTIES[d.value.prop][0]
        key = (category, normalise(d.value.text))
        if key in rows:
            continue
        rows[key] = {
            "subject_label": d.value.text,
            "subject_category": category,
            "predicate_id": "skos:exactMatch",
            "object_id": _iri_to_curie(d.iri) if d.iri else NO_TERM,
            "object_label": d.label if d.iri else "",
            "mapping_justification": d.justification,
            "confidence": f"{d.score / 100:.2f}",
            "author_id": "https://w3id.org/gide-kg/vocab#Harvester",
            "mapping_date": date.today().isoformat(),
            "comment": d.reason,
        }
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(HEADER)
        w = csv.DictWriter(f, fieldnames=COLUMNS, delimiter="\t", lineterminator="\n")
        w.writeheader()
        for key in sorted(rows):
            w.writerow({c: rows[key].get(c, "") for c in COLUMNS})
    return path


def report(store, index: TermIndex, sources: dict) -> list[dict]:
    """Per source and property: values already IRIs, grounded from text, left ungrounded."""
    counts = value_counts(store)
    decisions = decide_all(index, text_values(store))
    by_key: dict[tuple[str, str], list[Decision]] = {}
    for d in decisions:
        by_key.setdefault((d.value.graph, d.value.prop), []).append(d)
    out = []
    for name, src in sources.items():
        graph = GRAPH + name
        for prop, (category, _) in PROPERTIES.items():
            c = counts.get((graph, prop), {"iri": 0, "text": 0})
            ds = by_key.get((graph, prop), [])
            grounded = sum(1 for d in ds if d.iri)
            out.append(
                {
                    "source": name,
                    "label": src.label,
                    "property": category,
                    "iri": c["iri"],
                    "grounded_from_text": grounded,
                    "ungrounded": len(ds) - grounded,
                    "ungrounded_values": sorted({d.value.text for d in ds if not d.iri}),
                }
            )
    return out
