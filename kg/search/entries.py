"""Studies as gide-search `Dataset` documents (the shape its index holds and its API answers with).

gide-search frames each crate into a pydantic `Dataset` (`search/schema_search_object.py`): `about` holds
BioSample / Taxon / DefinedTerm nodes, `measurementMethod` LabProtocol / DefinedTerm nodes, people carry
their affiliations and e-mail, and every node has `id` and a one-element `type` list (its portal compares
`type == "Taxon"`). Fields the model makes required are always present; single-valued ones hold one value.
Where the graph has no value for a required name, the ontology label (or the IRI) stands in.
"""

from __future__ import annotations

from collections.abc import Callable

import pyoxigraph as ox

from ..namespaces import KG, SCHEMA
from ..study_nodes import RDF_TYPE, GraphNodes, Node, key

DWC = "http://rs.tdwg.org/dwc/terms/"
DWCIRI = "http://rs.tdwg.org/dwc/iri/"
BAO_CELL_LINE = "http://www.bioassayontology.org/bao#BAO_0002004"
OBO = "http://purl.obolibrary.org/obo/"
Labeller = Callable[[str], str]


def _first(node: Node, pred: str) -> str | None:
    for v in node.get(pred, ()):
        return v.value
    return None


def _objects(node: Node, pred: str) -> list[str]:
    return [key(v) for v in node.get(pred, ()) if not isinstance(v, ox.Literal)]


def _texts(node: Node, pred: str) -> list[str]:
    return [v.value for v in node.get(pred, ()) if isinstance(v, ox.Literal)]


def publisher_id(iri: str) -> str:
    """gide-search's Publisher model appends a slash to every publisher id."""
    return iri if iri.endswith("/") else iri + "/"


