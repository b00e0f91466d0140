"""/quality: the curators' QC questions (queries/qc-*.rq), per repository, with the offending studies."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template

from ..config import QUERIES
from ..namespaces import GRAPH
from .generation_cache import cached
from .negotiation import json_twin_requested
from .queries import named_queries

bp = Blueprint("quality", __name__)


def qc_report(store) -> list[dict]:
    checks = []
    for q in named_queries(QUERIES):
        if not q.name.startswith("qc-"):
            continue
        result = store.query(q.text)
        names = [v.value for v in result.variables]
        rows = [{k: r[k].value for k in names if r[k] is not None} for r in result]
        per_repo: dict[str, int] = {}
        for row in rows:
            repo = row.get("repository") or row.get("graph", "").rsplit("/", 1)[-1] or "?"
            per_repo[repo] = per_repo.get(repo, 0) + 1
        checks.append(
            {
                "name": q.name,
                "title": q.title.removeprefix("QC: "),
                "answers": q.answers,
                "total": len(rows),
                "per_repository": dict(sorted(per_repo.items())),
                "rows": rows,
            }
        )
    return checks


def source_labels(sources: dict) -> dict[str, str]:
    """Source name, graph IRI or publisher IRI → the source's label, for naming sources on the page."""
    out = {}
    for name, src in sources.items():
        out[name] = out[GRAPH + name] = src.label
        out.setdefault(src.publisher, src.label)
    return out


@bp.route("/quality")
def quality():
    """Computed once per harvest generation (the QC queries and the SHACL summary take seconds)."""
    from ..validate.shacl import summary_from_store

    store = current_app.config["KG_STORE"]
    report, shacl = cached("quality", "", lambda: (qc_report(store), summary_from_store(store)))
    background = current_app.config.get("KG_BACKGROUND")  # `kg up`: validation may still be running
    note = background.note("validation") if background is not None else ""  # e.g. "validation running…"
    if json_twin_requested():
        return jsonify(checks=report, shacl=shacl, **({"validation": note} if note else {}))
    return render_template(
        "quality.html",
        report=report,
        shacl=shacl,
        names=source_labels(current_app.config["KG_SOURCES"]),
        validation_note=note,
    )
