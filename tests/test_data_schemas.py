"""The data files that drive the code (sources, mapping TOML, SSSOM grounding tables, ontology manifests)
validate against the JSON Schemas next to them, plus the checks a schema cannot express (folders and
files that must exist, CURIE prefixes that must be declared). Every such file in the tree is checked;
a broken copy of each must fail with a message naming the problem.
"""

from __future__ import annotations

import csv
import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker

from kg.namespaces import PREFIXES
from kg.pipeline import KINDS
from kg.terms.grounding import COLUMNS

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = {  # data-file glob (from the project root) → its schema
    "data/sources.toml": "data/sources.schema.json",
    "data/facets.toml": "data/facets.schema.json",
    "data/contexts/contexts.toml": "data/contexts/contexts.schema.json",
    "mappings/idr-study/mapping.toml": "mappings/idr-study/mapping.schema.json",
    "mappings/rocrate/order.toml": "mappings/rocrate/order.schema.json",
    "mappings/**/*.sssom.tsv": "mappings/grounding/sssom.schema.json",
    "mappings/iri-normalisation.tsv": "mappings/iri-normalisation.schema.json",
    "mappings/idr-study/term-sources.tsv": "mappings/idr-study/term-sources.schema.json",
    "ontologies/**/manifest.toml": "ontologies/manifest.schema.json",
    "ontologies/namespaces.tsv": "ontologies/namespaces.schema.json",
}


def schema_for(rel: str) -> Path:
    """The schema of a data file, by its path from the project root."""
    for pattern, schema in SCHEMAS.items():
        if rel in {p.relative_to(ROOT).as_posix() for p in ROOT.glob(pattern)}:
            return ROOT / schema
    raise LookupError(f"no schema for {rel}: add one to SCHEMAS in {Path(__file__).name}")