class EntryBuilder:
    """Dataset documents for the studies of some graphs (nodes fetched once, documents built per study)."""

    def __init__(self, nodes: GraphNodes, label: Labeller):
        self.nodes = nodes
        self.label = label

    def node(self, iri: str) -> Node:
        return self.nodes.nodes.get(iri, {})

    def _name(self, iri: str, *preds: str) -> str:
        node = self.node(iri)
        for p in preds or (SCHEMA + "name",):
            v = _first(node, p)
            if v:
                return v
        return self.label(iri) or iri.rsplit("/", 1)[-1]

    def organization(self, iri: str) -> dict:
        n = self.node(iri)
        return {
            "id": iri,
            "type": ["Organization"],
            "name": self._name(iri),
            "url": _first(n, SCHEMA + "url"),
            "address": _first(n, SCHEMA + "address"),
        }

    def person(self, iri: str) -> dict:
        n = self.node(iri)
        return {
            "id": iri,
            "type": ["Person"],
            "name": self._name(iri),
            "affiliation": [self.organization(a) for a in _objects(n, SCHEMA + "affiliation")],
            "email": _first(n, SCHEMA + "email"),
        }

    def taxon(self, iri: str) -> dict:
        n = self.node(iri)
        scientific = self._name(iri, DWC + "scientificName", SCHEMA + "name")
        return {
            "id": iri,
            "type": ["Taxon"],
            "scientificName": scientific,
            "name": _first(n, SCHEMA + "name") or scientific,
            "vernacularName": _first(n, DWC + "vernacularName"),
        }

    def term(self, iri: str) -> dict:
        return {
            "id": iri,
            "type": ["DefinedTerm"],
            "name": self.label(iri) if iri.startswith(OBO + "FBbi_") and self.label(iri) else self._name(iri),
        }

    def _is_taxon(self, iri: str) -> bool:
        return (
            DWC + "Taxon" in self.nodes.types(iri)
            or SCHEMA + "Taxon" in self.nodes.types(iri)
            or iri.startswith(OBO + "NCBITaxon_")
        )

    def about(self, iri: str) -> dict:
        types = self.nodes.types(iri)
        n = self.node(iri)
        if SCHEMA + "BioSample" in types:
            lines = [self.term(c) for c in _objects(n, BAO_CELL_LINE)] + _texts(n, BAO_CELL_LINE)
            return {
                "id": iri,
                "type": ["BioSample"],
                "name": self._name(iri),
                "description": _first(n, SCHEMA + "description") or "",
                "taxonomicRange": [self.taxon(t) for t in _objects(n, SCHEMA + "taxonomicRange")],
                "hasCellLine": lines,
            }
        return self.taxon(iri) if self._is_taxon(iri) else self.term(iri)

    def method(self, iri: str) -> dict:
        n = self.node(iri)
        if SCHEMA + "LabProtocol" in self.nodes.types(iri):
            return {
                "id": iri,
                "type": ["LabProtocol"],
                "name": self._name(iri),
                "description": _first(n, SCHEMA + "description"),
                "measurementTechnique": [self.term(t) for t in _objects(n, SCHEMA + "measurementTechnique")],
                "labEquipment": _first(n, SCHEMA + "labEquipment"),
            }
        return self.term(iri)

    def size(self, iri: str) -> dict | None:
        n = self.node(iri)
        value = _first(n, SCHEMA + "value")
        try:
            number = int(value) if value is not None else None
        except ValueError:
            number = None
        if number is None:
            return None
        return {
            "id": iri,
            "type": ["QuantitativeValue"],
            "value": number,
            "unitText": _first(n, SCHEMA + "unitText"),
            "unitCode": _first(n, SCHEMA + "unitCode"),
        }

    def dataset(self, study: str) -> dict:
        """The study as gide-search's `Dataset` (every field of its model, in its order)."""
        n = self.node(study)
        publisher = _first(n, SCHEMA + "publisher") or ""
        sizes = [s for s in (self.size(q) for q in _objects(n, SCHEMA + "size")) if s]
        return {
            "id": study,
            "type": ["Dataset"],
            "name": _first(n, SCHEMA + "name") or "",
            "author": [
                self.person(key(a))
                for a in self.nodes.values(study, SCHEMA + "author")
                if not isinstance(a, ox.Literal)
            ],
            "description": _first(n, SCHEMA + "description") or "",
            "datePublished": _first(n, SCHEMA + "datePublished") or "",
            "license": _first(n, SCHEMA + "license") or "",
            "publisher": {**self.organization(publisher), "id": publisher_id(publisher)},
            # a study no GIDE crate describes (IDR's study files, SSBD's RDF) names its organisms and
            # methods only with kg:organism / kg:imagingMethod: those stand in, so filters and cards agree
            "about": [self.about(a) for a in _objects(n, SCHEMA + "about") or _objects(n, KG + "organism")],
            "measurementMethod": [
                self.method(m) for m in _objects(n, DWCIRI + "measurementMethod") or _objects(n, KG + "imagingMethod")
            ],
            "thumbnailUrl": _texts(n, SCHEMA + "thumbnailUrl"),
            "identifier": _first(n, SCHEMA + "identifier"),
            "keywords": [k.value for k in self.nodes.values(study, SCHEMA + "keywords") if isinstance(k, ox.Literal)],
            "funder": [
                {
                    "id": f,
                    "type": ["Grant"],
                    "name": self._name(f),
                    "identifier": _first(self.node(f), SCHEMA + "identifier"),
                }
                for f in _objects(n, SCHEMA + "funder")
            ],
            "seeAlso": [
                {
                    "id": c,
                    "type": ["ScholarlyArticle"],
                    "name": _first(self.node(c), SCHEMA + "name"),
                    "datePublished": _first(self.node(c), SCHEMA + "datePublished"),
                }
                for c in _objects(n, SCHEMA + "citation")
            ],
            "size": sizes,
        }


def index_fields(entry: dict) -> dict:
    """gide-search's IndexableDataset extras, as its /api/entry answers them: the taxa listed directly in
    `about` and the FBbi terms listed directly in `measurementMethod`."""
    return {
        "taxon_ids": [a for a in entry["about"] if a["type"] == ["Taxon"]],
        "imaging_method_ids": [
            m for m in entry["measurementMethod"] if m["type"] == ["DefinedTerm"] and m["id"].startswith(OBO + "FBbi_")
        ],
    }


__all__ = ["RDF_TYPE", "EntryBuilder", "index_fields", "publisher_id"]
