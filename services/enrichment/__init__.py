"""Enrichment: author cards and related links for every ingested article."""

from shared.infra.apps import lazy_app

__getattr__ = lazy_app(__name__)  # services.enrichment:app, built on first use
