"""Grounding free text to ontology terms, ZOOMA-style: candidates with a score and the reason.

Exact label / synonym matches and word matches come from the index; when none is decisive, a fuzzy
match (rapidfuzz, token-set ratio) catches typos such as "Mus muculus". A grounding is *decisive* when
the best candidate scores at least `DECISIVE` and clearly beats the runner-up in another IRI.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz, process

from .index import Term, TermIndex, normalise

DECISIVE = 90.0
MARGIN = 5.0


@dataclass
class Candidate:
    term: Term
    score: float
    reason: str

    def as_dict(self) -> dict:
        return {
            "iri": self.term.iri,
            "label": self.term.label,
            "ontology_name": self.term.ontology,
            "obo_id": self.term.obo_id,
            "short_form": self.term.short_form,
            "score": round(self.score, 1),
            "reason": self.reason,
        }


def candidates(index: TermIndex, text: str, ontologies: list[str] | None = None, limit: int = 10) -> list[Candidate]:
    found = [Candidate(t, s, r) for t, s, r in index.search(text, ontologies=ontologies)[:limit]]
    if not found or found[0].score < DECISIVE:
        choices = {
            i: e[0]
            for i, e in enumerate(index._entries)
            if not e[2].obsolete and (not ontologies or e[2].ontology in ontologies)
        }
        for _, score, i in process.extract(normalise(text), choices, scorer=fuzz.ratio, limit=limit, score_cutoff=80):
            _, kind, term = index._entries[i]
            found.append(Candidate(term, float(score) * 0.95, "fuzzy label" if kind == 0 else "fuzzy synonym"))
    best: dict[str, Candidate] = {}
    for c in found:
        key = f"{c.term.ontology} {c.term.iri}"
        if key not in best or best[key].score < c.score:
            best[key] = c
    return sorted(best.values(), key=lambda c: (-c.score, c.term.iri))[:limit]


def decide(cands: list[Candidate]) -> Candidate | None:
    """The grounding to use, or None when it is not decisive (then a curator decides)."""
    if not cands or cands[0].score < DECISIVE:
        return None
    rivals = [c for c in cands[1:] if c.term.iri != cands[0].term.iri]
    if (
        rivals
        and rivals[0].score > cands[0].score - MARGIN
        and normalise(rivals[0].term.label) != normalise(cands[0].term.label)
    ):
        return None
    return cands[0]
