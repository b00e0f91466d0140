"""GIDE knowledge graph: harvest four image repositories into one RDF graph and serve it."""

__version__ = "0.1.0"
