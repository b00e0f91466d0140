"""Store statistics shared by `kg stats` and the home page: triples per graph, studies and last run per source."""

from __future__ import annotations

from ..namespaces import KG, PROV, PROVENANCE_GRAPH, SCHEMA, source_graph


def studies_per_graph(store) -> dict[str, int]:
    rows = store.query(
        f"SELECT ?g (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH ?g {{ ?s a <{SCHEMA}Dataset> }} }} GROUP BY ?g"
    )
    return {r["g"].value: int(r["n"].value) for r in rows}


def distinct_studies(store) -> int:
    """Studies across all sources, each counted once (IDR crates and study files share study IRIs)."""
    row = next(iter(store.query(f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a <{SCHEMA}Dataset> }}")))
    return int(row["n"].value)


def last_runs(store) -> dict[str, dict]:
    rows = store.query(
        f"""SELECT ?src ?run ?status ?start ?end ?loaded ?q ?err WHERE {{ GRAPH <{PROVENANCE_GRAPH}> {{
            ?run a <{KG}HarvestRun> ; <{KG}harvestSource> ?src ; <{KG}status> ?status ; <{PROV}startedAtTime> ?start .
            OPTIONAL {{ ?run <{PROV}endedAtTime> ?end }} OPTIONAL {{ ?run <{KG}studiesLoaded> ?loaded }}
            OPTIONAL {{ ?run <{KG}recordsQuarantined> ?q }} OPTIONAL {{ ?run <{KG}error> ?err }} }} }}
            ORDER BY ?src DESC(?start) DESC(STR(?run))"""
    )
    out: dict[str, dict] = {}
    for r in rows:
        src = r["src"].value
        if src in out:
            continue
        out[src] = {
            "run": r["run"].value,
            "status": r["status"].value,
            "started": r["start"].value,
            "ended": r["end"].value if r["end"] else "",
            "loaded": int(r["loaded"].value) if r["loaded"] else 0,
            "quarantined": int(r["q"].value) if r["q"] else 0,
            "error": r["err"].value if r["err"] else "",
        }
    return out


def collect_stats(store, sources: dict) -> dict:
    per_graph = studies_per_graph(store)
    runs = last_runs(store)
    return {
        "studies": distinct_studies(store),
        "graphs": dict(sorted(store.graph_sizes().items())),
        "sources": [
            {
                "name": name,
                "label": src.label,
                "short": src.short,
                "graph": source_graph(name),
                "studies": per_graph.get(source_graph(name), 0),
                "last_run": runs.get(name),
            }
            for name, src in sources.items()
        ],
    }
