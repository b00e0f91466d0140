"""OLS4's v2 API (/api/v2) over real HTTP: a v2 client written against OLS4's documented shapes, and the
request gide-search's OntologyTermFinder sends, through the real ols-client it sends it with."""

from __future__ import annotations

from urllib.parse import quote

import pytest
import requests
from ols_client import Client as OlsClient

from _server import running_app

OBO = "http://purl.obolibrary.org/obo/"
GIDE_SEARCH_FIELDS = "label^100 synonym^5 description"
# keys (and JSON types) of OLS4's V2PagedResponse and of the entity documents its dataload writes
PAGE_KEYS = {"page": int, "numElements": int, "totalPages": int, "totalElements": int, "elements": list}
CLASS_KEYS = {
    "iri": str,
    "ontologyId": str,
    "label": str,
    "synonym": list,
    "definition": list,
    "curie": str,
    "shortForm": str,
    "type": list,
    "isObsolete": bool,
    "isDefiningOntology": bool,
    "hasDirectParents": bool,
    "hasDirectChildren": bool,
    "hasHierarchicalParents": bool,
    "hasHierarchicalChildren": bool,
    "directParent": list,
    "hierarchicalAncestor": list,
    "definedBy": list,
    "appearsIn": list,
    "linkedEntities": dict,
}


class OlsV2Client:
    """A small OLS4 v2 client: pages by `page`/`totalPages`, double-encodes IRIs in paths as OLS4's own
    front end does, and checks every page and class against OLS4's shapes."""

    def __init__(self, base: str):
        self.base = base.rstrip("/") + "/api/v2"
        self.session = requests.Session()

    def get(self, path: str, **params) -> dict:
        r = self.session.get(self.base + path, params=params, timeout=10)
        r.raise_for_status()
        return r.json()

    def page(self, path: str, **params) -> dict:
        body = self.get(path, **params)
        for key, kind in PAGE_KEYS.items():
            assert isinstance(body[key], kind), (key, body.get(key))
        assert body["numElements"] == len(body["elements"])
        for e in body["elements"]:
            if "class" in e.get("type", []):
                self.check_class(e)
        return body

    def check_class(self, e: dict) -> dict:
        for key, kind in CLASS_KEYS.items():
            assert isinstance(e[key], kind), (key, e.get(key))
        assert e["type"] == ["class", "entity"]
        return e

    def iter_classes(self, ontology: str, size: int = 50, **params):
        number = 0
        while True:
            body = self.page(f"/ontologies/{ontology}/classes", page=number, size=size, **params)
            yield from body["elements"]
            number += 1
            if number >= body["totalPages"]:
                return

    @staticmethod
    def encode(iri: str) -> str:
        return quote(quote(iri, safe=""), safe="")

    def get_class(self, ontology: str, iri: str, **params) -> dict:
        return self.check_class(self.get(f"/ontologies/{ontology}/classes/{self.encode(iri)}", **params))

    def related(self, ontology: str, iri: str, relation: str, **params) -> list[dict]:
        return self.page(f"/ontologies/{ontology}/classes/{self.encode(iri)}/{relation}", size=500, **params)[
            "elements"
        ]


@pytest.fixture(scope="module")
def base(full_store):
    with running_app(full_store) as url:
        # The first term request builds the term index (seconds; longer on a loaded machine): build it here,
        # with a generous deadline, so the tests' 10 s deadlines measure answers, not the build.
        requests.get(url + "/api/v2/ontologies", timeout=120).raise_for_status()
        yield url


@pytest.fixture(scope="module")
def v2(base):
    return OlsV2Client(base)


def test_ontologies_list_and_one(v2):
    body = v2.page("/ontologies", size=100)
    ids = [o["ontologyId"] for o in body["elements"]]
    assert {"fbbi", "ncbitaxon", "edam-bioimaging", "efo", "go"} <= set(ids)
    assert body["totalElements"] == len(ids) and body["totalPages"] == 1
    fbbi = v2.get("/ontologies/fbbi")
    assert fbbi["type"] == ["ontology"] and fbbi["preferredPrefix"] == "FBbi"
    assert fbbi["numberOfClasses"] == "634" and fbbi["numberOfProperties"] == "0"
    two = v2.page("/ontologies", size=2, page=1)
    assert two["page"] == 1 and two["numElements"] == 2 and two["totalElements"] == len(ids)
    assert two["totalPages"] == (len(ids) + 1) // 2


