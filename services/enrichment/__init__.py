"""Enrichment: author cards and related links for every ingested article."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    """`services.enrichment:app`: the service built from the environment on first use, which
    `faststream run services.enrichment:app` and `uvicorn services.enrichment:app` serve."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from services.enrichment.app import create_app
    from services.enrichment.settings import Settings

    built = create_app(Settings())
    globals()["app"] = built  # from now on, in place of the submodule of that name
    return built
