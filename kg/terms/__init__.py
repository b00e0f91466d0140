"""Ontology terms: an in-memory index over the ontology graphs (and the terms seen in harvested data),
used by the OLS4-compatible API, hierarchy-aware queries and grounding of free-text values."""

from .index import Ontology, Term, TermIndex

__all__ = ["Ontology", "Term", "TermIndex"]
