"""Term pages: what a vocabulary or ontology term means and where the graph uses it.

Every predicate and class the graph uses gets a page (no dead links from statement tables): label and
definition from the loaded ontologies, else from data/vocabularies.toml; usage counts per graph; and
for ontology classes an OLS-style panel (lineage tree, children, synonyms, obsolescence, the studies
annotated with it or a descendant, linked into /search with the facet set).
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

from ..config import QUERIES
from .queries import bind_iri, internal_queries

VOCABULARIES = Path(__file__).parent / "data" / "vocabularies.toml"
TERM_PLACEHOLDER = "<urn:gide-kg:bind:term>"


@lru_cache(maxsize=1)
def _vocabularies() -> tuple[dict, dict]:
    raw = tomllib.loads(VOCABULARIES.read_text(encoding="utf-8"))
    namespaces = {ns["iri"]: dict(ns, prefix=p) for p, ns in raw["namespaces"].items()}
    by_prefix = {p: ns["iri"] for p, ns in raw["namespaces"].items()}
    terms = {}
    for curie, entry in raw.get("terms", {}).items():
        prefix, local = curie.split(":", 1)
        terms[by_prefix[prefix] + local] = entry
    return namespaces, terms


def vocabulary_entry(iri: str) -> dict | None:
    """{label, definition, curie, name, docs} for a term of a known vocabulary (name and docs are the
    vocabulary's; the definition may be None)."""
    namespaces, terms = _vocabularies()
    ns = max((n for n in namespaces if iri.startswith(n)), key=len, default=None)
    if ns is None:
        return None
    entry = terms.get(iri, {})
    local = iri[len(ns) :]
    return {
        "label": entry.get("label") or local,
        "definition": entry.get("definition"),
        "curie": f"{namespaces[ns]['prefix']}:{local}",
        "name": namespaces[ns]["name"],
        "docs": namespaces[ns]["docs"],
    }


def usage(store, iri: str) -> dict:
    """Where the graph uses the term: counts per graph as a predicate and as a class, a few examples."""
    qs = internal_queries(QUERIES / "internal" / "term")

    def rows(name: str) -> list[dict]:
        res = store.query(bind_iri(qs[name].text, iri, TERM_PLACEHOLDER))
        names = [v.value for v in res.variables]
        return [{n: r[n].value for n in names if r[n] is not None} for r in res]

    as_predicate = [{"graph": r["g"], "count": int(r["n"])} for r in rows("as-predicate")]
    as_class = [{"graph": r["g"], "count": int(r["n"])} for r in rows("as-class")]
    return {
        "as_predicate": as_predicate,
        "as_class": as_class,
        "examples": rows("examples") if as_predicate else [],
        "predicate_total": sum(x["count"] for x in as_predicate),
        "class_total": sum(x["count"] for x in as_class),
    }


def ontology_term(iri: str, terms, studies, facet_params: dict[str, str]) -> dict | None:
    """The OLS-style panel of an ontology class from the term index, or None when no ontology holds it.

    Kept to this one function so the term index it reads can change underneath it."""
    t = terms.defining(iri)
    if t is None:
        return None

    def brief(x) -> dict:
        return {
            "iri": x.iri,
            "label": x.label or x.short_form,
            "id": x.obo_id or x.short_form,
            "children": len(x.children),
        }

    lineage, node = [], t
    seen = {t.iri}
    while True:  # one path to a root (the first parent at each step), root first
        ps = [p for p in terms.parents(node) if p.iri not in seen]
        if not ps:
            break
        node = ps[0]
        seen.add(node.iri)
        lineage.insert(0, brief(node))
    children = [
        dict(brief(c), grandchildren=[brief(g) for g in terms.children(c)[:30]]) for c in terms.children(t)[:200]
    ]
    under = {t.iri} | {d.iri for d in terms.descendants(t)}
    best, count, direct = None, 0, 0
    for facet in facet_params:
        n = sum(1 for d in studies.docs if d.facets.get(facet, set()) & under)
        if n > count:
            best, count = facet, n
            direct = sum(1 for d in studies.docs if iri in d.facets.get(facet, set()))
    onto = terms.ontologies[t.ontology]
    return {
        "iri": t.iri,
        "label": t.label,
        "id": t.obo_id or t.short_form,
        "ontology": {"id": onto.id, "title": onto.title},
        "definition": list(t.description),
        "synonyms": sorted(set(t.synonyms)),
        "obsolete": bool(t.obsolete),
        "replaced_by": getattr(t, "replaced_by", None),
        "parents": [brief(p) for p in terms.parents(t)],
        "lineage": lineage,
        "children": children,
        "descendants": len(under) - 1,
        "studies": count,
        "studies_direct": direct,
        "search": "/search?" + urlencode({facet_params[best]: iri}) if best else None,
    }
