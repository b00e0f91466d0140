"""A study summary made readable: licence names, human sizes, one entry per paper, who said what.

The JSON twin keeps the raw summary; this only shapes what the HTML page shows.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..namespaces import GRAPH, compact
from ..search.index import LICENCE_LABELS
from ..terms.index import normalise
from .describe import labels

PUBMED = re.compile(r"(?i)^https?://(?:www\.ncbi\.nlm\.nih\.gov/pubmed|pubmed\.ncbi\.nlm\.nih\.gov)/(\d+)/?$")
UNITS = ["bytes", "KB", "MB", "GB", "TB", "PB"]
_compact = lru_cache(maxsize=4096)(compact)  # predicates recur on every page; compact tries every prefix


def licence_name(iri: str | None) -> str | None:
    """'CC BY 4.0' for a Creative Commons IRI (with or without a trailing slash or http)."""
    if not iri:
        return None
    key = re.sub(r"^http://", "https://", iri.strip())
    key = key if key.endswith("/") else key + "/"
    return LICENCE_LABELS.get(key)


def human_size(value: str | None, unit: str | None) -> str:
    """'50.3 GB (50,316,137,600 bytes)' for byte counts; other quantities as given."""
    try:
        n = float(value or "")
    except ValueError:
        return f"{value or ''} {unit or ''}".strip()
    if (unit or "bytes").lower() not in ("bytes", "byte", "b"):
        return f"{value} {unit}"
    i, x = 0, n
    while x >= 1000 and i < len(UNITS) - 1:
        x, i = x / 1000, i + 1
    exact = f"{int(n):,} bytes"
    return exact if i == 0 else f"{x:.1f} {UNITS[i]} ({exact})"


def merged_publications(pubs: list[dict]) -> list[dict]:
    """One entry per paper: a DOI and a PubMed record of the same paper (linked by sameAs or with the
    same title) become one entry listing both identifiers, the DOI first."""
    groups: list[dict] = []
    for p in sorted(pubs, key=lambda p: (not p["publication"].startswith("https://doi.org/"), p["publication"])):
        ids = {p["publication"]} | set((p.get("sameAs") or "").split())
        pmids = {m.group(1) for i in ids if (m := PUBMED.match(i))}
        title = normalise(p.get("name") or "")
        for grp in groups:
            if pmids & grp["pmids"] or (title and title == grp["title"]):
                grp["ids"].append(p["publication"])
                grp["pmids"] |= pmids
                break
        else:
            groups.append(
                {
                    "publication": p["publication"],
                    "name": p.get("name"),
                    "date": p.get("date"),
                    "ids": [p["publication"]],
                    "pmids": pmids,
                    "title": title,
                }
            )
    return [{k: v for k, v in g.items() if k not in ("pmids", "title")} for g in groups]


def by_source(rows: list[dict], sources: dict, store, lab: dict[str, str] | None = None) -> list[dict]:
    """The statements about the study grouped by the source graph that made them, labelled (source
    graphs only: the provenance graph has its own section). `lab`: their labels, if already known."""
    names = {GRAPH + name: src.label for name, src in sources.items()}
    if lab is None:
        lab = labels(store, {r["p"] for r in rows} | {r["o"] for r in rows if r.get("iri") == "true"})
    out: dict[str, dict] = {}
    for r in rows:
        if r["g"] not in names:  # provenance and derived graphs have their own sections
            continue
        grp = out.setdefault(
            r["g"], {"graph": r["g"], "label": names.get(r["g"], r["g"].rsplit("/", 1)[-1]), "statements": []}
        )
        grp["statements"].append(
            {
                "predicate": r["p"],
                "predicate_label": lab.get(r["p"]) or _compact(r["p"]),
                "value": r["o"],
                "value_label": lab.get(r["o"]),
                "is_iri": r.get("iri") == "true",
            }
        )
    return list(out.values())


def cite_text(s: dict) -> str:
    """A plain citation of the dataset: authors (year). title. repository, accession. IRI"""
    authors = [a["name"] for a in s.get("authors", []) if a.get("name")]
    who = ", ".join(authors[:6]) + (" et al." if len(authors) > 6 else "")
    year = (s.get("date") or "")[:4]
    parts = [
        f"{who} ({year})." if who and year else (f"{who}." if who else ""),
        f"{s.get('name', '')}.",
        f"{s.get('publisherName') or ''}, {s.get('identifier') or ''}.",
        s["iri"],
    ]
    return " ".join(p for p in parts if p.strip(" .,"))


def study_view(summary: dict, sources: dict, store, labels: dict[str, str] | None = None) -> dict:
    v = dict(summary)
    v["license_name"] = licence_name(summary.get("license"))
    v["sizes"] = [dict(z, human=human_size(z.get("value"), z.get("unitText"))) for z in summary.get("sizes", [])]
    v["publications"] = merged_publications(summary.get("publications", []))
    v["said_by"] = by_source(summary.get("statements_by_source", []), sources, store, labels)
    v["cite"] = cite_text(summary)
    return v
