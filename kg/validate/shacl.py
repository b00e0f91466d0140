"""SHACL validation of each source graph against the GIDE profile shapes and ours.

Shapes are the files in ontologies/shacl/. Each source graph is validated on its own, and the results
are kept in the validation graph, one `sh:ValidationResult` per finding with the source, so /quality can
summarise them per repository and shape, and SPARQL can ask for them.

Two engines give the same findings (tested): pyrudof (rudof's Rust SHACL engine, the default: 3-5x
faster on every source, benchmarks/bench_shacl.py) and pyshacl (`KG_SHACL_ENGINE=pyshacl`).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import rdflib

from ..config import ONTOLOGIES
from ..namespaces import GRAPH, KG

SH = "http://www.w3.org/ns/shacl#"
VALIDATION_GRAPH = GRAPH + "validation"


def shapes_graph(folder: Path | None = None) -> rdflib.Graph:
    g = rdflib.Graph()
    for f in sorted((folder or ONTOLOGIES / "shacl").glob("*.ttl")):
        g.parse(f, format="turtle")
    return g


ENGINES = ("rudof", "pyshacl")


def engine_name(engine: str | None = None) -> str:
    name = engine or os.environ.get("KG_SHACL_ENGINE") or "rudof"
    if name not in ENGINES:
        raise ValueError(f"unknown SHACL engine {name!r}; one of {', '.join(ENGINES)}")
    return name


def validate_source(store, graph: str, shapes: rdflib.Graph, engine: str | None = None) -> tuple[bool, list[dict]]:
    """Validate one named graph; the findings as dicts (focus, path, severity, message, shape, value)."""
    if engine_name(engine) == "rudof":
        return _validate_rudof(store.dump_graph(graph, ox.RdfFormat.N_TRIPLES), shapes.serialize(format="nt"))
    return _validate_pyshacl(store, graph, shapes)


def _validate_pyshacl(store, graph: str, shapes: rdflib.Graph) -> tuple[bool, list[dict]]:
    import pyshacl

    data = rdflib.Graph()
    data.parse(data=store.dump_graph(graph, ox.RdfFormat.N_TRIPLES), format="nt")
    conforms, report, _ = pyshacl.validate(
        data, shacl_graph=shapes, inference="none", advanced=False, allow_warnings=True
    )
    sh = rdflib.Namespace(SH)
    out = []
    for r in report.subjects(rdflib.RDF.type, sh.ValidationResult):
        path = report.value(r, sh.resultPath)
        value = report.value(r, sh.value)
        focus = report.value(r, sh.focusNode)
        out.append(
            {
                "focus": f"_:{focus}" if isinstance(focus, rdflib.BNode) else str(focus),
                "path": str(path) if isinstance(path, rdflib.URIRef) else None,
                "severity": str(report.value(r, sh.resultSeverity)).rsplit("#", 1)[-1],
                "message": str(report.value(r, sh.resultMessage) or ""),
                "shape": str(report.value(r, sh.sourceShape))
                if isinstance(report.value(r, sh.sourceShape), rdflib.URIRef)
                else None,
                "value": str(value) if value is not None else None,
            }
        )
    return bool(conforms), out


def _term_text(text: str | None) -> str | None:
    """rudof gives terms in N-Triples syntax (`"a message"`, `<iri>` or a bare IRI, `_:b0`); pyshacl's
    findings are plain strings: a literal's lexical form, an IRI."""
    if text is None:
        return None
    if text.startswith('"'):
        try:
            return next(iter(ox.parse(f"<x:s> <x:p> {text} .".encode(), ox.RdfFormat.N_TRIPLES))).object.value
        except (SyntaxError, StopIteration):
            return text.strip('"')
    return text[1:-1] if text.startswith("<") and text.endswith(">") else text


def _validate_rudof(ntriples: bytes, shapes_nt: str) -> tuple[bool, list[dict]]:
    import pyrudof

    rudof = pyrudof.Rudof(pyrudof.RudofConfig())
    rudof.read_data(ntriples.decode(), format=pyrudof.RDFFormat.NTriples)
    rudof.read_shacl(shapes_nt, format=pyrudof.ShaclFormat.NTriples)
    report = rudof.validate_shacl()
    out = []
    for e in report:
        shape = _term_text(e.source_shape)
        path = _term_text(e.path)
        out.append(
            {
                "focus": _term_text(e.focus_node),
                "path": path if path and not path.startswith("_:") else None,
                "severity": str(e.severity).rsplit("#", 1)[-1],
                "message": _term_text(e.message) or "",
                "shape": shape if shape and not shape.startswith("_:") else None,
                "value": _term_text(e.value),
            }
        )
    return bool(report.conforms), out


def _rudof_job(job: tuple[bytes, str]) -> tuple[bool, list[dict], float]:
    """One source in a worker process: (conforms, findings, seconds)."""
    t = time.perf_counter()
    conforms, findings = _validate_rudof(*job)
    return conforms, findings, time.perf_counter() - t


def validate_sources(
    store, graphs: dict[str, str], shapes: rdflib.Graph, engine: str | None
) -> dict[str, tuple[bool, list[dict], float]]:
    """Source name -> (conforms, findings, seconds). rudof runs the sources in parallel processes (one per
    core): each validation holds its process's GIL for seconds."""
    if engine_name(engine) == "rudof" and len(graphs) > 1 and (os.cpu_count() or 1) > 1:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        shapes_nt = shapes.serialize(format="nt")
        jobs = [(store.dump_graph(g, ox.RdfFormat.N_TRIPLES), shapes_nt) for g in graphs.values()]
        workers = min(len(jobs), os.cpu_count() or 1)
        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
            return dict(zip(graphs, pool.map(_rudof_job, jobs), strict=True))
    out = {}
    for name, graph in graphs.items():
        t = time.perf_counter()
        conforms, findings = validate_source(store, graph, shapes, engine)
        out[name] = (conforms, findings, time.perf_counter() - t)
    return out