def test_gide_search_term_finder_request(base):
    """gide-search's OntologyTermFinder._find_class_in_ontology, as sent through ols-client's get_response,
    and what _get_iri_for_class_in_ontology / _create_term_with_labels read from the answer."""
    client = OlsClient(base)
    response = client.get_response(
        path="v2/ontologies/fbbi/classes",
        params={
            "search": "confocal microscopy",
            "page": 0,
            "size": 20,
            "searchFields": GIDE_SEARCH_FIELDS,
            "definedBy": "fbbi",
            "resolveReferences": True,
            "manchesterSyntax": True,
            "lang": "en",
        },
    )
    body = response.json()
    elements = body["elements"]
    assert elements[0]["iri"] == OBO + "FBbi_00000251" and elements[0]["label"] == "confocal microscopy"
    assert body["totalElements"] == len(elements) == 5  # confocal + its 4 kinds, all labelled "… confocal microscopy"
    # required_superclass: keep terms with direct parents whose hierarchical ancestors include fluorescence microscopy
    kept = [
        e["iri"]
        for e in elements
        if e["hasDirectParents"] and any(a["iri"] == OBO + "FBbi_00000246" for a in e["hierarchicalAncestor"])
    ]
    assert kept == [e["iri"] for e in elements]
    # _create_term_with_labels: label (str or list), obo_id / curie / short_form, synonyms
    first = elements[0]
    short_ids = [first[k] for k in ("obo_id", "curie", "short_form") if first.get(k)]
    assert short_ids == ["FBbi:00000251"] and first.get("synonyms", []) == []
    # under another superclass nothing is kept
    assert not [e for e in elements if any(a["iri"] == OBO + "FBbi_00000369" for a in e["hierarchicalAncestor"])]


def test_search_weights_filters_and_paging(v2):
    body = v2.page("/ontologies/edam-bioimaging/classes", search="confocal", searchFields=GIDE_SEARCH_FIELDS)
    labels = [e["label"] for e in body["elements"]]
    assert labels[0] == "Confocal microscopy"  # the whole-label match outranks longer labels
    # a synonym-only match ranks below label matches when synonyms weigh less
    syn = v2.page("/ontologies/fbbi/classes", search="photograph", searchFields=GIDE_SEARCH_FIELDS)
    assert [e["iri"] for e in syn["elements"]] == [OBO + "FBbi_00000265"]
    assert "photograph" in syn["elements"][0]["synonym"]
    only_labels = v2.page("/ontologies/fbbi/classes", search="photograph", searchFields="label")
    assert only_labels["totalElements"] == 0
    # definedBy: the ontology that defines a term; harvested subsets define none of FBbi's
    everywhere = v2.page("/classes", search="confocal microscopy", size=100)
    defined = v2.page("/classes", search="confocal microscopy", definedBy="fbbi", size=100)
    assert {e["ontologyId"] for e in defined["elements"]} == {"fbbi"}
    assert defined["totalElements"] < everywhere["totalElements"]
    assert all(
        e["isDefiningOntology"] for e in v2.page("/classes", search="confocal", isDefiningOntology="true")["elements"]
    )
    # boostFields move a term to the top
    boosted = v2.page(
        "/ontologies/fbbi/classes",
        search="confocal",
        searchFields="label",
        boostFields="shortForm:FBbi_00000253^100000",
    )
    assert boosted["elements"][0]["iri"] == OBO + "FBbi_00000253"
    # paging through every FBbi class: 634 minus the 107 obsolete ones, each once
    iris = [e["iri"] for e in v2.iter_classes("fbbi", size=200)]
    assert len(iris) == len(set(iris)) == 634 - 107
    with_obsolete = v2.page("/ontologies/fbbi/classes", includeObsoleteEntities="true", size=1)
    assert with_obsolete["totalElements"] == 634 and with_obsolete["totalPages"] == 634


