"""Table-driven IRI normalisation (rules in mappings/iri-normalisation.tsv).

Runs as a streaming pass over parsed quads with a memo per distinct IRI: every record holds a few
hundred IRIs but only a few thousand are distinct, so the regexes run once per distinct IRI.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from ..config import MAPPINGS
from ..namespaces import KG

_FIELD = re.compile(r"\{(\d+)(?::(int|lower|0\d+))?\}")
SOURCE_VALUE = ox.NamedNode(KG + "sourceValue")
SOURCE_TYPE = ox.NamedNode(KG + "sourceType")
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


@dataclass(frozen=True)
class IriRule:
    name: str
    pattern: re.Pattern
    replacement: str

    def apply(self, iri: str) -> str | None:
        m = self.pattern.fullmatch(iri)
        if not m:
            return None

        def field(f: re.Match) -> str:
            g = m.group(int(f.group(1))) or ""
            spec = f.group(2)
            if spec == "int":
                return str(int(g))
            if spec == "lower":
                return g.lower()
            if spec:
                return f"{int(g):0{int(spec)}d}"
            return g

        return _FIELD.sub(field, self.replacement)


def load_rules(path: Path | None = None) -> list[IriRule]:
    path = path or MAPPINGS / "iri-normalisation.tsv"
    rules = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) < 3:
            raise ValueError(f"{path}:{lineno}: expected name, pattern, replacement separated by tabs")
        try:
            rules.append(IriRule(cols[0], re.compile(cols[1]), cols[2]))
        except re.error as e:
            raise ValueError(f"{path}:{lineno}: bad pattern for rule {cols[0]!r}: {e}") from e
    return rules


def _alternation(patterns: list[re.Pattern]) -> re.Pattern | None:
    """One pattern that fully matches what any of `patterns` fully matches; None when they cannot be
    joined (a global inline flag such as `(?i)` must start a pattern): each rule is then tried alone."""
    try:
        return re.compile("|".join(f"(?:{p.pattern})" for p in patterns)) if patterns else None
    except re.error:
        return None


class IriNormaliser:
    """Rewrites IRIs by the first matching rule; remembers every decision."""

    def __init__(self, rules: list[IriRule] | None = None):
        self.rules = rules if rules is not None else load_rules()
        # every rule's pattern as one alternation: an IRI no rule matches (nearly all: 5 of 39,357 distinct
        # IRIs in 2,000 crates change) is settled by one regex call instead of one per rule (~60 % less time)
        self._any = _alternation([r.pattern for r in self.rules])
        self._memo: dict[str, ox.NamedNode | None] = {}
        self.applied: dict[str, int] = {}

    def normalise(self, iri: str) -> ox.NamedNode | None:
        """The normalised IRI node, or None when the IRI is already canonical."""
        try:
            return self._memo[iri]
        except KeyError:
            pass
        result = None
        for rule in self.rules if self._any is None or self._any.fullmatch(iri) else ():
            new = rule.apply(iri)
            if new is not None:
                if new != iri:
                    result = ox.NamedNode(new)
                    self.applied[rule.name] = self.applied.get(rule.name, 0) + 1
                break
        self._memo[iri] = result
        return result

    def rewrite(self, quads: Iterable[ox.Quad]) -> Iterator[ox.Quad]:
        """Yield the quads with IRIs normalised, plus a kg:sourceValue quad per changed IRI (kg:sourceType on
        the subject when the changed IRI is its type)."""
        NamedNode = ox.NamedNode
        norm = self.normalise
        for q in quads:
            s, o = q.subject, q.object
            ns = norm(s.value) if type(s) is NamedNode else None
            no = norm(o.value) if type(o) is NamedNode else None
            if ns is None and no is None:
                yield q
                continue
            if ns is not None:
                yield ox.Quad(ns, SOURCE_VALUE, ox.Literal(s.value), q.graph_name)
            if (
                no is not None and q.predicate == RDF_TYPE
            ):  # a misspelt class: say so on the typed node, not on the class
                yield ox.Quad(ns or s, SOURCE_TYPE, ox.Literal(o.value), q.graph_name)
            elif no is not None:
                yield ox.Quad(no, SOURCE_VALUE, ox.Literal(o.value), q.graph_name)
            yield ox.Quad(ns or s, q.predicate, no or o, q.graph_name)