def comparable(findings: list[dict]) -> Counter:
    """Findings as a multiset that two engines can be compared on: blank nodes have no shared labels."""

    def term(v):
        return "_:" if isinstance(v, str) and v.startswith("_:") else v

    return Counter(
        (term(f["focus"]), f["path"], f["severity"], f["message"], f["shape"], term(f["value"])) for f in findings
    )


def result_quads(source: str, findings: list[dict]) -> list[ox.Quad]:
    g = ox.NamedNode(VALIDATION_GRAPH)
    quads = []
    for i, f in enumerate(findings):
        r = ox.NamedNode(f"{VALIDATION_GRAPH}/{source}/{i}")
        quads += [
            ox.Quad(
                r,
                ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                ox.NamedNode(SH + "ValidationResult"),
                g,
            ),
            ox.Quad(r, ox.NamedNode(KG + "harvestSource"), ox.Literal(source), g),
            ox.Quad(
                r,
                ox.NamedNode(SH + "focusNode"),
                ox.NamedNode(f["focus"]) if "://" in f["focus"] else ox.Literal(f["focus"]),
                g,
            ),
            ox.Quad(r, ox.NamedNode(SH + "resultSeverity"), ox.NamedNode(SH + f["severity"]), g),
            ox.Quad(r, ox.NamedNode(SH + "resultMessage"), ox.Literal(f["message"]), g),
        ]
        if f["path"]:
            quads.append(ox.Quad(r, ox.NamedNode(SH + "resultPath"), ox.NamedNode(f["path"]), g))
        if f["shape"]:
            quads.append(ox.Quad(r, ox.NamedNode(SH + "sourceShape"), ox.NamedNode(f["shape"]), g))
    return quads


def validated_sources(store) -> set[str]:
    rows = store.query(
        f"SELECT DISTINCT ?src WHERE {{ GRAPH <{VALIDATION_GRAPH}> {{ ?s <{KG}validatedSource> ?src }} }}"
    )
    return {r["src"].value for r in rows}


def validate_all(store, sources: dict, only: set[str] | None = None, engine: str | None = None) -> dict:
    """Validate the harvested source graphs (all, or `only` these), replacing their findings in the
    validation graph; return the summary. Info-level findings ("MAY have …") are counted, not stored."""
    summary = {"sources": {}, "seconds": {}}
    if only is not None and not only:
        return summary
    shapes = shapes_graph()
    keep = [q for q in store.quads(VALIDATION_GRAPH)] if only is not None else []
    quads = []
    graphs = {
        name: GRAPH + name for name in sources if store.has_graph(GRAPH + name) and (only is None or name in only)
    }
    for name, (conforms, findings, seconds) in validate_sources(store, graphs, shapes, engine).items():
        summary["seconds"][name] = round(seconds, 3)
        summary["sources"][name] = {
            "conforms": conforms,
            "by_message": dict(Counter(f"{f['severity']}: {f['message']}" for f in findings).most_common()),
            "violations": sum(1 for f in findings if f["severity"] == "Violation"),
        }
        quads += result_quads(name, [f for f in findings if f["severity"] != "Info"])
        quads.append(
            ox.Quad(
                ox.NamedNode(f"{VALIDATION_GRAPH}/{name}"),
                ox.NamedNode(KG + "validatedSource"),
                ox.Literal(name),
                ox.NamedNode(VALIDATION_GRAPH),
            )
        )
    redone = set(summary["sources"])
    kept = [
        q
        for q in keep
        if not any(
            q.subject.value.startswith(f"{VALIDATION_GRAPH}/{n}/") or q.subject.value == f"{VALIDATION_GRAPH}/{n}"
            for n in redone
        )
    ]
    store.replace_graph(VALIDATION_GRAPH, kept + quads)
    return summary


def summary_from_store(store) -> list[dict]:
    """Per source, severity and message: count of findings and up to 20 focus nodes (from the validation graph).
    Grouped here rather than with GROUP_CONCAT: a focus node may be a literal with spaces ("SPIM (MF-HREM)")."""
    rows = store.query(
        f"""SELECT ?src ?sev ?msg ?r ?focus WHERE {{
              GRAPH <{VALIDATION_GRAPH}> {{ ?r a <{SH}ValidationResult> ; <{KG}harvestSource> ?src ; <{SH}resultSeverity> ?sev ;
              <{SH}resultMessage> ?msg ; <{SH}focusNode> ?focus }} }}"""
    )
    groups: dict[tuple[str, str, str], tuple[list[int], set[str]]] = {}
    for r in rows:
        count, foci = groups.setdefault((r["src"].value, r["sev"].value, r["msg"].value), ([0], set()))
        count[0] += 1
        foci.add(r["focus"].value)
    return [
        {
            "source": src,
            "severity": sev.rsplit("#", 1)[-1],
            "message": msg,
            "count": count[0],
            "focus": sorted(foci)[:20],
        }
        for (src, sev, msg), (count, foci) in sorted(
            groups.items(), key=lambda kv: (kv[0][0], kv[0][1], -kv[1][0][0], kv[0][2])
        )
    ]