def test_one_class_and_relations(v2):
    t = v2.get_class("fbbi", OBO + "FBbi_00000251")
    assert t["label"] == "confocal microscopy" and t["curie"] == "FBbi:00000251" and t["shortForm"] == "FBbi_00000251"
    assert t["directParent"] == [OBO + "FBbi_00000246"] and t["definedBy"] == ["fbbi"]
    assert t["linkedEntities"][OBO + "FBbi_00000246"]["label"] == ["fluorescence microscopy"]
    assert t["http://www.w3.org/2002/07/owl#equivalentClass"] == [  # FBbi's own definition, in list order, with labels
        (
            "light microscopy and (makes_use_of some narrowfield illumination) and (makes_use_of some narrow-field detection)"
            " and (makes_use_of some fluorescence emission)"
        )
    ]
    resolved = v2.get_class("fbbi", OBO + "FBbi_00000251", resolveReferences="true")
    assert resolved["directParent"] == [
        {"iri": OBO + "FBbi_00000246", "label": "fluorescence microscopy", "curie": "FBbi:00000246"}
    ]
    ancestors = {e["iri"] for e in v2.related("fbbi", OBO + "FBbi_00000251", "ancestors")}
    assert ancestors == set(t["hierarchicalAncestor"]) and OBO + "FBbi_00000246" in ancestors
    assert {e["iri"] for e in v2.related("fbbi", OBO + "FBbi_00000251", "hierarchicalAncestors")} == ancestors
    children = [e["iri"] for e in v2.related("fbbi", OBO + "FBbi_00000251", "children")]
    assert children == [e["iri"] for e in v2.related("fbbi", OBO + "FBbi_00000251", "hierarchicalChildren")]
    assert OBO + "FBbi_00000253" in children and len(children) == 4
    # single-encoded IRIs work too; unknown classes are OLS-style 404s
    single = requests.get(f"{v2.base}/ontologies/fbbi/classes/{quote(OBO + 'FBbi_00000251', safe='')}", timeout=10)
    assert single.json()["iri"] == OBO + "FBbi_00000251"
    missing = requests.get(f"{v2.base}/ontologies/fbbi/classes/{v2.encode(OBO + 'FBbi_99999999')}", timeout=10)
    assert missing.status_code == 404 and missing.json()["status"] == 404


def test_obsolete_inferred_and_empty_kinds(v2):
    obsolete = v2.page("/ontologies/fbbi/classes", isObsolete="true", includeObsoleteEntities="true", size=500)
    assert obsolete["totalElements"] == 107 and all(e["isObsolete"] for e in obsolete["elements"])
    gbif = v2.get_class("ncbitaxon", "https://www.gbif.org/species/4277175")
    assert gbif["directParent"] == [OBO + "NCBITaxon_41847"]  # Scapania, by the scientific name
    assert gbif["https://w3id.org/gide-kg/vocab#inferredParent"] == [OBO + "NCBITaxon_41847"]
    assert OBO + "NCBITaxon_2759" in gbif["hierarchicalAncestor"]
    for kind in ("properties", "individuals"):
        assert v2.page(f"/{kind}")["totalElements"] == 0
        assert v2.page(f"/ontologies/fbbi/{kind}")["elements"] == []


@pytest.mark.parametrize(
    "query, status",
    [
        ("/ontologies/nope/classes", 404),
        ("/ontologies/fbbi/classes?size=100000", 400),
        ("/ontologies/fbbi/classes?page=-1", 400),
        ("/ontologies/fbbi/classes?search=x&searchFields=colour^5", 400),
        ("/ontologies/fbbi/classes?search=x&searchFields=label^many", 400),
        ("/ontologies/fbbi/classes?bogus=1", 400),
        ("/ontologies/fbbi/classes?includeObsoleteEntities=maybe", 400),
    ],
)
def test_bad_requests_are_clear(v2, query, status):
    r = requests.get(v2.base + query, timeout=10)
    assert r.status_code == status
    body = r.json()
    assert body["status"] == status and body["message"]
