"""`services.<name>:app` without building anything at import time."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_app(package: str) -> Callable[[str], Any]:
    """A module `__getattr__` for a service package: `app` is the service built from the
    environment (`<package>.app.create_app(<package>.settings.Settings())`) on first use,
    which `faststream run <package>:app` and `uvicorn <package>:app` serve. Importing the
    package or its other modules builds nothing."""

    def __getattr__(name: str) -> Any:
        if name != "app":
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        create_app = importlib.import_module(f"{package}.app").create_app
        settings = importlib.import_module(f"{package}.settings").Settings
        built = create_app(settings())
        # from now on the package's `app` is the service, not the submodule of that name
        sys.modules[package].__dict__["app"] = built
        return built

    return __getattr__