def read_sssom(path: Path) -> dict:
    """An SSSOM/TSV table as {metadata, columns, mappings} (the '# ' lines are its YAML metadata)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = "\n".join(line[2:] if line.startswith("# ") else line[1:] for line in lines if line.startswith("#"))
    rows = list(csv.reader((line for line in lines if not line.startswith("#")), delimiter="\t"))
    columns, body = rows[0], rows[1:]
    mappings = []
    for row in body:  # a ragged row gets a key the schema refuses, naming the problem
        m = dict(zip(columns, row, strict=False))
        if len(row) != len(columns):
            m[f"({len(row)} cells for {len(columns)} columns)"] = ""
        mappings.append(m)
    return {"metadata": yaml.safe_load(header) or {}, "columns": columns, "mappings": mappings}


TSV_COLUMNS = {
    "iri-normalisation.tsv": ["name", "pattern", "replacement", "comment"],
    "term-sources.tsv": ["prefix", "namespace"],
    "namespaces.tsv": ["prefix", "namespace", "ontology", "ontology_iri", "kind"],
}


def read_rows(path: Path) -> list[dict]:
    """A headerless TSV ('#' lines are comments) as row objects; a row with more cells than columns keeps
    them under a key the schema refuses."""
    columns = TSV_COLUMNS[path.name]
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            cells = line.split("\t")
            row = dict(zip(columns, cells, strict=False))
            if len(cells) > len(columns):
                row[f"({len(cells)} cells for {len(columns)} columns)"] = ""
            rows.append(row)
    return rows


def read(path: Path) -> dict | list:
    if path.name.endswith(".sssom.tsv"):
        return read_sssom(path)
    if path.name in TSV_COLUMNS:
        return read_rows(path)
    with path.open("rb") as f:
        return tomllib.load(f)


def extra_problems(path: Path, data: dict) -> list[str]:
    """What the schema cannot say: referenced folders and files exist, names are the code's names."""
    out = []
    if path.name == "sources.toml":
        for name, s in data.get("sources", {}).items():
            if s.get("kind") not in KINDS:
                out.append(
                    f"sources.{name}.kind: {s.get('kind')!r} is not a record kind of kg.pipeline.KINDS {sorted(KINDS)}"
                )
            if "snapshot" in s and not (ROOT / s["snapshot"]).is_dir():
                out.append(f"sources.{name}.snapshot: no folder {s['snapshot']}")
            query = s.get("live", {}).get("query")
            if query and not (ROOT / "mappings" / query).is_file():
                out.append(f"sources.{name}.live.query: no file mappings/{query}")
    elif path.name == "contexts.toml":
        for url, name in data.items():
            f = ROOT / "data" / "contexts" / str(name)
            if not f.is_file() or "@context" not in json.loads(f.read_text(encoding="utf-8")):
                out.append(f"{url}: data/contexts/{name} is not a bundled JSON-LD context")
    elif path.name == "mapping.toml":
        for section in ("study", "block", *(f"groups.{g}" for g in data.get("groups", {}))):
            fields = data.get(section) if "." not in section else data["groups"][section.split(".")[1]]
            for key, f in (fields or {}).items():
                for curie in (
                    [f.get("p"), f.get("order")]
                    if isinstance(f, dict)
                    else [f]
                    if key in ("link", "type", "order")
                    else []
                ):
                    if isinstance(curie, str) and curie.split(":")[0] not in PREFIXES:
                        out.append(f"{section}.{key}: prefix of {curie!r} is not in kg.namespaces.PREFIXES")
    elif path.name == "order.toml":
        out += [
            f"{term}: prefix of {c!r} is not in kg.namespaces.PREFIXES"
            for term, c in data.items()
            if c.split(":")[0] not in PREFIXES
        ]
    elif path.name.endswith(".sssom.tsv"):
        declared = set((data.get("metadata") or {}).get("curie_map") or {})
        for i, row in enumerate(data.get("mappings", []), start=1):
            for col in ("predicate_id", "object_id", "mapping_justification"):
                prefix = row.get(col, "").split(":")[0]
                if prefix and prefix not in declared:
                    out.append(f"row {i} {col}: prefix {prefix!r} is not in the curie_map")
    elif path.name == "iri-normalisation.tsv":
        names = [r.get("name") for r in data]
        out += [f"rule {n!r} is named twice" for n in sorted({n for n in names if names.count(n) > 1})]
        for r in data:
            try:
                groups = re.compile(r.get("pattern", "")).groups
            except re.error:
                continue  # the schema's format check reports it
            used = [int(g) for g in re.findall(r"\{([0-9]+)", r.get("replacement", ""))]
            out += [
                f"rule {r.get('name')!r}: replacement uses group {g}, the pattern has {groups}"
                for g in used
                if g > groups
            ]
    elif path.name == "manifest.toml":
        for oid, o in data.items():
            for f in o.get("files", []) if isinstance(o, dict) else []:
                if not (ROOT / "ontologies" / f).is_file():
                    out.append(f"{oid}.files: no file ontologies/{f}")
    return out


