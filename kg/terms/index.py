"""The term index: every class of every loaded ontology with labels, synonyms, definitions and is-a links.

Built once from the store (a few SPARQL queries, ~20k terms) and kept in memory: OLS-style look-ups,
hierarchy walks and autocomplete then cost microseconds instead of a SPARQL round trip each.
Terms that the harvested metadata uses from ontologies we do not bundle (EFO, CMPO, GO, CL, …) form
"harvested subsets": their labels come from the records, and the ontology says so.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import cached_property

import pyoxigraph as ox

from ..namespaces import (
    DWC,
    GRAPH,
    KG,
    OBO,
    ONTOLOGY_GRAPH,
    OWL,
    RDF,
    RDFS,
    SCHEMA,
    SKOS,
    term_namespaces,
)

OIO = "http://www.geneontology.org/formats/oboInOwl#"
DEFINITION = {OBO + "IAO_0000115", SKOS + "definition", RDFS + "comment"}
# synonym predicate -> its scope (OBO synonym types), shown on term pages and as OLS obo_synonym
SYNONYM_SCOPES = {
    OIO + "hasExactSynonym": "hasExactSynonym",
    OIO + "hasRelatedSynonym": "hasRelatedSynonym",
    OIO + "hasNarrowSynonym": "hasNarrowSynonym",
    OIO + "hasBroadSynonym": "hasBroadSynonym",
    SKOS + "altLabel": "altLabel",
    DWC + "vernacularName": "vernacularName",
}
SYNONYMS = set(SYNONYM_SCOPES)
LABELS = {RDFS + "label", SKOS + "prefLabel"}
# obsolete terms name their replacement with IAO:0100001 ("term replaced by") or oboInOwl:replacedBy
REPLACED_BY = {OBO + "IAO_0100001", OIO + "replacedBy"}
TERM_CLASSES = (OWL + "Class", SCHEMA + "Taxon", DWC + "Taxon", SKOS + "Concept")


def _harvested() -> dict[str, tuple[str, str, str]]:
    """Namespaces of the harvested subsets (ontologies/namespaces.tsv): IRI prefix -> (id, prefix, ontology IRI)."""
    return {
        r["namespace"]: (r["ontology"], r["prefix"], r["ontology_iri"])
        for r in term_namespaces()
        if r["kind"] == "harvested"
    }


HARVESTED = _harvested()


def normalise(text: str) -> str:
    """Lower-case, accents and punctuation folded to spaces, for matching labels and queries."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


@dataclass
class Term:
    iri: str
    ontology: str
    label: str = ""
    synonyms: list[str] = field(default_factory=list)
    description: list[str] = field(default_factory=list)
    parents: set[str] = field(default_factory=set)
    children: set[str] = field(default_factory=set)
    obsolete: bool = False
    replaced_by: list[str] = field(default_factory=list)
    synonym_scopes: dict[str, str] = field(default_factory=dict)  # synonym -> OBO scope
    inferred_parents: dict[str, str] = field(default_factory=dict)  # parent IRI -> how it was inferred
    equivalent_to: list[list[tuple[str, ...]]] = field(
        default_factory=list
    )  # intersections: ("class", iri) / ("some", property, filler)
    rank: str = ""

    @property
    def inferred(self) -> bool:
        """True when some parent of this term is our inference (kg:inferredParent), not the ontology's."""
        return bool(self.inferred_parents)

    @cached_property
    def short_form(self) -> str:
        return re.split(r"[/#]", self.iri)[-1]

    @cached_property
    def obo_id(self) -> str | None:
        sf = self.short_form
        return sf.replace("_", ":", 1) if self.iri.startswith(OBO) and "_" in sf else None


@dataclass
class Ontology:
    id: str
    prefix: str
    title: str
    iri: str
    description: str = ""
    version: str = ""
    source: str = ""
    licence: str = ""
    harvested_subset: bool = False
    terms: dict[str, Term] = field(default_factory=dict)

    @property
    def roots(self) -> list[Term]:
        return [t for t in self.terms.values() if not t.parents]


