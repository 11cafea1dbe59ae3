"""Webhooks: delivers `articles.published` events to registered HTTP endpoints, signed."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    """`services.webhooks:app`: the service built from the environment on first use, which
    `faststream run services.webhooks:app` and `uvicorn services.webhooks:app` serve."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from services.webhooks.app import create_app
    from services.webhooks.settings import Settings

    built = create_app(Settings())
    globals()["app"] = built  # from now on, in place of the submodule of that name
    return built
