"""Webhooks: delivers `articles.published` events to registered HTTP endpoints, signed."""

from shared.infra.apps import lazy_app

__getattr__ = lazy_app(__name__)  # services.webhooks:app, built on first use
