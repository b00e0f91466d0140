"""`kg export --layout folders`: one RO-Crate folder per study, which ro-crate-py opens."""

from __future__ import annotations

import pytest
from rocrate.rocrate import ROCrate

from kg.cli import build_parser
from kg.export.folders import folder_name, write_study_folders

SOURCE = "idr"


@pytest.fixture(scope="module")
def exported(harvested_store, tmp_path_factory):
    folder = tmp_path_factory.mktemp("folders") / SOURCE
    return folder, write_study_folders(harvested_store, SOURCE, folder)


def test_ro_crate_py_opens_every_exported_study(exported, harvested_store, select):
    folder, n = exported
    names = {
        r["s"].value: r["name"].value
        for r in select(
            harvested_store,
            f"""
        SELECT ?s ?name WHERE {{ GRAPH <https://w3id.org/gide-kg/graph/{SOURCE}> {{ ?s a schema:Dataset ; schema:name ?name }} }}""",
        )
    }
    assert n == len(names) == 127
    opened = {}
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        crate = ROCrate(str(sub))
        opened[crate.root_dataset.id] = crate.name
    assert opened == names
    assert ROCrate(str(folder / "idr0003")).name.startswith("A novel single-cell screening platform")


def test_layout_option_and_safe_folder_names():
    args = build_parser().parse_args(["export", "--rocrate", "out", "--layout", "folders", "idr"])
    assert args.layout == "folders" and args.sources == ["idr"]
    assert build_parser().parse_args(["export", "--rocrate", "out"]).layout == "gide"
    assert (
        folder_name("../../etc/passwd") == "_.._etc_passwd"
        and folder_name("..") == "_"
        and folder_name("S-BIAD1002") == "S-BIAD1002"
    )
