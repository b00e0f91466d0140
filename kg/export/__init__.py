"""Exports from the unified graph: GIDE search-profile RO-Crates per study."""