class TermIndex:
    def __init__(self, ontologies: dict[str, Ontology]):
        self.ontologies = ontologies
        self.property_labels: dict[str, str] = {}  # labels of the ontologies' properties (e.g. FBbi's has_part)
        self._defining: dict[str, Term | None] = {}
        self._by_iri: dict[str, list[Term]] = {}
        self._by_short: dict[str, list[Term]] = {}
        entries: list[tuple[str, int, Term]] = []  # (normalised text, kind 0 label / 1 synonym, term)
        for onto in ontologies.values():
            for term in onto.terms.values():
                self._by_iri.setdefault(term.iri, []).append(term)
                self._by_short.setdefault(term.short_form.lower(), []).append(term)
                if term.obo_id:
                    self._by_short.setdefault(term.obo_id.lower(), []).append(term)
                if term.label:
                    entries.append((normalise(term.label), 0, term))
                    # "scanning electron microscopy (SEM)": the name without its abbreviation is the label
                    # too, and the abbreviation a synonym
                    m = re.fullmatch(r"(.+?)\s*\(([^()]+)\)", term.label.strip())
                    if m:
                        entries.append((normalise(m.group(1)), 0, term))
                        entries.append((normalise(m.group(2)), 1, term))
                for s in term.synonyms:
                    entries.append((normalise(s), 1, term))
        entries.sort(key=lambda e: e[0])
        self._texts = [e[0] for e in entries]
        self._entries = entries
        self._tokens: dict[str, set[int]] = {}
        for i, (text, _, _) in enumerate(entries):
            for tok in text.split():
                self._tokens.setdefault(tok, set()).add(i)
        self._token_list = sorted(self._tokens)

    # -- look-ups -------------------------------------------------------------------------------
    def get(self, iri: str, ontology: str | None = None) -> Term | None:
        for t in self._by_iri.get(iri, []):
            if ontology is None or t.ontology == ontology:
                return t
        return None

    def holders(self, iri: str) -> list[Term]:
        """The copies of a term in every ontology that holds it (OLS's `appearsIn`)."""
        return list(self._by_iri.get(iri, []))

    def find(
        self,
        ontology: str | None,
        iri: str | None = None,
        short_form: str | None = None,
        obo_id: str | None = None,
        id: str | None = None,
    ) -> list[Term]:
        """Terms by IRI, short form, OBO id or any of them (`id`), optionally within one ontology."""
        found: list[Term] = []
        if iri:
            found = self._by_iri.get(iri, [])
        for key in (short_form, obo_id):
            if key and not found:
                found = self._by_short.get(key.lower(), [])
        if id and not found:
            found = self._by_iri.get(id, []) or self._by_short.get(id.lower(), [])
        return [t for t in found if ontology is None or t.ontology == ontology]

    def defining(self, iri: str) -> Term | None:
        """The copy of a term in the ontology that defines it (its own prefix), else the first."""
        if iri in self._defining:
            return self._defining[iri]
        terms = self._by_iri.get(iri, [])
        found = next(
            (
                t
                for t in terms
                if not self.ontologies[t.ontology].harvested_subset
                and self.ontologies[t.ontology].prefix.lower() in t.short_form.lower()
            ),
            terms[0] if terms else None,
        )
        self._defining[iri] = found
        return found

    def lookup(self, text: str) -> list[Term]:
        """Terms named by an IRI, a CURIE or an OBO id in any spelling people use: `FBbi:00000246`,
        `obo:FBbi_00000246`, `fbbi:246` (ids zero-padded as the ontology pads them), `NCBITaxon:9606`."""
        from ..namespaces import PREFIXES

        text = text.strip()
        found = self.find(None, iri=text, short_form=text, obo_id=text)
        if found or ":" not in text:
            return found
        prefix, local = text.split(":", 1)
        if prefix in PREFIXES and not local.startswith("//"):
            found = self.find(None, iri=PREFIXES[prefix] + local)
            if found:
                return found
        prefixes = {o.prefix.lower(): o.prefix for o in self.ontologies.values()}
        prefixes.update((r["prefix"].lower(), r["prefix"]) for r in term_namespaces())
        canonical = prefixes.get(prefix.lower())
        if canonical is None:
            return []
        for width in (0, 7, 8):
            candidate = local.zfill(width) if local.isdigit() else local
            found = self.find(None, short_form=f"{canonical}_{candidate}")
            if found:
                return found
        return []

    def label_of(self, iri: str) -> str:
        """The label of any term we know, else the IRI's short form."""
        t = self.defining(iri)
        return t.label if t else self.property_labels.get(iri) or re.split(r"[/#]", iri)[-1]

    def equivalent_text(self, term: Term) -> list[str]:
        """Equivalent-class definitions in Manchester-like text with labels, e.g.
        "light microscopy and (has_part some fluorescence)"."""
        out = []
        for members in term.equivalent_to:
            parts = []
            for m in members:
                if m[0] == "class":
                    parts.append(self.label_of(m[1]))
                elif m[0] == "some":
                    parts.append(f"({self.label_of(m[1])} some {self.label_of(m[2])})")
                else:
                    parts.append("(…)")
            out.append(" and ".join(parts))
        return out

    def term_details(self, term: Term) -> dict:
        """What a term page shows, in one dict: identity, definition, synonyms with their OBO scope,
        obsolete / replaced-by, equivalent-class definitions, parents (each flagged when our inference,
        with how it was inferred), children, ancestors and the taxonomic rank."""

        def ref(iri: str) -> dict:
            return {"iri": iri, "label": self.label_of(iri)}

        return {
            "iri": term.iri,
            "label": term.label,
            "ontology": term.ontology,
            "short_form": term.short_form,
            "obo_id": term.obo_id,
            "definition": list(term.description),
            "synonyms": [{"value": s, "scope": term.synonym_scopes.get(s, "")} for s in term.synonyms],
            "obsolete": term.obsolete,
            "replaced_by": [ref(i) for i in term.replaced_by],
            "equivalent_to": self.equivalent_text(term),
            "rank": term.rank or None,
            "inferred": term.inferred,
            "parents": [
                ref(p.iri)
                | {"inferred": p.iri in term.inferred_parents, "inference_note": term.inferred_parents.get(p.iri)}
                for p in self.parents(term)
            ],
            "children": [ref(c.iri) | {"inferred": term.iri in c.inferred_parents} for c in self.children(term)],
            "ancestors": [ref(a.iri) for a in self.ancestors(term)],
        }

    # -- hierarchy --------------------------------------------------------------------------------
    def parents(self, term: Term) -> list[Term]:
        onto = self.ontologies[term.ontology].terms
        return [onto[p] for p in sorted(term.parents) if p in onto]

    def children(self, term: Term) -> list[Term]:
        onto = self.ontologies[term.ontology].terms
        return [onto[c] for c in sorted(term.children) if c in onto]

    def ancestors(self, term: Term) -> list[Term]:
        return self._closure(term, "parents")

    def descendants(self, term: Term) -> list[Term]:
        return self._closure(term, "children")

    def _closure(self, term: Term, direction: str) -> list[Term]:
        onto = self.ontologies[term.ontology].terms
        seen: set[str] = set()
        stack = list(getattr(term, direction))
        while stack:
            iri = stack.pop()
            if iri in seen or iri not in onto:
                continue
            seen.add(iri)
            stack.extend(getattr(onto[iri], direction))
        seen.discard(term.iri)
        return [onto[i] for i in sorted(seen)]

    def expand(self, iri: str) -> list[str]:
        """The IRI and every descendant's, in all ontologies holding it (for hierarchy-aware filters)."""
        out = {iri}
        for t in self._by_iri.get(iri, []):
            out.update(d.iri for d in self.descendants(t))
        return sorted(out)

    # -- search -----------------------------------------------------------------------------------
    def search(
        self,
        q: str,
        ontologies: list[str] | None = None,
        exact: bool = False,
        obsoletes: bool = False,
        within: set[str] | None = None,
    ) -> list[tuple[Term, float, str]]:
        """Ranked (term, score, reason) for a query: exact label, exact synonym, label prefix, all words."""
        nq = normalise(q)
        if not nq:
            return []
        best: dict[tuple[str, str], tuple[Term, float, str]] = {}

        def offer(term: Term, score: float, reason: str) -> None:
            if ontologies and term.ontology not in ontologies:
                return
            if term.obsolete and not obsoletes:
                return
            if within is not None and term.iri not in within:
                return
            key = (term.ontology, term.iri)
            if key not in best or best[key][1] < score:
                best[key] = (term, score, reason)

        for t in self.find(None, iri=q.strip(), short_form=q.strip(), obo_id=q.strip()):
            offer(t, 100.0, "identifier")
        i = bisect_left(self._texts, nq)
        while i < len(self._texts) and self._texts[i] == nq:
            _, kind, term = self._entries[i]
            offer(term, 100.0 if kind == 0 else 90.0, "exact label" if kind == 0 else "exact synonym")
            i += 1
        if not exact:
            i = bisect_left(self._texts, nq)
            while i < len(self._texts) and self._texts[i].startswith(nq):
                _, kind, term = self._entries[i]
                offer(
                    term,
                    (70.0 if kind == 0 else 60.0) - min(len(self._texts[i]) - len(nq), 50) / 10,
                    "label prefix" if kind == 0 else "synonym prefix",
                )
                i += 1
            toks = nq.split()
            postings = None
            for tok in toks:
                j = bisect_left(self._token_list, tok)
                hits: set[int] = set()
                while j < len(self._token_list) and self._token_list[j].startswith(tok):
                    hits |= self._tokens[self._token_list[j]]
                    j += 1
                postings = hits if postings is None else postings & hits
                if not postings:
                    break
            for idx in sorted(postings or ()):
                text, kind, term = self._entries[idx]
                offer(
                    term,
                    (50.0 if kind == 0 else 40.0) - min(len(text) - len(nq), 50) / 10,
                    "all words in label" if kind == 0 else "all words in synonym",
                )
        return sorted(best.values(), key=lambda x: (-x[1], len(x[0].label), x[0].iri))

    # -- building ---------------------------------------------------------------------------------
    @classmethod
    def from_store(cls, store, manifest: dict | None = None) -> TermIndex:
        from ..store.ontologies import manifest as read_manifest

        manifest = manifest if manifest is not None else read_manifest()
        ontologies: dict[str, Ontology] = {}
        for name, entry in manifest.items():
            graph = ONTOLOGY_GRAPH + name
            if not store.has_graph(graph):
                continue
            onto = Ontology(
                id=name,
                prefix=entry.get("prefix", name.upper()),
                title=entry.get("label", name),
                iri=entry.get("iri", ""),
                description=entry.get("description", ""),
                version=entry.get("version", ""),
                source=entry.get("source", ""),
                licence=entry.get("licence", ""),
                harvested_subset=bool(entry.get("harvested_subset", False)),
            )
            namespace = entry.get("namespace") or [r["namespace"] for r in term_namespaces() if r["ontology"] == name]
            _load_graph(store, graph, onto, namespace)
            ontologies[name] = onto
        _load_harvested(store, ontologies)
        index = cls(ontologies)
        for r in store.query(
            f"""SELECT ?p (SAMPLE(?l) AS ?label) WHERE {{ GRAPH ?g {{ ?p a ?kind ; <{RDFS}label> ?l
                  FILTER(?kind IN (<{OWL}ObjectProperty>, <{OWL}AnnotationProperty>, <{OWL}DatatypeProperty>)) }}
                  FILTER(STRSTARTS(STR(?g), "{ONTOLOGY_GRAPH}")) }} GROUP BY ?p"""
        ):
            index.property_labels[r["p"].value] = r["label"].value
        return index


