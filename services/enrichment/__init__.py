"""Enrichment: author cards and related links for every ingested article."""
