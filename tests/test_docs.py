"""The README is tested, as datasette tests its docs: the command table says what `kg --help` says (every
command both ways, every flag a real one), the numbers of the `kg harvest` example are those of a real
harvest, and the curl examples are run with the real curl against the app on 127.0.0.1 (the README's
http://127.0.0.1:8000 rewritten to the test server's port).
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

from kg.cli import build_parser
from kg.namespaces import GRAPH, ONTOLOGY_GRAPH
from kg.store.stats import distinct_studies

from _server import running_app
from conftest import select_rows

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
KG = [sys.executable, "-m", "kg.cli"]
README_BASE = "http://127.0.0.1:8000"


def blocks(lang: str) -> list[str]:
    """The README's fenced code blocks of one language, in order."""
    return re.findall(rf"^ *```{lang}\n(.*?)^ *```", README, flags=re.S | re.M)


def section(title: str) -> str:
    return README.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def table_commands() -> dict[str, list[str]]:
    """Command → the flags its rows of the README's command table mention."""
    out: dict[str, list[str]] = {}
    for cell in re.findall(r"^\| `kg ([^`]+)` \|", section("Command line"), flags=re.M):
        name = cell.split()[0]
        out.setdefault(name, []).extend(re.findall(r"--[a-z][a-z-]*", cell))
    return out


def subcommands() -> dict:
    parser = build_parser()
    return next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction").choices


def test_command_table_is_kg_help():
    help_text = subprocess.run([*KG, "--help"], capture_output=True, text=True, timeout=120, cwd=ROOT).stdout
    listed = set(re.findall(r"^    ([a-z]+)\b", help_text, flags=re.M))
    documented = set(table_commands())
    assert listed == set(subcommands()), "kg --help lists other commands than the parser has"
    assert documented - listed == set(), (
        f"the README's command table names commands `kg --help` does not: {documented - listed}"
    )
    assert listed - documented == set(), (
        f"commands missing from the README's command table: {sorted(listed - documented)}"
    )


def test_command_table_flags_are_real():
    parsers = subcommands()
    for name, flags in table_commands().items():
        known = {o for a in parsers[name]._actions for o in a.option_strings}
        assert set(flags) <= known, (
            f"README: `kg {name}` rows mention {sorted(set(flags) - known)}, which `kg {name} --help` lacks"
        )


def console_examples() -> list[tuple[str, list[str]]]:
    """(command, expected output lines) of every `$ kg …` line of the README's console blocks."""
    out = []
    for block in blocks("console"):
        command, expected = None, []
        for line in block.splitlines():
            if line.startswith("$ "):
                if command:
                    out.append((command, expected))
                command, expected = line[2:].split("  #", 1)[0].strip(), []
            elif command:
                expected.append(line)
        if command:
            out.append((command, expected))
    return out


def harvest_example() -> list[str]:
    """The output lines of the README's `kg harvest` console example."""
    examples = [expected for command, expected in console_examples() if command.startswith("kg harvest")]
    assert len(examples) == 1
    return [line.strip() for line in examples[0]]


def provenance_table(store) -> dict[str, list[str]]:
    """Source → [records, studies, quarantined, triples, status] as `kg harvest` prints them, read back
    from what the harvest recorded (provenance graph) and the graph sizes."""
    rows = select_rows(
        store,
        """SELECT ?src ?seen ?loaded ?q ?status WHERE { GRAPH <https://w3id.org/gide-kg/graph/provenance> {
        ?run a kg:HarvestRun ; kg:harvestSource ?src ; kg:recordsSeen ?seen ; kg:studiesLoaded ?loaded ;
             kg:recordsQuarantined ?q ; kg:status ?status } }""",
    )
    sizes = store.graph_sizes()
    return {
        r["src"].value: [
            r["seen"].value,
            r["loaded"].value,
            r["q"].value,
            str(sizes[GRAPH + r["src"].value]),
            "ok" if r["status"].value == "succeeded" else r["status"].value,
        ]
        for r in rows
    }


