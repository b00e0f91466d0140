"""The store interface, written down: what every stage may call on a store, and `open_store` to get one.

Two implementations: `OxigraphStore` (embedded pyoxigraph, in memory or in a folder; the default) and
`RemoteStore` (any SPARQL 1.1 Query / Update / Graph Store server, e.g. Virtuoso). Harvest, links,
closure, grounding, validation, dumps and serve take a `Store` and work with either; a stage that needs
more than this protocol asks a capability property (`local_path`), never the concrete class.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol, runtime_checkable

import pyoxigraph as ox


class StoreUnavailable(RuntimeError):
    """The store cannot be opened or written (locked by another process, corrupt, unreachable, no permission)."""


@runtime_checkable
class SourceWriter(Protocol):
    """A source's new graph, written in chunks and swapped in at `commit` (atomically for readers)."""

    def add(self, quads: Iterable[ox.Quad]) -> None:
        """Add quads (their triples go to the new graph)."""

    def add_graphs(self, source: ox.Store, graphs: list[ox.NamedNode]) -> None:
        """Add the triples of `graphs` of a staging store (the mapping engine's)."""

    def add_ntriples(self, data: bytes) -> None:
        """Add triples given as N-Triples bytes (what the mapping worker processes write)."""

    def commit(self, provenance: Iterable[ox.Quad]) -> dict[str, int]:
        """Swap the new graph and the source's provenance in; returns {"added", "removed", "triples"}.
        On an error the new graph is dropped and the served one stays."""

    def abort(self) -> None:
        """Drop the new graph unless committed (a no-op after commit)."""


@runtime_checkable
class Store(Protocol):
    """What OxigraphStore and RemoteStore both implement. Queries answer with pyoxigraph result objects
    (QuerySolutions, QueryBoolean, triples), so callers cannot tell the stores apart."""

    @property
    def local_path(self) -> Path | None:
        """The folder of an embedded on-disk store, which other processes may open read-only (the app's
        query workers, stopped at a time limit); None for a store in memory or on a server."""

    def query(
        self,
        sparql: str,
        default_graph: list[str] | None = None,
        named_graphs: list[str] | None = None,
        timeout: float | None = None,
    ):
        """Run a SPARQL query; the default graph is the union of the public graphs unless given. Raises
        SyntaxError for a malformed query, TimeoutError when a store that can stop queries stops it."""

    def public_graphs(self) -> list[ox.NamedNode]:
        """The named graphs readers see, sorted (staging graphs and server system graphs excluded)."""

    def graph_sizes(self) -> dict[str, int]:
        """Triples per public graph."""

    def has_graph(self, graph: str) -> bool:
        """Whether the named graph exists (holds at least one triple)."""

    def count(self, graph: str, minus: str | None = None) -> int:
        """Triples in `graph` (that are not in `minus`)."""

    def record_hashes(self, source_key: str) -> dict[str, str]:
        """File name -> SHA-256 of the records the source's served graph was built from (provenance)."""

    def staging_graphs(self) -> list[str]:
        """Staging graphs present now (none once every harvest has committed or aborted)."""

    def quads(self, graph: str | None = None) -> Iterable[ox.Quad]:
        """Every quad of `graph` (of all graphs when None)."""

    def quads_for_pattern(
        self, subject=None, predicate=None, object=None, graph: str | None = None
    ) -> Iterable[ox.Quad]:
        """Quads matching a pattern; None is a wildcard."""

    def dump_graph(self, graph: str, format: ox.RdfFormat) -> bytes:
        """One graph serialised (N-Triples, Turtle…)."""

    def source_writer(self, graph: str, source_key: str) -> SourceWriter:
        """A writer for a source's new graph, replacing `graph` and the source's provenance at commit."""

    def replace_graph(self, graph: str, quads: Iterable[ox.Quad]) -> None:
        """Atomically make `quads` the content of `graph` (ontologies, closure, links, grounding)."""

    def append(self, quads: Iterable[ox.Quad]) -> None:
        """Add quads to their graphs (provenance of runs, validation reports)."""

    def remove(self, quads: Iterable[ox.Quad]) -> None:
        """Remove quads."""

    def flush(self) -> None:
        """Persist pending writes (a no-op where every write is already durable)."""


def is_remote(location: str | Path | None) -> bool:
    """Whether a --store value names a SPARQL server (an http(s) URL) rather than a folder."""
    return isinstance(location, str) and location.startswith(("http://", "https://"))


def open_store(location: str | Path | None, read_only: bool = False, env: dict | None = None) -> Store:
    """The embedded store for a folder (None: in memory), the remote store for a SPARQL endpoint URL
    (update / Graph Store URLs and credentials from `env`, KG_STORE_* as in the README)."""
    if is_remote(location):
        from .remote_store import open_remote

        return open_remote(location, dict(os.environ) if env is None else env)
    from .oxigraph_store import OxigraphStore

    return OxigraphStore(location, read_only=read_only)
