"""GIDE RO-Crate JSON-LD → RDF quads, fast and offline.

Every crate repeats the 2,900-term RO-Crate context. Expanding it per crate dominates parsing time, so
the context is *inlined and pruned* to the terms the crate actually uses before pyoxigraph's JSON-LD
parser sees it. All RO-Crate terms are plain `term → IRI` strings (no coercion, no containers), so
pruning to the used keys, types and CURIE prefixes gives exactly the same triples.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import quote, urljoin

import pyoxigraph as ox

from ..config import MAPPINGS
from ..jsonld_contexts import ContextError, context_terms
from ..namespaces import PREFIXES
from .iri_rules import SOURCE_VALUE
from .order_lists import FIRST, NIL, REST, cell_iris

# Characters an IRI may not hold. pyoxigraph's JSON-LD parser silently drops every triple whose subject
# or object @id contains one (e.g. "obo:FBbi_ 00000246" with a stray space), so they are repaired first.
_NOT_IN_IRI = re.compile(r'[\x00-\x20<>"{}|\\^`\x7f]')


class CrateError(ValueError):
    """A crate that cannot be read; the message is the quarantine reason."""


@dataclass
class ParsedCrate:
    root: str  # the root Dataset IRI (study IRI)
    publisher: str | None
    quads: list[ox.Quad]
    repaired: dict[str, str] = field(default_factory=dict)  # repaired @id → @id as written


def _collect(node, acc: set[str]) -> None:
    """Collect every key, @id and @type string of a JSON-LD tree (the names the context must cover)."""
    if isinstance(node, dict):
        for k, v in node.items():
            acc.add(k)
            if k in ("@id", "@type"):
                for x in v if isinstance(v, list) else [v]:
                    if isinstance(x, str):
                        acc.add(x)
            else:
                _collect(v, acc)
    elif isinstance(node, list):
        for x in node:
            _collect(x, acc)


def _merge_context(ctx) -> tuple[dict, dict]:
    """Split a crate's @context into (remote terms, inline terms), remote ones from bundled copies."""
    items = ctx if isinstance(ctx, list) else [ctx]
    urls = [c for c in items if isinstance(c, str)]
    remote: dict = context_terms(urls[0]) if len(urls) == 1 else {}  # shared, never mutated
    inline: dict = {}
    for c in items:
        if isinstance(c, str):
            if len(urls) > 1:
                remote.update(context_terms(c))
        elif isinstance(c, dict):
            inline.update(c)
        elif c is not None:
            raise CrateError(f"unsupported @context entry of type {type(c).__name__}")
    return remote, inline


def _vocab_coerced(terms: dict) -> bool:
    """Whether a context coerces values to vocabulary terms (then values may name any term)."""
    return any(isinstance(v, dict) and v.get("@type") == "@vocab" for v in terms.values())


@cache
def _remote_vocab_coerced(url: str) -> bool:
    return _vocab_coerced(context_terms(url))


def _pruned_context(remote: dict, inline: dict, used: set[str], remote_urls: list[str]) -> dict:
    """The context terms the crate uses: `used` holds every key, @id and @type string of its @graph."""
    if _vocab_coerced(inline) or any(_remote_vocab_coerced(u) for u in remote_urls):
        return {**remote, **inline}  # vocab-coerced values could name any term: keep all
    _collect(inline, used)
    for v in inline.values():
        for s in v.values() if isinstance(v, dict) else [v]:
            if isinstance(s, str):
                used.add(s)
    pruned = {}
    for s in used:
        if s in remote:
            pruned[s] = remote[s]
        if ":" in s:
            prefix = s.split(":", 1)[0]
            if prefix in remote:
                pruned[prefix] = remote[prefix]
    pruned.update(inline)
    return pruned


def _as_id(value) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("@id")
    return value if isinstance(value, str) else None


def _types(node: dict) -> list:
    t = node.get("@type", [])
    return t if isinstance(t, list) else [t]


def _repair_ids(node, fix: Callable[[str], str | None] | None, repaired: dict[str, str], used: set[str]) -> None:
    """Replace every @id that is not a valid IRI: by `fix(id)` (the IRI rules) when that gives a valid
    IRI, else with the offending characters percent-encoded, so no statement is lost. In the same walk,
    collect into `used` what `_collect` would of the repaired tree (one walk instead of two: a tenth of
    a crate's mapping time)."""
    if isinstance(node, dict):
        for k, v in node.items():
            used.add(k)
            if k == "@id" and isinstance(v, str):
                if _NOT_IN_IRI.search(v):
                    new = (fix(v) if fix else None) or v
                    if _NOT_IN_IRI.search(new):
                        new = _NOT_IN_IRI.sub(lambda m: quote(m.group(), safe=""), new.strip())
                    node[k] = new
                    repaired[new] = v
                    v = new
                used.add(v)
            elif k in ("@id", "@type"):
                for x in v if isinstance(v, list) else [v]:
                    if isinstance(x, str):
                        used.add(x)
            elif k == "@context":
                _collect(v, used)
            else:
                _repair_ids(v, fix, repaired, used)
    elif isinstance(node, list):
        for x in node:
            _repair_ids(x, fix, repaired, used)


