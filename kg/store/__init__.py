"""The store interface every stage writes through and `serve` reads from.

Two implementations with the same methods: `OxigraphStore` (embedded pyoxigraph, the default) and
`RemoteStore` (any SPARQL 1.1 Query/Update/Graph Store server, e.g. Virtuoso). `open_store()` picks one
from a folder path or an endpoint URL. Both answer queries with pyoxigraph result objects.
"""

from .oxigraph_store import OxigraphStore, StoreUnavailable, is_remote, open_store

__all__ = ["OxigraphStore", "StoreUnavailable", "is_remote", "open_store"]
