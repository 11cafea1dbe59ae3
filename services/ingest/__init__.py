"""Ingest: accepts ninjs articles and author profiles from newsroom systems."""
