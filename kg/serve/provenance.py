"""/provenance: the harvest history of every source (runs, record changes, quarantined records)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template

from ..namespaces import KG, MAPPING, PROV, PROVENANCE_GRAPH
from .negotiation import json_twin_requested

bp = Blueprint("provenance", __name__)

RUN_FIELDS = [
    "status",
    "recordsSeen",
    "studiesLoaded",
    "recordsQuarantined",
    "recordsAdded",
    "recordsRemoved",
    "recordsChanged",
    "recordsUnchanged",
    "quadsAdded",
    "quadsRemoved",
    "error",
]


def history(store) -> dict:
    runs: dict[str, dict] = {}
    fields = " ".join(f"OPTIONAL {{ ?run <{KG}{f}> ?{f} }}" for f in RUN_FIELDS)
    rows = store.query(
        f"""SELECT ?run ?src ?start ?end ?mapping {" ".join("?" + f for f in RUN_FIELDS)} WHERE {{ GRAPH <{PROVENANCE_GRAPH}> {{
              ?run a <{KG}HarvestRun> ; <{KG}harvestSource> ?src ; <{PROV}startedAtTime> ?start .
              OPTIONAL {{ ?run <{PROV}endedAtTime> ?end }} OPTIONAL {{ ?run <{PROV}used> ?mapping }} {fields} }} }}
            ORDER BY ?src DESC(?start) DESC(STR(?run))"""
    )
    for r in rows:
        run = {
            "run": r["run"].value,
            "source": r["src"].value,
            "started": r["start"].value,
            "ended": r["end"].value if r["end"] else None,
            "mapping": r["mapping"].value.replace(MAPPING, "") if r["mapping"] else None,
        }
        for f in RUN_FIELDS:
            v = r[f]
            run[f] = (int(v.value) if v.value.isdigit() else v.value) if v is not None else None
        runs.setdefault(run["source"], []).append(run)
    quarantined = [
        {
            "record": r["rec"].value,
            "source": r["src"].value,
            "file": r["file"].value,
            "reason": r["reason"].value,
            "location": r["loc"].value if r["loc"] else None,
        }
        for r in store.query(
            f"""SELECT ?rec ?src ?file ?reason ?loc WHERE {{ GRAPH <{PROVENANCE_GRAPH}> {{ ?rec a <{KG}QuarantinedRecord> ;
                  <{KG}harvestSource> ?src ; <{KG}fileName> ?file ; <{KG}quarantineReason> ?reason .
                  OPTIONAL {{ ?rec <{PROV}atLocation> ?loc }} }} }} ORDER BY ?src ?file"""
        )
    ]
    return {"runs": runs, "quarantined": quarantined}


@bp.route("/provenance")
def provenance():
    data = history(current_app.config["KG_STORE"])
    if json_twin_requested():
        return jsonify(data)
    return render_template("provenance.html", data=data, sources=current_app.config["KG_SOURCES"])
