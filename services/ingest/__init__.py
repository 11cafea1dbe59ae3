"""Ingest: accepts ninjs articles and author profiles from newsroom systems."""

from shared.infra.apps import lazy_app

__getattr__ = lazy_app(__name__)  # services.ingest:app, built on first use
