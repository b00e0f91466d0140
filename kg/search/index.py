"""The study index behind /search and the GIDE-compatible API.

~1,200 studies fit in memory many times over, so the index is a list of small documents plus inverted
token postings: a query, its facet counts (over every facet) and a page of results cost a few
milliseconds, where GROUP BY facet aggregates in pyoxigraph cost far more per request. Organism and
imaging-method filters are hierarchy-aware: a filter term matches studies annotated with it or with
any of its descendants (TermIndex.expand).
"""

from __future__ import annotations

import heapq
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field

from ..namespaces import GRAPH, KG, OBO, ONTOLOGY_GRAPH, SCHEMA
from ..study_nodes import GraphNodes
from ..terms import TermIndex
from ..terms.index import normalise
from .entries import EntryBuilder, index_fields
from .facets import facets as declared_facets
from .facets import licence_labels

BAO_CELL_LINE = "http://www.bioassayontology.org/bao#BAO_0002004"

# facet name -> (label, hierarchical?), from data/facets.toml
FACETS = {f.name: (f.label, f.hierarchical) for f in declared_facets().values()}
LICENCE_LABELS = licence_labels()
FIELD_WEIGHTS = {
    "identifier": 10.0,
    "name": 3.0,
    "keywords": 2.0,
    "description": 1.0,
    "authors": 1.5,
    "terms": 2.0,
    "samples": 0.7,
}


@dataclass
class StudyDoc:
    iri: str
    identifier: str = ""
    name: str = ""
    description: str = ""
    date: str = ""
    license: str = ""
    publisher: str = ""
    publisher_name: str = ""
    graph: str = ""
    keywords: list[str] = field(default_factory=list)
    authors: list[tuple[str, str]] = field(default_factory=list)  # (iri, name)
    thumbnails: list[str] = field(default_factory=list)
    citations: list[str] = field(default_factory=list)
    size_bytes: int = 0
    samples: list[str] = field(default_factory=list)
    facets: dict[str, set[str]] = field(default_factory=dict)
    entry: dict = field(default_factory=dict)  # the study as a gide-search Dataset document
    tf: dict[str, dict[str, int]] = field(default_factory=dict)  # field -> token counts

    @property
    def year(self) -> str:
        return self.date[:4] if re.match(r"\d{4}", self.date or "") else ""

    # The GIDE entry is over half of a persisted index and /search never reads it: it is pickled as JSON
    # text (one string, not thousands of small objects) and decoded on first use, so a restart loads the
    # index in about half the time (kg/indexes.py, benchmarks/bench_restart.py).
    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        if "entry" in state:
            state["_entry_json"] = json.dumps(state.pop("entry"), ensure_ascii=False, separators=(",", ":"))
        return state

    def __getattr__(self, name: str):
        state = self.__dict__
        if name == "entry":
            packed = state.get("_entry_json")
            if packed is not None:  # thread-safe: the entry is set before the text is dropped
                state.setdefault("entry", json.loads(packed))
                state.pop("_entry_json", None)
            if "entry" in state:
                return state["entry"]
        raise AttributeError(name)


@dataclass
class SearchQuery:
    q: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    year_from: int | None = None
    year_to: int | None = None
    require_thumbnail: bool = False
    expand: bool = True
    facet_counts: str = "others"  # others: each facet over the other filters (choices stay visible); all: over every filter (gide-search)
    facet_values: str = (
        "graph"  # graph: every value any source states; entry: what the study's Dataset entry shows (gide-search)
    )
    sort: str = "relevance"  # relevance | date | -date | size | -size | title
    offset: int = 0
    size: int = 20


@dataclass
class SearchResult:
    total: int
    hits: list[tuple[StudyDoc, float]]
    facets: dict[str, list[dict]]
    expanded: dict[str, list[str]]
    matched: list[int] = field(default_factory=list)  # every matching document, in result order


def entry_values(entry: dict) -> dict[str, list[str]]:
    """The values gide-search filters and counts a document by, read from its `Dataset` entry as its index
    does: the taxa and FBbi terms listed directly in `about` / `measurementMethod` (its taxon_ids /
    imaging_method_ids), the one licence, the year of the one `datePublished`. A filter on them matches
    exactly the studies whose card shows the value."""
    if not entry:
        return {}
    extra = index_fields(entry)
    date = entry.get("datePublished") or ""
    return {
        "organism": [t["id"] for t in extra["taxon_ids"]],
        "imaging_method": [m["id"] for m in extra["imaging_method_ids"]],
        "license": [entry["license"]] if entry.get("license") else [],
        "year": [date[:4]] if re.match(r"\d{4}", date) else [],
    }


