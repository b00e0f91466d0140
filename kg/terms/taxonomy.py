"""Taxonomy coverage: does every organism a study uses reach its top-level division?

The top of the NCBI Taxonomy below its root: the four domains, and the two groups NCBI keeps for
sequences and samples of no known organism ("unidentified", "mixed sample" sit under "unclassified
entries"). A term reaches one through the rdfs:subClassOf edges of the loaded taxonomy, some of which are
our inference (kg:inferredParent, see ontologies/build_taxonomy_supplement.py).
"""

from __future__ import annotations

from ..namespaces import KG, OBO
from .index import TermIndex

TAXON = OBO + "NCBITaxon_"
TOP_LEVEL = {
    TAXON + "2": "Bacteria",
    TAXON + "2157": "Archaea",
    TAXON + "2759": "Eukaryota",
    TAXON + "10239": "Viruses",
    TAXON + "2787823": "unclassified entries",
    TAXON + "2787854": "other entries",
}


def coverage(store, index: TermIndex) -> dict:
    """Organism terms used by studies, by how they reach a top-level division: through NCBI's asserted
    lineage, through a parent we inferred, or not at all (then listed)."""
    used = sorted(
        {r["t"].value for r in store.query(f"SELECT DISTINCT ?t WHERE {{ ?s <{KG}organism> ?t FILTER(isIRI(?t)) }}")}
    )
    out: dict = {"organisms": len(used), "asserted": 0, "inferred": 0, "missing": [], "by_division": {}}
    taxa = index.ontologies.get("ncbitaxon")
    for iri in used:
        term = taxa.terms.get(iri) if taxa else None
        lineage = [term, *index.ancestors(term)] if term else []
        top = next((TOP_LEVEL[t.iri] for t in lineage if t.iri in TOP_LEVEL), None)
        if top is None:
            out["missing"].append(iri)
            continue
        out["by_division"][top] = out["by_division"].get(top, 0) + 1
        out["inferred" if any(t.inferred for t in lineage) else "asserted"] += 1
    return out
