"""Ingest: accepts ninjs articles and author profiles from newsroom systems."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    """`services.ingest:app`: the service built from the environment on first use, which
    `faststream run services.ingest:app` and `uvicorn services.ingest:app` serve."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from services.ingest.app import create_app
    from services.ingest.settings import Settings

    built = create_app(Settings())
    globals()["app"] = built  # from now on, in place of the submodule of that name
    return built
