"""Publish: the reader-facing site, feeds and API, and the articles.published stream."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    """`services.publish:app`: the service built from the environment on first use, which
    `faststream run services.publish:app` and `uvicorn services.publish:app` serve."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from services.publish.app import create_app
    from services.publish.settings import Settings

    built = create_app(Settings())
    globals()["app"] = built  # from now on, in place of the submodule of that name
    return built
