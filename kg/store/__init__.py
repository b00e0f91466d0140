"""The store interface every stage writes through and `serve` reads from.

`open_store()` gives the embedded pyoxigraph implementation; a remote SPARQL 1.1 implementation can sit
behind the same methods (see DESIGN.md principle 7).
"""

from .oxigraph_store import OxigraphStore, StoreUnavailable, open_store

__all__ = ["OxigraphStore", "StoreUnavailable", "open_store"]