def _load_graph(store, graph: str, onto: Ontology, namespace: str | list[str] | None) -> None:
    namespaces = tuple([namespace] if isinstance(namespace, str) else namespace or [])
    wanted = [
        RDFS + "label",
        RDFS + "subClassOf",
        OWL + "deprecated",
        SKOS + "prefLabel",
        DWC + "taxonRank",
        KG + "inferredParent",
        KG + "inferenceNote",
        *DEFINITION,
        *SYNONYMS,
        *REPLACED_BY,
    ]
    rows = store.query(
        f"""SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o
              FILTER(isIRI(?s) && ?p IN ({", ".join(f"<{w}>" for w in wanted)})) }} }}"""
    )
    terms = onto.terms
    classes = {
        r["s"].value
        for r in store.query(
            f"""SELECT DISTINCT ?s WHERE {{ GRAPH <{graph}> {{ ?s a ?t
              FILTER(isIRI(?s) && ?t IN ({", ".join(f"<{c}>" for c in TERM_CLASSES)})) }} }}"""
        )
    }
    notes: dict[str, str] = {}
    for r in rows:
        s, p, o = r["s"].value, r["p"].value, r["o"]
        if namespaces and not s.startswith(namespaces):
            continue
        if s not in classes and p != RDFS + "subClassOf":
            continue
        t = terms.setdefault(s, Term(s, onto.id))
        if p in LABELS and not t.label:
            t.label = o.value
        elif p == RDFS + "subClassOf":
            if isinstance(o, ox.NamedNode) and (not namespaces or o.value.startswith(namespaces)):
                t.parents.add(o.value)
        elif p in DEFINITION:
            if o.value not in t.description:
                t.description.append(o.value)
        elif p in SYNONYMS:
            if o.value not in t.synonyms:
                t.synonyms.append(o.value)
                t.synonym_scopes[o.value] = SYNONYM_SCOPES[p]
        elif p == OWL + "deprecated":
            t.obsolete = o.value.lower() == "true"
        elif p in REPLACED_BY:
            if o.value not in t.replaced_by:
                t.replaced_by.append(o.value)
        elif p == KG + "inferredParent":
            t.inferred_parents.setdefault(o.value, "")
        elif p == KG + "inferenceNote":
            notes[s] = o.value
        elif p == DWC + "taxonRank":
            t.rank = o.value
    for s, note in notes.items():
        for parent in terms[s].inferred_parents:
            terms[s].inferred_parents[parent] = note
    for t in list(terms.values()):
        for p in list(t.parents):
            if p not in terms:
                terms[p] = Term(p, onto.id)
            terms[p].children.add(t.iri)
    for t in terms.values():
        if not t.label:
            t.label = t.short_form
    _load_equivalents(store, graph, terms)


