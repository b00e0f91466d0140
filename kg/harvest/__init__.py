"""Harvesters: one per source kind. Each yields RawRecords, exactly as fetched, and nothing else."""
