"""The store every stage writes through and `serve` reads from: the written interface (`Store`, in
interface.py), `open_store()` that picks an implementation from a folder path or an endpoint URL, and the
two implementations, `OxigraphStore` (embedded pyoxigraph, the default) and `RemoteStore` (any SPARQL 1.1
Query/Update/Graph Store server, e.g. Virtuoso). Both answer queries with pyoxigraph result objects.
"""

from .interface import SourceWriter, Store, StoreUnavailable, is_remote, open_store
from .oxigraph_store import OxigraphStore

__all__ = ["OxigraphStore", "SourceWriter", "Store", "StoreUnavailable", "is_remote", "open_store"]
