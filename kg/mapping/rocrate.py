"""GIDE RO-Crate JSON-LD → RDF quads, fast and offline.

Every crate repeats the 2,900-term RO-Crate context. Expanding it per crate dominates parsing time, so
the context is *inlined and pruned* to the terms the crate actually uses before pyoxigraph's JSON-LD
parser sees it. All RO-Crate terms are plain `term → IRI` strings (no coercion, no containers), so
pruning to the used keys, types and CURIE prefixes gives exactly the same triples.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pyoxigraph as ox

from .contexts import ContextError, context_terms


class CrateError(ValueError):
    """A crate that cannot be read; the message is the quarantine reason."""


@dataclass
class ParsedCrate:
    root: str  # the root Dataset IRI (study IRI)
    publisher: str | None
    quads: list[ox.Quad]


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
    remote: dict = {}
    inline: dict = {}
    for c in ctx if isinstance(ctx, list) else [ctx]:
        if isinstance(c, str):
            remote.update(context_terms(c))
        elif isinstance(c, dict):
            inline.update(c)
        elif c is not None:
            raise CrateError(f"unsupported @context entry of type {type(c).__name__}")
    return remote, inline


def _pruned_context(remote: dict, inline: dict, graph) -> dict:
    if any(isinstance(v, dict) and v.get("@type") == "@vocab" for v in {**remote, **inline}.values()):
        return {**remote, **inline}  # vocab-coerced values could name any term: keep all
    used: set[str] = set()
    _collect(graph, used)
    _collect(inline, used)
    for v in inline.values():
        for s in (v.values() if isinstance(v, dict) else [v]):
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


def parse_crate(content: bytes, graph_name: ox.NamedNode | None = None) -> ParsedCrate:
    """Parse one crate into quads (in `graph_name`), local `#ids` resolved against the study IRI."""
    try:
        doc = json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CrateError(f"invalid JSON: {e}") from e
    if not isinstance(doc, dict) or not isinstance(doc.get("@graph"), list):
        raise CrateError("not an RO-Crate: no top-level @graph array")
    if "@context" not in doc:
        raise CrateError("not an RO-Crate: no @context")
    root, publisher = find_root(doc["@graph"])
    try:
        remote, inline = _merge_context(doc["@context"])
    except ContextError as e:
        raise CrateError(str(e)) from e
    nested = any(isinstance(n, dict) and "@context" in n for n in doc["@graph"])
    doc["@context"] = {**remote, **inline} if nested else _pruned_context(remote, inline, doc["@graph"])
    if graph_name is not None:
        doc["@id"] = graph_name.value  # a top-level @id + @graph is a named graph: quads arrive in it
    try:
        quads = list(ox.parse(json.dumps(doc), format=ox.RdfFormat.JSON_LD, base_iri=root))
    except (SyntaxError, ValueError) as e:
        raise CrateError(f"JSON-LD error: {e}") from e
    if not quads:
        raise CrateError("crate produced no triples")
    return ParsedCrate(root=root, publisher=publisher, quads=quads)
