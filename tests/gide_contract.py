"""gide-search's data contract, restated in our own words as strict pydantic models.

Read from BioImage-Archive/gide-search (`search/schema_search_object.py`: the `Dataset` index document and
its node classes; `search/api.py`: `SearchResponse`, `EntryHit`, `Facets`, `FacetBucket`) and from its
portal (gide-search-portal `DatasetSearchResultCard.astro`, `FacetUI.astro`, `index.astro`). The models
ask for the same required fields and types; they are strict (a number is not a string, one value is not
a list), so what passes here also passes gide-search's lax parsing. Extra fields are allowed, as there.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator


class Node(BaseModel):
    """Every JSON-LD node: `id` and a list of types (gide-search's JsonLdNode)."""

    model_config = ConfigDict(strict=True, extra="allow")
    id: str
    type: list[str]


class Organization(Node):
    name: str
    url: str | None = None
    address: str | None = None


class Publisher(Organization):
    @field_validator("id")
    @classmethod
    def ends_with_slash(cls, v: str) -> str:
        # gide-search's Publisher model appends "/" to every id: facet keys and filters use that form
        if not v.endswith("/"):
            raise ValueError("publisher id without its final slash")
        return v


class Person(Node):
    name: str
    affiliation: list[Organization] = Field(default_factory=list)
    email: str | None = None


class Grant(Node):
    name: str
    identifier: str | None = None


class Publication(Node):
    name: str | None = None
    datePublished: str | None = None


class Taxon(Node):
    scientificName: str
    name: str | None = None
    vernacularName: str | None = None


class DefinedTerm(Node):
    name: str


class BioSample(Node):
    name: str
    description: str
    taxonomicRange: list[Taxon] = Field(default_factory=list)
    hasCellLine: list[DefinedTerm | str] | str = Field(default_factory=list)


class LabProtocol(Node):
    name: str
    description: str | None = None
    measurementTechnique: list[DefinedTerm] = Field(default_factory=list)
    labEquipment: str | None = None


class Size(Node):
    value: int
    unitText: str | None = None
    unitCode: str | None = None


def _dispatch(kinds: dict[str, type[Node]]):
    """Validate each node as the class its type names (gide-search dispatches on @type the same way);
    the portal compares `type == "Taxon"`, so exactly one type is asked for."""

    def check(items: Any) -> Any:
        if not isinstance(items, list):
            raise TypeError("expected a list")
        out = []
        for item in items:
            types = item.get("type") if isinstance(item, dict) else None
            if not isinstance(types, list) or len(types) != 1 or types[0] not in kinds:
                raise ValueError(f"node type {types!r} is not one of {sorted(kinds)}")
            out.append(kinds[types[0]].model_validate(item))
        return out

    return BeforeValidator(check)


class Dataset(Node):
    name: str
    author: list[Person]
    description: str
    datePublished: str
    license: str
    publisher: Publisher
    about: Annotated[list[Any], _dispatch({"BioSample": BioSample, "Taxon": Taxon, "DefinedTerm": DefinedTerm})]
    measurementMethod: Annotated[list[Any], _dispatch({"LabProtocol": LabProtocol, "DefinedTerm": DefinedTerm})]
    thumbnailUrl: list[str] = Field(default_factory=list)
    identifier: str | None = None
    keywords: list[str] = Field(default_factory=list)
    funder: list[Grant] = Field(default_factory=list)
    seeAlso: list[Publication] = Field(default_factory=list)
    size: list[Size] = Field(default_factory=list)


class IndexedDataset(Dataset):
    """What gide-search's /api/entry answers: the indexed document with its facet fields."""

    taxon_ids: list[Taxon]
    imaging_method_ids: list[DefinedTerm]


class FacetBucket(BaseModel):
    model_config = ConfigDict(strict=True)
    key: str
    count: int
    label: str | None = None


class Facets(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")
    publisher: list[FacetBucket]
    organism: list[FacetBucket]
    imaging_method: list[FacetBucket]
    year_published: list[FacetBucket]
    license: list[FacetBucket]


class Hit(BaseModel):
    model_config = ConfigDict(strict=True)
    id: str
    entry: Dataset
    score: float


class SearchResponse(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")
    total: int
    hits: list[Hit]
    facets: Facets | None = None


# Every field gide-search-portal reads from /search (its cards and facets), with the type it needs.
PORTAL_FIELDS = {
    "total": "number (pages = ceil(total / pageSize))",
    "facets.<name>": "list of buckets; one sidebar section per key, `license` must exist (licence_map)",
    "facets.<name>[].key": "string, sent back as the filter value",
    "facets.<name>[].label": "string or null (`label || key` is shown)",
    "facets.<name>[].count": "number",
    "hits[].entry.id": "string, the card's link",
    "hits[].entry.name": "string, the card's title",
    "hits[].entry.description": "string",
    "hits[].entry.thumbnailUrl": "list of strings, [0] shown",
    "hits[].entry.author[].id": "string (a link when it parses as a URL)",
    "hits[].entry.author[].name": "string",
    "hits[].entry.datePublished": "string",
    "hits[].entry.license": "string: link target and key of the licence facet's labels",
    "hits[].entry.about[].type": "== 'Taxon' picks organisms (a one-element list compares equal)",
    "hits[].entry.about[].id / .name": "string link and text of each organism",
    "hits[].entry.measurementMethod[].type": "== 'DefinedTerm' with an id picks imaging methods",
    "hits[].entry.measurementMethod[].id / .name": "string link and text of each method",
}


def portal_problems(body: dict) -> list[str]:
    """What would break or mislead gide-search-portal in one /search answer (empty when none)."""
    problems = []
    if not isinstance(body.get("total"), int):
        problems.append("total is not a number")
    facets = body.get("facets")
    if not isinstance(facets, dict) or not isinstance(facets.get("license"), list):
        problems.append("facets.license missing")
    for name, buckets in (facets or {}).items():
        for b in buckets:
            if (
                not isinstance(b.get("key"), str)
                or not isinstance(b.get("count"), int)
                or not (b.get("label") is None or isinstance(b["label"], str))
            ):
                problems.append(f"facet {name} bucket {b!r}")
    for hit in body.get("hits", []):
        e = hit["entry"]
        for f in ("id", "name", "description", "datePublished", "license"):
            if not isinstance(e.get(f), str):
                problems.append(f"{e.get('id')}: {f} is not a string")
        if not isinstance(e.get("thumbnailUrl"), list) or not all(isinstance(t, str) for t in e["thumbnailUrl"]):
            problems.append(f"{e.get('id')}: thumbnailUrl")
        for a in e.get("author", []):
            if not isinstance(a.get("id"), str) or not isinstance(a.get("name"), str):
                problems.append(f"{e.get('id')}: author {a!r}")
        organisms = [a for a in e["about"] if a["type"] == ["Taxon"]]
        methods = [m for m in e["measurementMethod"] if m["type"] == ["DefinedTerm"] and m.get("id")]
        if any(not isinstance(x.get("name"), str) for x in organisms + methods):
            problems.append(f"{e.get('id')}: organism or method without a name")
    return problems


# What gide-search's index filters and aggregates on (search/indexer.py `faceted_search`, read at its source):
# keyword terms on `taxon_ids.id` (its IndexableDataset collects the Taxon nodes listed directly in `about`),
# `imaging_method_ids.id` (the DefinedTerm nodes of `measurementMethod` whose id is an FBbi IRI), `publisher.id`,
# `license`, a date range / yearly histogram on `datePublished`, and `thumbnailUrl` existing. Keyed by the
# names of the /search facets.
def index_keys(entry: dict) -> dict[str, set[str]]:
    """The facet keys one entry contributes to in gide-search's index (the filters it matches)."""
    date = entry.get("datePublished") or ""
    return {
        "organism": {a["id"] for a in entry["about"] if "Taxon" in a["type"]},
        "imaging_method": {
            m["id"]
            for m in entry["measurementMethod"]
            if "DefinedTerm" in m["type"] and m["id"].startswith("http://purl.obolibrary.org/obo/FBbi_")
        },
        "publisher": {entry["publisher"]["id"]},
        "license": {entry["license"]} if entry.get("license") else set(),
        "year_published": {date[:4]} if date[:4].isdigit() else set(),
    }