def _load_equivalents(store, graph: str, terms: dict[str, Term]) -> None:
    """Equivalent-class definitions of the form `A and (p some B) and …` (FBbi has 28), read from the RDF
    lists of owl:intersectionOf; members in list order."""
    rows = store.query(
        f"""SELECT ?c ?x ?node ?first ?prop ?filler WHERE {{ GRAPH <{graph}> {{
              ?c <{OWL}equivalentClass> ?x . ?x <{OWL}intersectionOf> ?list .
              ?list <{RDF}rest>* ?node . ?node <{RDF}first> ?first .
              OPTIONAL {{ ?first <{OWL}onProperty> ?prop ; <{OWL}someValuesFrom> ?filler }} }} }}"""
    )
    lists: dict[tuple[str, str], dict[str, tuple[str, ...]]] = {}
    nexts: dict[str, str] = {}
    for r in store.query(f"SELECT ?n ?m WHERE {{ GRAPH <{graph}> {{ ?n <{RDF}rest> ?m }} }}"):
        nexts[str(r["n"])] = str(r["m"])
    for r in rows:
        c = r["c"].value
        if c not in terms:
            continue
        if isinstance(r["first"], ox.NamedNode):
            member: tuple[str, ...] = ("class", r["first"].value)
        elif r["prop"] is not None and isinstance(r["filler"], ox.NamedNode):
            member = ("some", r["prop"].value, r["filler"].value)
        else:
            member = ("other",)
        lists.setdefault((c, str(r["x"])), {})[str(r["node"])] = member
    for (c, _), members in sorted(lists.items()):
        # order the members by walking rdf:rest from the node no other member points to
        pointed = {nexts.get(n) for n in members}
        head = next((n for n in members if n not in pointed), None)
        ordered = []
        while head in members:
            ordered.append(members[head])
            head = nexts.get(head)
        terms[c].equivalent_to.append(ordered if len(ordered) == len(members) else list(members.values()))


