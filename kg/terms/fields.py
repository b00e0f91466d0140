"""Field-weighted term search, as OLS4's v2 API does it (`searchFields=label^100 synonym^5 description`).

OLS4 hands the weights to Solr; we keep one inverted index per searchable field over the TermIndex
(built once, on first use, then cached on the index), so a search is a few set intersections: every
query token must occur in a field's value (the last token may be a prefix, for search-as-you-type), a
field matched whole scores twice its weight, and boosts (`boostFields`, or OLS4's defaults) are added.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from dataclasses import dataclass

from .index import Term, TermIndex, normalise

# v2 field name -> how to read it from a term (names as OLS4's entity documents spell them)
FIELDS = ("label", "synonym", "description", "definition", "curie", "shortForm", "oboId", "iri", "ontologyId", "id")
DEFAULT_SEARCH = {"label": 1, "synonym": 1, "curie": 1, "shortForm": 1, "oboId": 1, "iri": 1, "ontologyId": 1, "id": 1}
MAX_FIELDS = 12


class BadFields(ValueError):
    """A searchFields / boostFields specification we cannot read (the message says why)."""


def curie(t: Term, prefix: str) -> str:
    return t.obo_id or (
        f"{prefix}:{t.short_form}"
        if prefix and not t.short_form.startswith(prefix)
        else t.short_form.replace("_", ":", 1)
    )


def field_values(t: Term, field: str, prefix: str) -> list[str]:
    if field == "label":
        return [t.label]
    if field == "synonym":
        return t.synonyms
    if field in ("description", "definition"):
        return t.description
    if field == "curie":
        return [curie(t, prefix)]
    if field in ("shortForm", "id"):
        return [t.short_form]
    if field == "oboId":
        return [t.obo_id] if t.obo_id else []
    if field == "iri":
        return [t.iri]
    if field == "ontologyId":
        return [t.ontology]
    return []


def parse_fields(spec: str | None, default: dict[str, int]) -> dict[str, int]:
    """`label^100 synonym^5 description` → {"label": 100, "synonym": 5, "description": 1}."""
    if spec is None or not spec.strip():
        return dict(default)
    out: dict[str, int] = {}
    for part in spec.split()[:MAX_FIELDS]:
        name, _, weight = part.partition("^")
        if name not in FIELDS:
            raise BadFields(f"unknown search field {name!r}; fields are {', '.join(FIELDS)}")
        try:
            out[name] = int(weight) if weight else 1
        except ValueError:
            raise BadFields(f"weight of {name!r} must be a whole number, not {weight!r}") from None
        if not 0 <= out[name] <= 10**6:
            raise BadFields(f"weight of {name!r} must be between 0 and 1000000")
    return out


@dataclass(frozen=True)
class Boost:
    field: str
    value: str | None  # None: boost when the field matches the search text
    weight: int
    mode: str = "tokens"  # "whole": the field equals the value; "edge": it starts with it; "tokens": every token occurs


def parse_boosts(spec: str | None) -> list[Boost] | None:
    """`isDefiningOntology:true^1000 label^50` → boosts; None when not given (then OLS4's defaults apply)."""
    if spec is None or not spec.strip():
        return None
    boosts = []
    for part in spec.split()[:MAX_FIELDS]:
        head, _, weight = part.partition("^")
        name, _, value = head.partition(":")
        if name not in FIELDS and name not in FLAGS:
            raise BadFields(f"unknown boost field {name!r}; fields are {', '.join(FIELDS + tuple(FLAGS))}")
        try:
            w = int(weight) if weight else 1
        except ValueError:
            raise BadFields(f"weight of {name!r} must be a whole number, not {weight!r}") from None
        boosts.append(Boost(name, value or None, w))
    return boosts


# boolean fields a boost or filter may name
FLAGS = {
    "isDefiningOntology",
    "isObsolete",
    "hasDirectParents",
    "hasDirectChildren",
    "hasHierarchicalParents",
    "hasHierarchicalChildren",
    "isPreferredRoot",
}


class FieldIndex:
    """Per-field token postings over every term of a TermIndex."""

    def __init__(self, idx: TermIndex):
        self.idx = idx
        self.terms: list[Term] = [t for o in idx.ontologies.values() for t in o.terms.values()]
        self.defining = [idx.defining(t.iri) is t for t in self.terms]
        self.whole: dict[str, dict[str, set[int]]] = {f: {} for f in FIELDS}
        self.tokens: dict[str, dict[str, set[int]]] = {f: {} for f in FIELDS}
        self.values: dict[str, list[list[str]]] = {f: [] for f in FIELDS}  # normalised values, by term number
        for i, t in enumerate(self.terms):
            prefix = idx.ontologies[t.ontology].prefix
            for f in FIELDS:
                self.values[f].append([normalise(v) for v in field_values(t, f, prefix)])
                for n in self.values[f][i]:
                    self.whole[f].setdefault(n, set()).add(i)
                    for tok in n.split():
                        self.tokens[f].setdefault(tok, set()).add(i)
        self.sorted_tokens = {f: sorted(self.tokens[f]) for f in FIELDS}
        self.order = sorted(range(len(self.terms)), key=lambda i: (self.terms[i].iri, self.terms[i].ontology))
        self.by_ontology: dict[str, set[int]] = {}
        for i, t in enumerate(self.terms):
            self.by_ontology.setdefault(t.ontology, set()).add(i)

    def flag(self, i: int, name: str) -> bool:
        t = self.terms[i]
        if name == "isDefiningOntology":
            return self.defining[i]
        if name == "isObsolete":
            return t.obsolete
        if name in ("hasDirectParents", "hasHierarchicalParents"):
            return bool(t.parents)
        if name in ("hasDirectChildren", "hasHierarchicalChildren"):
            return bool(t.children)
        return False

    def matching(self, field: str, text: str, exact: bool = False) -> set[int]:
        """Terms whose `field` holds every token of `text` (the last one as a prefix), or equals it."""
        n = normalise(text)
        if not n:
            return set()
        if exact:
            return set(self.whole[field].get(n, ()))
        toks = n.split()
        postings: set[int] | None = None
        for k, tok in enumerate(toks):
            if k < len(toks) - 1:
                hits = self.tokens[field].get(tok, set())
            else:
                hits = set()
                keys = self.sorted_tokens[field]
                j = bisect_left(keys, tok)
                while j < len(keys) and keys[j].startswith(tok):
                    hits |= self.tokens[field][keys[j]]
                    j += 1
            postings = set(hits) if postings is None else postings & hits
            if not postings:
                return set()
        return postings or set()

    def search(
        self,
        text: str | None,
        fields: dict[str, int],
        boosts: list[Boost] | None,
        exact: bool = False,
        within: set[int] | None = None,
    ) -> list[tuple[int, float]]:
        """(term number, score) best first; with no text, every term (of `within`) in IRI order."""
        if not text or not normalise(text):
            return [(i, 0.0) for i in self.order if within is None or i in within]
        scores: dict[int, float] = {}
        n = normalise(text)
        for field, weight in fields.items():
            hits = self.matching(field, text, exact)
            whole = self.whole[field].get(n, set())
            for i in hits if within is None else hits & within:
                scores[i] = scores.get(i, 0.0) + weight * (2 if i in whole else 1)
        if not scores:
            return []
        for b in boosts if boosts is not None else _default_boosts(text):
            if b.field in FLAGS:
                wanted = (b.value or "true").lower() == "true"
                for i in scores:
                    if self.flag(i, b.field) == wanted:
                        scores[i] += b.weight
                continue
            nv = normalise(b.value) if b.value is not None else n
            column = self.values[b.field]
            if b.mode == "whole":
                hits = [i for i in scores if nv in column[i]]
            elif b.mode == "edge":
                hits = [i for i in scores if any(v.startswith(nv) for v in column[i])]
            else:
                tokens = set(nv.split())
                hits = [i for i in scores if any(tokens <= set(v.split()) for v in column[i])]
            for i in hits:
                scores[i] += b.weight
        return sorted(
            scores.items(),
            key=lambda x: (-x[1], len(self.terms[x[0]].label), self.terms[x[0]].iri, self.terms[x[0]].ontology),
        )


def _default_boosts(text: str) -> list[Boost]:
    """OLS4's boosts when the request names none (V2SearchFieldsParser.addBoostFieldsToQuery)."""
    return [
        Boost("isDefiningOntology", "true", 1000, "whole"),
        Boost("label", text, 1000, "whole"),
        Boost("label", text, 500, "edge"),
        Boost("curie", text, 500, "edge"),
        Boost("shortForm", text, 500, "edge"),
        Boost("synonym", text, 500, "whole"),
    ]


_FIRST_USE = threading.Lock()


def field_index(idx: TermIndex) -> FieldIndex:
    """The FieldIndex of a TermIndex, kept with it: read on first use from where kg/indexes.py persisted it
    (`_field_index_source`, a callable), else built."""
    fi = getattr(idx, "_field_index", None)
    if fi is None:
        with _FIRST_USE:  # one load or build, however many requests arrive at once
            fi = getattr(idx, "_field_index", None)
            if fi is None:
                source = getattr(idx, "_field_index_source", None)
                fi = source() if source is not None else None
                idx._field_index = fi if fi is not None else FieldIndex(idx)  # type: ignore[attr-defined]
                fi = idx._field_index
    return fi