def find_root(graph: list) -> tuple[str, str | None]:
    """The root Dataset id (via the metadata descriptor, else the only Dataset) and its publisher id."""
    nodes = {n.get("@id"): n for n in graph if isinstance(n, dict)}
    root = None
    for n in nodes.values():
        nid = n.get("@id")
        if isinstance(nid, str) and nid.endswith("ro-crate-metadata.json") and "about" in n:
            root = _as_id(n["about"])
            break
    if root is None:
        datasets = [n.get("@id") for n in nodes.values() if "Dataset" in _types(n)]
        if len(datasets) != 1:
            raise CrateError(f"no metadata descriptor and {len(datasets)} Dataset entities: cannot tell the root")
        root = datasets[0]
    if not isinstance(root, str) or "://" not in root:
        raise CrateError(f"root Dataset id {root!r} is not an absolute IRI")
    root_node = nodes.get(root)
    if root_node is None:
        raise CrateError(f"the descriptor points to {root!r}, which is not in the @graph")
    if "Dataset" not in _types(root_node):
        raise CrateError(f"root entity {root!r} is not typed Dataset")
    return root, _as_id(root_node.get("publisher"))


@cache
def ordered_properties(path: str = str(MAPPINGS / "rocrate" / "order.toml")) -> dict[str, str]:
    """Root Dataset term → predicate IRI of the rdf:List that keeps its array order (mappings/rocrate/order.toml)."""
    with open(path, "rb") as f:
        spec = tomllib.load(f)
    return {term: PREFIXES[curie.split(":", 1)[0]] + curie.split(":", 1)[1] for term, curie in spec.items()}


def _referable(item) -> bool:
    """Whether a JSON-LD array item can be stated again in a list and mean the same term."""
    return isinstance(item, (str, int, float, bool)) or (isinstance(item, dict) and ("@value" in item or "@id" in item))


def _add_order(graph: list, root: str) -> list[dict]:
    """State each ordered property of the root Dataset once more as an rdf:List (cells with stable IRIs,
    kg/mapping/order_lists.py), so the crate's array order survives parsing. Items are the ones the
    property's own statements come from (@id references, strings, value objects); an array holding an
    embedded node without @id gets no list (that node could not be referenced twice). Returns what it
    added: the new statements of the root and the cells."""
    added: list[dict] = []
    for term, predicate in ordered_properties().items():
        node = next((n for n in graph if isinstance(n, dict) and n.get("@id") == root and term in n), None)
        if node is None:
            continue
        value = node[term]
        items = [x for x in (value if isinstance(value, list) else [value]) if x is not None]
        if not items or not all(_referable(x) for x in items):
            continue
        cells = cell_iris(root, predicate, "rocrate", len(items))
        node[predicate] = {"@id": cells[0]}
        added.append({predicate: node[predicate]})
        for i, (cell, item) in enumerate(zip(cells, items, strict=True)):
            added.append(
                {
                    "@id": cell,
                    FIRST: {"@id": item["@id"]} if isinstance(item, dict) and "@id" in item else item,
                    REST: {"@id": cells[i + 1] if i + 1 < len(cells) else NIL},
                }
            )
            graph.append(added[-1])
    return added


def parse_crate(
    content: bytes, graph_name: ox.NamedNode | None = None, fix_iri: Callable[[str], str | None] | None = None
) -> ParsedCrate:
    """Parse one crate into quads (in `graph_name`), local `#ids` resolved against the study IRI.

    An @id that is not a valid IRI is repaired (`fix_iri`, else percent-encoding) and the repaired IRI
    gains `kg:sourceValue "<@id as written>"`.
    """
    try:
        doc = json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CrateError(f"invalid JSON: {e}") from e
    if not isinstance(doc, dict) or not isinstance(doc.get("@graph"), list):
        raise CrateError("not an RO-Crate: no top-level @graph array")
    if "@context" not in doc:
        raise CrateError("not an RO-Crate: no @context")
    repaired: dict[str, str] = {}
    used: set[str] = set()  # every key, @id and @type string of the @graph, for the pruned context
    _repair_ids(doc["@graph"], fix_iri, repaired, used)
    root, publisher = find_root(doc["@graph"])
    _collect(_add_order(doc["@graph"], root), used)
    try:
        ctx_list = doc["@context"] if isinstance(doc["@context"], list) else [doc["@context"]]
        remote, inline = _merge_context(doc["@context"])
    except ContextError as e:
        raise CrateError(str(e)) from e
    nested = any(isinstance(n, dict) and "@context" in n for n in doc["@graph"])
    doc["@context"] = (
        {**remote, **inline}
        if nested
        else _pruned_context(remote, inline, used, [c for c in ctx_list if isinstance(c, str)])
    )
    if graph_name is not None:
        doc["@id"] = graph_name.value  # a top-level @id + @graph is a named graph: quads arrive in it
    try:
        quads = list(ox.parse(json.dumps(doc), format=ox.RdfFormat.JSON_LD, base_iri=root))
    except (SyntaxError, ValueError) as e:
        raise CrateError(f"JSON-LD error: {e}") from e
    if not quads:
        raise CrateError("crate produced no triples")
    if repaired:
        used = {t.value for q in quads for t in (q.subject, q.object) if isinstance(t, ox.NamedNode)}
        g = graph_name or ox.DefaultGraph()
        for new, orig in repaired.items():
            iri = urljoin(root, new)
            if iri in used:
                quads.append(ox.Quad(ox.NamedNode(iri), SOURCE_VALUE, ox.Literal(orig), g))
    return ParsedCrate(root=root, publisher=publisher, quads=quads, repaired=repaired)
