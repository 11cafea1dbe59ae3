"""Webhooks: delivers `articles.published` events to registered HTTP endpoints, signed."""