def _tokens(text: str) -> list[str]:
    return normalise(text).split()


SIMILAR_KEYS = ("organism", "imaging_method", "biological_process", "cell_line", "anatomy")  # all facets (bitmaps)
PRESORTED = ("date", "-date", "size", "-size", "title")  # orders that do not depend on the query text


class StudyIndex:
    def __init__(self, docs: list[StudyDoc], terms: TermIndex, labels: dict[str, str]):
        self.docs = docs
        self.terms = terms
        self.labels = labels
        self.by_iri = {d.iri: d for d in docs}
        self.df: Counter = Counter()
        self.postings: dict[str, set[int]] = {}
        for i, d in enumerate(docs):
            seen = set()
            for counts in d.tf.values():
                for tok in counts:
                    self.postings.setdefault(tok, set()).add(i)
                    seen.add(tok)
            self.df.update(seen)
        self.vocab = sorted(self.postings)
        # Facet bitmaps (a Python int per facet value, bit i = document i): filters are ORs and ANDs of
        # bitmaps and a facet count is one popcount, so a faceted search costs O(facet values), not
        # O(documents x facets) — the facet index that SPARQL GROUP BY per request cannot match at scale.
        self.bits: dict[str, dict[str, int]] = {f: {} for f in FACETS}
        self.entry_bits: dict[str, dict[str, int]] = {}  # the same for entry_values (gide-search's view)
        self.thumb_bits = 0
        for i, d in enumerate(docs):
            for f in FACETS:
                for v in d.facets.get(f, ()):
                    self.bits[f][v] = self.bits[f].get(v, 0) | (1 << i)
            for f, vals in entry_values(d.entry).items():
                into = self.entry_bits.setdefault(f, {})
                for v in vals:
                    into[v] = into.get(v, 0) | (1 << i)
            if d.thumbnails:
                self.thumb_bits |= 1 << i
        self.all_bits = (1 << len(docs)) - 1

    # -- building -----------------------------------------------------------------------------------
    @classmethod
    def from_store(cls, store, terms: TermIndex | None = None) -> StudyIndex:
        terms = terms or TermIndex.from_store(store)
        graphs = [
            g.value
            for g in store.public_graphs()
            if g.value.startswith(GRAPH) and not g.value.startswith(ONTOLOGY_GRAPH)
        ]
        docs: dict[str, StudyDoc] = {}
        study_graphs: list[str] = []  # graphs holding studies, in name order (crates before native records)

        def rows(q: str):
            # Every pattern below starts at a schema:Dataset, and only source graphs state those (ontology
            # graphs describe terms), so the store's default union of public graphs gives the same rows as
            # the list above - and the embedded store answers its union 1.5-4x faster than a list of graphs
            # (an index build of the bundled data: 9.8 s -> 6.1 s). Term labels do differ between the two
            # (ontology graphs have labels of their own): that query names its graphs.
            return store.query(q)

        for r in rows(
            f"""SELECT ?s ?g WHERE {{ GRAPH ?g {{ ?s a <{SCHEMA}Dataset> ; <{SCHEMA}publisher> ?p }} }} ORDER BY ?g"""
        ):
            d = docs.setdefault(r["s"].value, StudyDoc(r["s"].value))
            d.graph = d.graph or r["g"].value
            study_graphs.append(r["g"].value)
        S = SCHEMA
        single = {
            "identifier": S + "identifier",
            "name": S + "name",
            "description": S + "description",
            "date": S + "datePublished",
            "license": S + "license",
            "publisher": S + "publisher",
        }
        for attr, pred in single.items():
            for r in rows(
                f"SELECT ?s ?o WHERE {{ ?s a <{S}Dataset> ; <{pred}> ?o }} ORDER BY ?s DESC(STRLEN(STR(?o))) ?o"
            ):
                d = docs.get(r["s"].value)
                if d is not None and not getattr(d, attr):
                    setattr(d, attr, r["o"].value)
        names = {
            r["p"].value: r["n"].value
            for r in rows(f"SELECT DISTINCT ?p ?n WHERE {{ ?s a <{S}Dataset> ; <{S}publisher> ?p . ?p <{S}name> ?n }}")
        }
        for d in docs.values():
            d.publisher_name = names.get(d.publisher, "")
        multi = {"keywords": S + "keywords", "thumbnails": S + "thumbnailUrl", "citations": S + "citation"}
        for attr, pred in multi.items():
            for r in rows(f"SELECT DISTINCT ?s ?o WHERE {{ ?s a <{S}Dataset> ; <{pred}> ?o }}"):
                d = docs.get(r["s"].value)
                if d is not None and r["o"].value not in getattr(d, attr):
                    getattr(d, attr).append(r["o"].value)
        for r in rows(
            f"SELECT DISTINCT ?s ?a ?n WHERE {{ ?s a <{S}Dataset> ; <{S}author> ?a . OPTIONAL {{ ?a <{S}name> ?n }} }}"
        ):
            d = docs.get(r["s"].value)
            if d is not None:
                d.authors.append((r["a"].value, r["n"].value if r["n"] else ""))
        for r in rows(f"""SELECT ?s (MAX(?v) AS ?bytes) WHERE {{ ?s a <{S}Dataset> ; <{S}size> ?q . ?q <{S}value> ?v ;
                          <{S}unitCode> <{OBO}UO_0000233> }} GROUP BY ?s"""):
            d = docs.get(r["s"].value)
            if d is not None:
                try:
                    d.size_bytes = int(float(r["bytes"].value))
                except ValueError:
                    pass
        for r in rows(f"""SELECT DISTINCT ?s ?t WHERE {{ ?s a <{S}Dataset> ; <{S}about> ?b . ?b a <{S}BioSample> .
                          {{ ?b <{S}name> ?t }} UNION {{ ?b <{S}description> ?t }} }}"""):
            d = docs.get(r["s"].value)
            if d is not None:
                d.samples.append(r["t"].value)
        facet_queries = {
            "organism": f"SELECT DISTINCT ?s ?o WHERE {{ ?s a <{S}Dataset> ; <{KG}organism> ?o FILTER(isIRI(?o)) }}",
            "imaging_method": f"SELECT DISTINCT ?s ?o WHERE {{ ?s a <{S}Dataset> ; <{KG}imagingMethod> ?o FILTER(isIRI(?o)) }}",
            "cell_line": f"""SELECT DISTINCT ?s ?o WHERE {{ ?s a <{S}Dataset> . {{ ?s <{S}about> ?o }} UNION {{ ?s <{BAO_CELL_LINE}> ?o }}
                             UNION {{ ?s <{S}about>/<{BAO_CELL_LINE}> ?o }}
                             FILTER(isIRI(?o) && (STRSTARTS(STR(?o), "{OBO}CLO_") || STRSTARTS(STR(?o), "{OBO}CL_") || STRSTARTS(STR(?o), "{OBO}BTO_"))) }}""",
            "anatomy": f'SELECT DISTINCT ?s ?o WHERE {{ ?s a <{S}Dataset> ; <{S}about> ?o FILTER(STRSTARTS(STR(?o), "{OBO}UBERON_")) }}',
            "biological_process": f'SELECT DISTINCT ?s ?o WHERE {{ ?s a <{S}Dataset> ; <{S}about> ?o FILTER(STRSTARTS(STR(?o), "{OBO}GO_")) }}',
            "study_type": f"SELECT DISTINCT ?s ?o WHERE {{ ?s a <{S}Dataset> ; <{KG}studyType> ?o FILTER(isIRI(?o)) }}",
            "license": f"SELECT DISTINCT ?s ?o WHERE {{ ?s a <{S}Dataset> ; <{S}license> ?o }}",
            "year": f"SELECT DISTINCT ?s (SUBSTR(STR(?d), 1, 4) AS ?o) WHERE {{ ?s a <{S}Dataset> ; <{S}datePublished> ?d FILTER(REGEX(STR(?d), '^[0-9]{{4}}')) }}",
            "ome_zarr": f"""SELECT DISTINCT ?s ("yes" AS ?o) WHERE {{ ?s a <{S}Dataset> ; <{S}hasPart>/<{S}distribution>/<{S}encodingFormat> "OME-Zarr" }}""",
        }
        for name, q in facet_queries.items():
            for r in rows(q):
                d = docs.get(r["s"].value)
                if d is not None:
                    d.facets.setdefault(name, set()).add(r["o"].value)
        labels: dict[str, str] = {}
        wanted_terms = {
            t
            for d in docs.values()
            for f in ("organism", "imaging_method", "cell_line", "anatomy", "biological_process", "study_type")
            for t in d.facets.get(f, ())
        }
        for r in store.query(
            f"""SELECT ?t (SAMPLE(?l) AS ?label) WHERE {{ VALUES ?p {{ <{S}name> <http://rs.tdwg.org/dwc/terms/scientificName>
                          <http://www.w3.org/2000/01/rdf-schema#label> }} ?t ?p ?l }} GROUP BY ?t""",
            default_graph=graphs,
            named_graphs=graphs,
        ):
            if r["t"].value in wanted_terms:
                labels[r["t"].value] = r["label"].value
        for d in docs.values():
            d.facets["repository"] = {d.publisher} if d.publisher else set()
            d.facets.setdefault("license", set())  # every licence / year any source states (sources may disagree)
            d.facets.setdefault("year", set())
            term_text = " ".join(
                labels.get(t, terms.get(t).label if terms.get(t) else "")
                for f in ("organism", "imaging_method", "cell_line", "anatomy", "biological_process", "study_type")
                for t in d.facets.get(f, ())
            )
            for fname, text in (
                ("identifier", d.identifier),
                ("name", d.name),
                ("description", d.description),
                ("keywords", " ".join(d.keywords)),
                ("authors", " ".join(n for _, n in d.authors)),
                ("terms", term_text),
                ("samples", " ".join(d.samples)),
            ):
                d.tf[fname] = dict(Counter(_tokens(text)))  # a dict unpickles faster

        def label(iri: str) -> str:
            t = terms.get(iri)
            good = t.label if t and t.label and not t.label.startswith(("NCBITaxon_", "FBbi_")) else ""
            return good or labels.get(iri, "")

        builder = EntryBuilder(GraphNodes.of(store, sorted(set(study_graphs))), label)
        for d in docs.values():
            d.entry = builder.dataset(d.iri)
        return cls(sorted(docs.values(), key=lambda d: d.iri), terms, labels)

    # -- labels -------------------------------------------------------------------------------------
    def label(self, facet: str, key: str) -> str:
        """A facet value's display label (memoised: the index is rebuilt, never changed, after a harvest)."""
        cache = self.__dict__.setdefault("_labels", {})
        if (facet, key) not in cache:
            cache[(facet, key)] = self._label(facet, key)
        return cache[(facet, key)]

    def _label(self, facet: str, key: str) -> str:
        if facet == "license":
            return LICENCE_LABELS.get(key, key)
        if facet == "repository":
            return next((d.publisher_name for d in self.docs if d.publisher == key and d.publisher_name), key)
        if facet in ("year", "ome_zarr"):
            return key
        t = self.terms.get(key)
        return (
            t.label if t and t.label and not t.label.startswith(("NCBITaxon_", "FBbi_")) else None
        ) or self.labels.get(key, key)

    # -- searching ----------------------------------------------------------------------------------
    def _text_scores(self, q: str) -> dict[int, float] | None:
        toks = _tokens(q)
        if not toks:
            return None
        n = len(self.docs)
        scores: dict[int, float] = {}
        for i, tok in enumerate(toks):
            last = i == len(toks) - 1
            matched = [tok] if tok in self.postings else []
            if last:  # the last word may be a prefix (search as you type)
                from bisect import bisect_left

                j = bisect_left(self.vocab, tok)
                while j < len(self.vocab) and self.vocab[j].startswith(tok):
                    if self.vocab[j] != tok:
                        matched.append(self.vocab[j])
                    j += 1
            hits: dict[int, float] = {}
            for word in matched:
                idf = math.log(1 + n / (1 + self.df[word]))
                for doc_i in self.postings[word]:
                    d = self.docs[doc_i]
                    s = sum(
                        w * d.tf[f].get(word, 0) / (d.tf[f].get(word, 0) + 1.2)
                        for f, w in FIELD_WEIGHTS.items()
                        if f in d.tf
                    )
                    hits[doc_i] = max(hits.get(doc_i, 0.0), s * idf * (1.0 if word == tok else 0.7))
            if i == 0:
                scores = hits
            else:
                scores = {k: v + hits[k] for k, v in scores.items() if k in hits}
            if not scores:
                return {}
        ident = normalise(q)
        for k in scores:
            if normalise(self.docs[k].identifier) == ident:
                scores[k] += 100.0
        return scores

    def _order(self, sort: str) -> list[int]:
        """All documents in one sort order, computed on first use (the index never changes)."""
        orders = self.__dict__.setdefault("_orders", {})
        if sort not in orders:
            docs, ids = self.docs, list(range(len(self.docs)))
            if sort in ("date", "-date"):
                ids.sort(key=lambda i: (docs[i].date or "", docs[i].iri), reverse=sort == "-date")
                if sort == "-date":
                    ids.sort(key=lambda i: not docs[i].date)  # undated last, stable
            elif sort in ("size", "-size"):
                ids.sort(key=lambda i: (docs[i].size_bytes, docs[i].iri), reverse=sort == "-size")
            elif sort == "title":
                ids.sort(key=lambda i: (normalise(docs[i].name), docs[i].iri))
            else:  # newest: relevance without a text query
                ids.sort(key=lambda i: (docs[i].date or "", docs[i].iri), reverse=True)
            orders[sort] = ids
        return orders[sort]

    def _bits(self, facet: str, sq: SearchQuery) -> dict[str, int]:
        if sq.facet_values == "entry" and facet in self.entry_bits:
            return self.entry_bits[facet]
        return self.bits[facet]

    def _years(self, keep, sq: SearchQuery) -> int:
        out = 0
        for y, b in self._bits("year", sq).items():
            if y.isdigit() and keep(int(y)):
                out |= b
        return out

    def search(self, sq: SearchQuery) -> SearchResult:
        scores = self._text_scores(sq.q)
        expanded: dict[str, list[str]] = {}
        wanted: dict[str, set[str]] = {}
        for facet, values in sq.filters.items():
            vals = set(values)
            if FACETS.get(facet, ("", False))[1] and sq.expand:
                for v in values:
                    vals.update(self.terms.expand(v))
                expanded[facet] = sorted(vals)
            wanted[facet] = vals
        base = self.all_bits
        if scores is not None:
            base = 0
            for i in scores:
                base |= 1 << i
        if sq.require_thumbnail:
            base &= self.thumb_bits
        if sq.year_from:
            base &= self._years(lambda y: y >= sq.year_from, sq)
        if sq.year_to:
            base &= self._years(lambda y: y <= sq.year_to, sq)
        wanted_bits = {}
        for facet, vals in wanted.items():
            values = self._bits(facet, sq) if facet in self.bits else {}
            b = 0
            for v in vals:
                b |= values.get(v, 0)
            wanted_bits[facet] = b
        matched_bits = base
        for b in wanted_bits.values():
            matched_bits &= b
        facets = {}
        for facet in FACETS:
            # each facet counts over the results of every *other* filter, so choices stay visible;
            # gide-search's aggregations count over the whole result (facet_counts="all")
            pool = base
            for f, b in wanted_bits.items():
                if f != facet or sq.facet_counts == "all":
                    pool &= b
            counts = {k: n for k, b in self._bits(facet, sq).items() if (n := (b & pool).bit_count())}
            facets[facet] = [
                {"key": k, "count": c, "label": self.label(facet, k)}
                for k, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            ]
            if facet == "year":
                facets[facet].sort(key=lambda x: x["key"], reverse=True)
        bits = bin(matched_bits)[:1:-1]  # bit i is character i
        if sq.sort in PRESORTED or scores is None:
            # walk a sort order computed once per index instead of sorting the matches per request
            order = self._order(sq.sort if sq.sort in PRESORTED else "newest")
            matched = [i for i in order if i < len(bits) and bits[i] == "1"]
        else:
            matched = [i for i, c in enumerate(bits) if c == "1"]
            matched.sort(key=lambda i: (-scores[i], self.docs[i].iri))
        page = matched[sq.offset : sq.offset + sq.size]
        return SearchResult(
            len(matched), [(self.docs[i], (scores or {}).get(i, 1.0)) for i in page], facets, expanded, matched
        )

    def similar(self, iri: str, limit: int = 5) -> list[tuple[StudyDoc, float, list[str]]]:
        """Studies sharing organisms, imaging methods and GO / cell-line / anatomy terms, ranked by overlap
        (Jaccard over those terms; studies of the same publication ranked up). Only studies sharing a
        term are scored (counted from each term's postings), and only the returned ones are labelled."""
        features, citations, postings, position = self._similarity()
        at = position.get(iri)
        if at is None or not features[at]:
            return []
        mine, cites = features[at], citations[at]
        shared_counts: Counter = Counter()
        for x in mine:
            shared_counts.update(postings[x])
        n = len(mine)
        scored = (
            (j, shared / (n + len(features[j]) - shared) + (0.5 if cites & citations[j] else 0.0))
            for j, shared in shared_counts.items()
            if j != at and self.docs[j].iri != iri
        )
        best = heapq.nsmallest(limit, scored, key=lambda x: (-x[1], self.docs[x[0]].iri))
        return [(self.docs[j], score, sorted(self.label(k, v) for k, v in mine & features[j])) for j, score in best]

    def similar_all(self, limit: int = 5) -> dict[str, list[tuple[str, float, list[str]]]]:
        """`similar` of every study, by IRI ((IRI, score, shared labels) each): computed with the index
        and kept with the study summaries, so a study page's first visit does not rank."""
        kept = "_similar_memo" in self.__dict__
        out = {d.iri: [(o.iri, score, shared) for o, score, shared in self.similar(d.iri, limit)] for d in self.docs}
        if not kept:  # not persisted with the index: rebuilt in a few ms if a page ever ranks itself
            del self.__dict__["_similar_memo"]
        return out

    def _similarity(self) -> tuple[list[frozenset], list[frozenset], dict[tuple, list[int]], dict[str, int]]:
        """Each study's (facet, term) features and citations, each feature's studies, each IRI's position;
        memoised like the labels (the index never changes)."""
        memo = self.__dict__.get("_similar_memo")
        if memo is None:
            features = [frozenset((k, v) for k in SIMILAR_KEYS for v in d.facets.get(k, ())) for d in self.docs]
            postings: dict[tuple, list[int]] = {}
            for j, f in enumerate(features):
                for x in f:
                    postings.setdefault(x, []).append(j)
            citations = [frozenset(d.citations) for d in self.docs]
            memo = self._similar_memo = (features, citations, postings, {d.iri: i for i, d in enumerate(self.docs)})
        return memo

    def tree(self, facet: str, doc_ids: list[int] | None = None) -> list[dict]:
        """Counts rolled up along the ontology hierarchy: each node counts the studies (of `doc_ids`)
        annotated with it or any descendant. Returns the roots of the smallest forest holding every
        used term, each node with `children`, so the hierarchy can be browsed with counts.
        """
        node_terms: set[str] = set()
        studies_under: dict[str, set[int]] = {}
        direct: Counter = Counter()
        lineage = self.__dict__.setdefault("_lineage", {})  # term -> it and its ancestors (memoised, like labels)
        for i in doc_ids if doc_ids is not None else range(len(self.docs)):
            d = self.docs[i]
            for k in d.facets.get(facet, ()):
                direct[k] += 1
                up = lineage.get(k)
                if up is None:
                    t = self.terms.get(k)
                    up = lineage[k] = [t.iri, *(a.iri for a in self.terms.ancestors(t))] if t else []
                for a in up:
                    studies_under.setdefault(a, set()).add(i)
                    node_terms.add(a)
        children: dict[str, list[str]] = {}
        roots = []
        for iri in node_terms:
            t = self.terms.get(iri)
            ps = [p for p in t.parents if p in node_terms]
            if not ps:
                roots.append(iri)
            for p in ps:
                children.setdefault(p, []).append(iri)
        total_counts = {iri: len(s) for iri, s in studies_under.items()}

        def build(iri: str, depth: int = 0) -> dict:
            # a chain of single children with the same count says nothing: show its deepest node
            while (
                len(children.get(iri, [])) == 1
                and not direct.get(iri)
                and total_counts[children[iri][0]] == total_counts[iri]
            ):
                iri = children[iri][0]
            kids = sorted(children.get(iri, []), key=lambda c: (-total_counts[c], c))
            return {
                "key": iri,
                "label": self.label(facet, iri),
                "count": total_counts[iri],
                "direct": direct.get(iri, 0),
                "children": [build(c, depth + 1) for c in kids] if depth < 30 else [],
            }

        return [build(r) for r in sorted(roots, key=lambda r: (-total_counts[r], r))]