def _load_harvested(store, ontologies: dict[str, Ontology]) -> None:
    """Terms the harvested records use from ontologies we do not bundle, labelled as the records name them;
    and the vernacular names the records give taxa ("mouse"), as synonyms of the NCBITaxon terms."""
    taxa = ontologies.get("ncbitaxon")
    if taxa is not None:
        for r in store.query(
            f"""SELECT DISTINCT ?t ?v WHERE {{ GRAPH ?g {{ ?t <http://rs.tdwg.org/dwc/terms/vernacularName> ?v }}
                  FILTER(!STRSTARTS(STR(?g), "{ONTOLOGY_GRAPH}")) }}"""
        ):
            term = taxa.terms.get(r["t"].value)
            if (
                term is not None
                and r["v"].value not in term.synonyms
                and normalise(r["v"].value) != normalise(term.label)
            ):
                term.synonyms.append(r["v"].value)
    rows = store.query(
        f"""SELECT ?t (SAMPLE(?l) AS ?label) WHERE {{ GRAPH ?g {{ ?t <{RDFS}label>|<{SCHEMA}name> ?l }}
              FILTER(STRSTARTS(STR(?g), "{GRAPH}") && !STRSTARTS(STR(?g), "{ONTOLOGY_GRAPH}") && isIRI(?t)) }} GROUP BY ?t"""
    )
    for r in rows:
        iri = r["t"].value
        for ns, (oid, prefix, oiri) in HARVESTED.items():
            if iri.startswith(ns):
                onto = ontologies.get(oid)
                if onto is None:
                    onto = ontologies[oid] = Ontology(
                        id=oid,
                        prefix=prefix,
                        title=f"{prefix} (terms used in the harvested metadata)",
                        iri=oiri,
                        description=f"The {prefix} terms that the harvested GIDE records use, labelled as the records name them; not the full ontology.",
                        source="harvested records",
                        harvested_subset=True,
                    )
                onto.terms.setdefault(iri, Term(iri, oid, label=r["label"].value))
                break