def test_harvest_example_numbers_are_real(full_store):
    """Every number of the README's `kg harvest` example, checked against a store harvested by the same
    pipeline functions (conftest's full_store). Running the command itself costs a minute of CPU (SHACL
    of every source, dumps), so the timings, the SHACL line and the dump count are not checked here."""
    lines = harvest_example()
    table = provenance_table(full_store)
    shown = {line.split()[0]: line.split()[1:] for line in lines if line.split() and line.split()[0] in table}
    assert shown == table, "README's kg harvest table differs from a real harvest of the bundled data"
    total = next(line for line in lines if line.startswith("total: "))
    studies = sum(int(v[1]) for v in table.values())
    quarantined = sum(int(v[2]) for v in table.values())
    assert re.fullmatch(
        rf"total: {studies} studies loaded, {quarantined} records quarantined, in [0-9.]+ s; "
        rf"the store holds {distinct_studies(full_store)} distinct studies",
        total,
    ), total
    sizes = full_store.graph_sizes()
    links = next(line for line in lines if line.startswith("cross-repository links: "))
    assert links == f"cross-repository links: {sizes[GRAPH + 'links']} triples in the links graph"
    ontologies = next(line for line in lines if line.startswith("ontologies loaded: "))
    listed = dict(re.findall(r"([a-z][a-z0-9-]*) \(([0-9]+) triples\)", ontologies))
    assert len(listed) >= 5 and {k: int(v) for k, v in listed.items()} == {k: sizes[ONTOLOGY_GRAPH + k] for k in listed}


def curl_examples() -> list[list[str]]:
    """Every curl command of the README's bash blocks (continuation lines joined), as argv."""
    out = []
    for block in blocks("bash"):
        for command in re.sub(r"\\\n\s*", " ", block).splitlines():
            if command.strip().startswith("curl "):
                out.append(shlex.split(command.split(" #", 1)[0]))
    return out


def test_curl_examples(full_store):
    examples = curl_examples()
    assert len(examples) == 6
    with running_app(full_store) as base:
        for argv in examples:
            assert any(a.startswith(README_BASE + "/") for a in argv), argv
            real = [a.replace(README_BASE, base) for a in argv]
            r = subprocess.run(
                [*real, "--silent", "--show-error", "--fail", "--max-time", "60"],
                capture_output=True,
                text=True,
                timeout=90,
                cwd=ROOT,
            )
            shown = " ".join(argv)
            assert r.returncode == 0, f"{shown}: {r.stderr}"
            check_answer(shown, r.stdout)


def check_answer(command: str, body: str) -> None:
    """What each example is documented to give."""
    if "text/csv" in command:
        assert body.splitlines()[0].strip() == "n" and int(body.splitlines()[1]) > 100_000
    elif "text/turtle" in command:
        assert "<https://idr.openmicroscopy.org/study/idr0003/>" in body or "idr0003" in body
    elif "application/sparql-results+json" in command:
        rows = json.loads(body)["results"]["bindings"]
        assert len(rows) == 4  # one row per repository
    elif "/gide/api/entry/" in command:
        assert json.loads(body)["id"] == "https://idr.openmicroscopy.org/study/idr0003/"
    elif "/gide/search" in command:
        answer = json.loads(body)
        assert answer["total"] > 0 and answer["hits"], command
    else:
        raise AssertionError(f"no check for the README example {command}")


def test_search_parameter_table_is_the_declared_one():
    """The README's GIDE API parameter table names exactly the parameters declared for /gide/search in
    kg/serve/api_params.toml (the declaration /openapi.json is generated from)."""
    from kg.serve.openapi import query_params

    text = section("Search portal and GIDE-compatible API").split("| parameter | meaning |", 1)[1].split("\n\n", 1)[0]
    first_cells = [re.sub(r"\([^)]*\)", "", row.split("|")[1]) for row in text.splitlines()[1:] if row.startswith("|")]
    documented = {m for cell in first_cells for m in re.findall(r"`([a-z_]+)(?:=[^`]*)?`", cell)}
    declared = set(query_params("/gide/search"))
    assert documented == declared, (
        f"README lists {sorted(documented - declared)} not declared; "
        f"declared but not in the README: {sorted(declared - documented)}"
    )
