"""Study search: an in-memory index of every study, built from the store at load time, with facets that
follow the ontology hierarchies (FBbi, NCBITaxon) through the term index."""

from .index import FACETS, SearchQuery, StudyIndex

__all__ = ["FACETS", "SearchQuery", "StudyIndex"]
