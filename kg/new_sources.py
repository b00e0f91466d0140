"""Sources derived from a crate's publisher: an open door for repositories not in sources.toml.

A crate that follows the GIDE profile but is published by a repository no source is configured for is
not quarantined: it goes to a source named after its publisher (`slug`), in the graph
`https://w3id.org/gide-kg/graph/<slug>`, like a configured source's. The first run of such a source
states `kg:newSourcePublisher` in the provenance graph; `derived_sources` reads the sources back from
there, so later harvests, the server and the dumps know them without any configuration.
"""

from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import urlsplit

from .config import Source
from .namespaces import KG, PROVENANCE_GRAPH, source_graph

NEW_SOURCE_KEY = "newSourcePublisher"  # the run statement (kg:newSourcePublisher) that marks a derived source
RESERVED = {"links", "grounding", "validation", "provenance", "closure", "ontology", "unassigned"}  # graph names in use


def slug(publisher: str) -> str | None:
    """The source name for a publisher IRI: host and path, lower case, runs of other characters as one
    "-" (`https://example-database.org` → `example-database-org`; `https://a.org/db/x/` → `a-org-db-x`).
    None for a publisher that is not an http(s) IRI with a host (nothing stable to name a source after)."""
    parts = urlsplit(publisher.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    name = re.sub(r"[^a-z0-9]+", "-", f"{parts.hostname}{parts.path}".lower()).strip("-")
    return name or None


def derive_source(publisher: str, taken: set[str]) -> Source | None:
    """A source for an unconfigured publisher; its name avoids the `taken` names (configured sources,
    graph names) with a numeric suffix."""
    base = slug(publisher)
    if base is None:
        return None
    name, n = base, 2
    while name in taken or name in RESERVED:
        name, n = f"{base}-{n}", n + 1
    host = urlsplit(publisher).hostname or name
    return Source(name=name, label=host, short=host, kind="rocrate", publisher=publisher, root=".*", landing=publisher)


def derived_sources(store) -> dict[str, Source]:
    """The sources derived in earlier harvests whose graph is still served, by name."""
    rows = store.query(
        f"""SELECT DISTINCT ?src ?pub WHERE {{ GRAPH <{PROVENANCE_GRAPH}> {{ ?r <{KG}{NEW_SOURCE_KEY}> ?pub ;
              <{KG}harvestSource> ?src ; <{KG}status> "succeeded" }} }} ORDER BY ?src""",
        default_graph=[PROVENANCE_GRAPH],
        named_graphs=[PROVENANCE_GRAPH],
    )
    out = {}
    for r in rows:
        name, pub = r["src"].value, r["pub"].value
        if name not in out and store.has_graph(source_graph(name)):
            src = derive_source(pub, set())
            if src is not None:
                out[name] = replace(src, name=name)
    return out
