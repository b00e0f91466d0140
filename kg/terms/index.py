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

from ..namespaces import GRAPH, ONTOLOGY_GRAPH, OWL, RDFS, SCHEMA, SKOS

OBO = "http://purl.obolibrary.org/obo/"
OIO = "http://www.geneontology.org/formats/oboInOwl#"
DEFINITION = {OBO + "IAO_0000115", SKOS + "definition", RDFS + "comment"}
SYNONYMS = {OIO + "hasExactSynonym", OIO + "hasRelatedSynonym", OIO + "hasNarrowSynonym", OIO + "hasBroadSynonym",
            SKOS + "altLabel", "http://rs.tdwg.org/dwc/terms/vernacularName"}
LABELS = {RDFS + "label", SKOS + "prefLabel"}

# Namespaces of the harvested subsets: IRI prefix -> (ontology id, prefix, ontology IRI)
HARVESTED = {
    "http://www.ebi.ac.uk/efo/EFO_": ("efo", "EFO", "http://www.ebi.ac.uk/efo/efo.owl"),
    "http://www.ebi.ac.uk/cmpo/CMPO_": ("cmpo", "CMPO", "http://www.ebi.ac.uk/cmpo/cmpo.owl"),
}
for _p in ("GO", "CL", "CLO", "BTO", "UBERON", "PATO", "UO", "MI", "CHMO", "NCIT", "OBI", "OMIT", "CHEBI", "EMAP", "MP"):
    HARVESTED[f"{OBO}{_p}_"] = (_p.lower(), _p, f"{OBO}{_p.lower()}.owl")


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

    @property
    def short_form(self) -> str:
        return re.split(r"[/#]", self.iri)[-1]

    @property
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

    def find(self, ontology: str | None, iri: str | None = None, short_form: str | None = None, obo_id: str | None = None, id: str | None = None) -> list[Term]:
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
        terms = self._by_iri.get(iri, [])
        for t in terms:
            if not self.ontologies[t.ontology].harvested_subset and self.ontologies[t.ontology].prefix.lower() in t.short_form.lower():
                return t
        return terms[0] if terms else None

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
    def search(self, q: str, ontologies: list[str] | None = None, exact: bool = False, obsoletes: bool = False,
               within: set[str] | None = None) -> list[tuple[Term, float, str]]:
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
                offer(term, (70.0 if kind == 0 else 60.0) - min(len(self._texts[i]) - len(nq), 50) / 10, "label prefix" if kind == 0 else "synonym prefix")
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
                offer(term, (50.0 if kind == 0 else 40.0) - min(len(text) - len(nq), 50) / 10, "all words in label" if kind == 0 else "all words in synonym")
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
                id=name, prefix=entry.get("prefix", name.upper()), title=entry.get("label", name), iri=entry.get("iri", ""),
                description=entry.get("description", ""), version=entry.get("version", ""), source=entry.get("source", ""),
                licence=entry.get("licence", ""), harvested_subset=bool(entry.get("harvested_subset", False)),
            )
            namespace = entry.get("namespace")
            _load_graph(store, graph, onto, namespace)
            ontologies[name] = onto
        _load_harvested(store, ontologies)
        return cls(ontologies)


def _load_graph(store, graph: str, onto: Ontology, namespace: str | None) -> None:
    rows = store.query(
        f"""SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o
              FILTER(isIRI(?s) && ?p IN (<{RDFS}label>, <{RDFS}subClassOf>, <{OWL}deprecated>, <{RDFS}comment>, <{SKOS}prefLabel>,
                     <{SKOS}altLabel>, <{SKOS}definition>, <{OBO}IAO_0000115>, <{OIO}hasExactSynonym>, <{OIO}hasRelatedSynonym>,
                     <{OIO}hasNarrowSynonym>, <{OIO}hasBroadSynonym>, <http://rs.tdwg.org/dwc/terms/vernacularName>)) }} }}"""
    )
    terms = onto.terms
    classes = {r["s"].value for r in store.query(
        f"SELECT DISTINCT ?s WHERE {{ GRAPH <{graph}> {{ ?s a ?t FILTER(isIRI(?s) && ?t IN (<{OWL}Class>, <{SCHEMA}Taxon>, <{SKOS}Concept>)) }} }}")}
    for r in rows:
        s, p, o = r["s"].value, r["p"].value, r["o"]
        if namespace and not s.startswith(namespace):
            continue
        if s not in classes and p != RDFS + "subClassOf":
            continue
        t = terms.setdefault(s, Term(s, onto.id))
        if p in LABELS and not t.label:
            t.label = o.value
        elif p == RDFS + "subClassOf":
            if o.__class__.__name__ == "NamedNode" and (not namespace or o.value.startswith(namespace)):
                t.parents.add(o.value)
        elif p in DEFINITION:
            if o.value not in t.description:
                t.description.append(o.value)
        elif p in SYNONYMS:
            if o.value not in t.synonyms:
                t.synonyms.append(o.value)
        elif p == OWL + "deprecated":
            t.obsolete = o.value.lower() == "true"
    for t in list(terms.values()):
        for p in list(t.parents):
            if p not in terms:
                terms[p] = Term(p, onto.id)
            terms[p].children.add(t.iri)
    for t in terms.values():
        if not t.label:
            t.label = t.short_form


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
            if term is not None and r["v"].value not in term.synonyms and normalise(r["v"].value) != normalise(term.label):
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
                        id=oid, prefix=prefix, title=f"{prefix} (terms used in the harvested metadata)", iri=oiri,
                        description=f"The {prefix} terms that the harvested GIDE records use, labelled as the records name them; not the full ontology.",
                        source="harvested records", harvested_subset=True,
                    )
                onto.terms.setdefault(iri, Term(iri, oid, label=r["label"].value))
                break
