"""Publish: the reader-facing site, feeds and API, and the articles.published stream."""

from shared.infra.apps import lazy_app

__getattr__ = lazy_app(__name__)  # services.publish:app, built on first use
