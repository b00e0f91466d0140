"""Build ontologies/harvested/*.ttl: subsets of the ontologies the metadata uses but we do not bundle.

For EFO, CMPO, GO, CL, CLO, BTO, UBERON, UO, PSI-MI, … (no full files in the shared data), the subset is
every term IRI that the bundled records use, labelled as the records name it, each file marked as a
harvested subset (not the ontology itself). FBbi, EDAM-bioimaging and the NCBITaxon closure subset come
from real ontology files and are not rebuilt here.

    python ontologies/build_harvested_subsets.py        # rewrites ontologies/harvested/ and its manifest
"""

from __future__ import annotations

import sys
from pathlib import Path

import pyoxigraph as ox

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from kg import pipeline  # noqa: E402
from kg.config import load_sources  # noqa: E402
from kg.namespaces import GRAPH, ONTOLOGY_GRAPH, RDFS, SCHEMA  # noqa: E402
from kg.store import open_store  # noqa: E402
from kg.terms.index import HARVESTED  # noqa: E402

SUBSETS = HARVESTED  # the rows of kind "harvested" in ontologies/namespaces.tsv


def main(argv: list[str] | None = None) -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(HERE / "harvested"), help="output folder (default: ontologies/harvested)")
    args = ap.parse_args(argv)
    store = open_store(None)
    for source in load_sources().values():
        pipeline.harvest_snapshot(store, source)
    rows = store.query(
        f"""SELECT ?t (SAMPLE(?l) AS ?label) WHERE {{
              {{ GRAPH ?g {{ ?t <{RDFS}label>|<{SCHEMA}name> ?l }} }}
              UNION {{ GRAPH ?g {{ ?q <{SCHEMA}unitCode> ?t ; <{SCHEMA}unitText> ?l }} }}
              FILTER(STRSTARTS(STR(?g), "{GRAPH}") && !STRSTARTS(STR(?g), "{ONTOLOGY_GRAPH}") && isIRI(?t)) }} GROUP BY ?t ORDER BY ?t"""
    )
    by_onto: dict[str, list[tuple[str, str]]] = {}
    for r in rows:
        for ns, (oid, _, _) in SUBSETS.items():
            if r["t"].value.startswith(ns):
                by_onto.setdefault(oid, []).append((r["t"].value, r["label"].value))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.ttl"):
        old.unlink()
    manifest = [
        "# Harvested subsets: the terms of ontologies we do not bundle that the bundled records use, labelled as the",
        "# records name them. Built by ontologies/build_harvested_subsets.py; do not edit by hand. Their namespaces",
        "# are in ontologies/namespaces.tsv.",
        "",
    ]
    for _, (oid, prefix, iri) in sorted(SUBSETS.items(), key=lambda x: x[1][0]):
        terms = by_onto.get(oid)
        if not terms:
            continue
        header = ox.NamedNode(f"https://w3id.org/gide-kg/ontology/harvested/{oid}")
        triples = [
            ox.Triple(
                header,
                ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                ox.NamedNode("http://www.w3.org/2002/07/owl#Ontology"),
            ),
            ox.Triple(
                header,
                ox.NamedNode(RDFS + "label"),
                ox.Literal(f"{prefix} terms used in the GIDE metadata (harvested subset)"),
            ),
            ox.Triple(
                header,
                ox.NamedNode(RDFS + "comment"),
                ox.Literal(
                    f"Not {prefix} itself: only the {len(terms)} terms the harvested records use, with the labels the records give them."
                ),
            ),
        ]
        for t, label in terms:
            triples.append(
                ox.Triple(
                    ox.NamedNode(t),
                    ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                    ox.NamedNode("http://www.w3.org/2002/07/owl#Class"),
                )
            )
            triples.append(ox.Triple(ox.NamedNode(t), ox.NamedNode(RDFS + "label"), ox.Literal(label)))
        path = out / f"{oid}.ttl"
        path.write_bytes(
            ox.serialize(
                triples,
                format=ox.RdfFormat.TURTLE,
                prefixes={
                    "obo": "http://purl.obolibrary.org/obo/",
                    "rdfs": RDFS,
                    "owl": "http://www.w3.org/2002/07/owl#",
                },
            )
        )
        manifest += [
            f"[{oid}]",
            f'label = "{prefix} (terms used in the harvested metadata)"',
            f'prefix = "{prefix}"',
            f'iri = "{iri}"',
            f'files = ["harvested/{oid}.ttl"]',
            'source = "terms and labels in the bundled records (data/), built by ontologies/build_harvested_subsets.py"',
            'version = "built from the bundled snapshot"',
            'licence = "labels as published in the records (see data/SOURCES.md)"',
            "harvested_subset = true",
            "",
        ]
        print(f"{oid}: {len(terms)} terms")
    (out / "manifest.toml").write_text("\n".join(manifest), encoding="utf-8")


if __name__ == "__main__":
    main()