def problems(path: Path, schema_path: Path) -> list[str]:
    """Every schema error (with where) and every extra problem of one data file."""
    schema = json.loads(schema_path.read_text())
    data = read(path)
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    errors = [f"{'.'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in validator.iter_errors(data)]
    return errors + extra_problems(path, data)


def data_files() -> list[Path]:
    found = {p for pattern in SCHEMAS for p in ROOT.glob(pattern)}
    return sorted(found)


def test_every_schema_is_a_valid_schema():
    for schema in SCHEMAS.values():
        Draft202012Validator.check_schema(json.loads((ROOT / schema).read_text()))


def test_every_toml_and_sssom_file_has_a_schema():
    files = {p.relative_to(ROOT).as_posix() for p in data_files()}
    assert files == {
        "data/sources.toml",
        "data/facets.toml",
        "data/contexts/contexts.toml",
        "mappings/idr-study/mapping.toml",
        "mappings/rocrate/order.toml",
        "mappings/grounding/gide-kg.sssom.tsv",
        "mappings/iri-normalisation.tsv",
        "mappings/idr-study/term-sources.tsv",
        "ontologies/manifest.toml",
        "ontologies/harvested/manifest.toml",
        "ontologies/namespaces.tsv",
    }
    unchecked = sorted(
        p.relative_to(ROOT).as_posix()
        for folder in ("data", "mappings", "ontologies")
        for p in (ROOT / folder).rglob("*")
        if p.suffix in (".toml", ".tsv")
        and p.relative_to(ROOT).as_posix() not in files
        and not p.relative_to(ROOT).as_posix().startswith(("data/crates/", "data/native/"))
    )  # records, not configuration
    assert not unchecked, f"data files without a schema: {unchecked}; add them to SCHEMAS in tests/test_data_schemas.py"


def test_sssom_schema_columns_are_the_code_columns():
    schema = json.loads((ROOT / SCHEMAS["mappings/**/*.sssom.tsv"]).read_text())
    assert schema["properties"]["columns"]["const"] == COLUMNS


@pytest.mark.parametrize("rel", [p.relative_to(ROOT).as_posix() for p in data_files()])
def test_data_file_is_valid(rel):
    assert problems(ROOT / rel, schema_for(rel)) == []


BROKEN = [  # (file, text to replace (first occurrence), replacement, a fragment of the expected problem)
    ("mappings/rocrate/order.toml", '"kg:authorOrder"', '"authorOrder"', "author: 'authorOrder' does not match"),
    ("mappings/rocrate/order.toml", '"kg:authorOrder"', '"sdo:authorOrder"', "prefix of 'sdo:authorOrder' is not in"),
    ("mappings/idr-study/mapping.toml", 'order = "kg:authorOrder"', 'order = "sdo:x"', "prefix of 'sdo:x' is not in"),
    ("data/sources.toml", 'kind = "rocrate"\n', "", "sources.bia: 'kind' is a required property"),
    ("data/sources.toml", 'kind = "rocrate"', 'kind = "rocrates"', "sources.bia.kind: 'rocrates' is not a record kind"),
    ("data/sources.toml", "root = '^https://www\\.ebi", "root = '^https://(www\\.ebi", "sources.bia.root: "),
    (
        "data/sources.toml",
        'publisher = "https://www.ebi.ac.uk/bioimage-archive/"',
        'publisher = "www.ebi.ac.uk"',
        "sources.bia.publisher: 'www.ebi.ac.uk' does not match",
    ),
    (
        "data/sources.toml",
        'snapshot = "data/crates/bia"',
        'snapshot = "../crates/bia"',
        "sources.bia.snapshot: '../crates/bia' does not match",
    ),
    (
        "data/sources.toml",
        'snapshot = "data/crates/bia"',
        'snapshot = "data/crates/bia-gone"',
        "sources.bia.snapshot: no folder",
    ),
    (
        "data/sources.toml",
        'suffix = "ro-crate-metadata.json"',
        'suffixes = "ro-crate-metadata.json"',
        "sources.bia.live: ",
    ),
    (
        "data/contexts/contexts.toml",
        '"ro-crate-1.2-context.jsonld"',
        '"../ro-crate-1.2-context.jsonld"',
        "https://w3id.org/ro/crate/1.2/context: '../ro-crate-1.2-context.jsonld' does not match",
    ),
    (
        "data/contexts/contexts.toml",
        '"ro-crate-1.2-context.jsonld"',
        '"ro-crate-9-context.jsonld"',
        "is not a bundled JSON-LD context",
    ),
    (
        "mappings/idr-study/mapping.toml",
        '"Study Type" = { p = "kg:studyType", kind = "term" }',
        '"Study Type" = { p = "kg:studyType", kind = "terms" }',
        "study.Study Type.kind: 'terms' is not one of",
    ),
    (
        "mappings/idr-study/mapping.toml",
        '{ p = "schema:name" }',
        '{ p = "name" }',
        "study.Study Title.p: 'name' does not match",
    ),
    (
        "mappings/idr-study/mapping.toml",
        '{ p = "schema:name" }',
        '{ p = "sdo:name" }',
        "prefix of 'sdo:name' is not in kg.namespaces.PREFIXES",
    ),
    (
        "mappings/idr-study/mapping.toml",
        'study_iri = "https://idr.openmicroscopy.org/study/{accession}/"',
        'study_iri = "https://idr.openmicroscopy.org/study/"',
        "study_iri: ",
    ),
    (
        "mappings/grounding/gide-kg.sssom.tsv",
        "\tskos:exactMatch\tsssom:NoTermFound",
        "\tskos:sameAs\tsssom:NoTermFound",
        "mappings.0.predicate_id: 'skos:sameAs' is not one of",
    ),
    (
        "mappings/grounding/gide-kg.sssom.tsv",
        "FBbi:00000369",
        "FBbi 00000369",
        "object_id: 'FBbi 00000369' does not match",
    ),
    (
        "mappings/grounding/gide-kg.sssom.tsv",
        "FBbi:00000369",
        "fbbi:00000369",
        "object_id: prefix 'fbbi' is not in the curie_map",
    ),
    ("mappings/grounding/gide-kg.sssom.tsv", "\tconfidence\t", "\tscore\t", "columns: "),
    (
        "mappings/grounding/gide-kg.sssom.tsv",
        "\tno candidate\n",
        "\tno candidate\textra\n",
        "(11 cells for 10 columns)",
    ),
    ("mappings/grounding/gide-kg.sssom.tsv", "\t2026-11-28\t", "\t28/11/2026\t", "mapping_date: '28/11/2026'"),
    (
        "mappings/grounding/gide-kg.sssom.tsv",
        "# license: https://creativecommons.org/publicdomain/zero/1.0/\n",
        "",
        "metadata: 'license' is a required property",
    ),
    (
        "mappings/iri-normalisation.tsv",
        "\thttp://purl.obolibrary.org/obo/FBbi_{1:08}\t",
        "\thttp://purl.obolibrary.org/obo/FBbi_{2:08}\t",
        "rule 'fbbi': replacement uses group 2, the pattern has 1",
    ),
    ("mappings/iri-normalisation.tsv", "(?i:fbbi)[_:]", "(?i:fbbi[_:]", "3.pattern: "),
    ("mappings/iri-normalisation.tsv", "pubmed-canonical\t", "pubmed\t", "rule 'pubmed' is named twice"),
    ("mappings/iri-normalisation.tsv", "{1:lower}", "{1:upper}", "replacement: "),
    (
        "mappings/idr-study/term-sources.tsv",
        "PSI-MI\thttp://purl.obolibrary.org/obo/MI_",
        "PSI-MI\tpurl.obolibrary.org/obo/MI_",
        "0.namespace: 'purl.obolibrary.org/obo/MI_' does not match",
    ),
    (
        "ontologies/namespaces.tsv",
        "NCBITaxon\thttp://purl.obolibrary.org/obo/NCBITaxon_",
        "NCBITaxon\tpurl.obolibrary.org/obo/NCBITaxon_",
        "0.namespace: 'purl.obolibrary.org/obo/NCBITaxon_' does not match",
    ),
    ("ontologies/namespaces.tsv", "\tbundled\n", "\tbundle\n", "0.kind: 'bundle' is not one of"),
    (
        "ontologies/manifest.toml",
        'namespace = "http://purl.obolibrary.org/obo/FBbi_"\n',
        "",
        "fbbi: 'namespace' is a required property",
    ),
    ("ontologies/manifest.toml", 'licence = "CC0-1.0"\n', "", "gide-kg: 'licence' is a required property"),
    (
        "ontologies/manifest.toml",
        'files = ["gide-kg.ttl"]',
        'files = ["/etc/passwd.ttl"]',
        "gide-kg.files.0: '/etc/passwd.ttl' does not match",
    ),
    (
        "ontologies/manifest.toml",
        'files = ["gide-kg.ttl"]',
        'files = ["gide-kg-gone.ttl"]',
        "gide-kg.files: no file ontologies/gide-kg-gone.ttl",
    ),
    (
        "ontologies/harvested/manifest.toml",
        "harvested_subset = true",
        'harvested_subset = "yes"',
        "bto.harvested_subset: 'yes' is not of type 'boolean'",
    ),
]


@pytest.mark.parametrize(
    "rel,old,new,expected", BROKEN, ids=[f"{b[0].split('/')[-1]}-{i}" for i, b in enumerate(BROKEN)]
)
def test_broken_copy_fails(tmp_path, rel, old, new, expected):
    text = (ROOT / rel).read_text(encoding="utf-8")
    assert old in text, f"the mutation no longer applies to {rel}: {old!r}"
    copy = tmp_path / Path(rel).name
    copy.write_text(text.replace(old, new, 1), encoding="utf-8")
    found = problems(copy, schema_for(rel))
    assert any(expected in p for p in found), f"expected a problem containing {expected!r}, got {found}"
