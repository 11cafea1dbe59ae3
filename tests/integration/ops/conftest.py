"""The e2e `pipeline` fixture, shared with the ops tests."""

from tests.e2e.conftest import pipeline  # noqa: F401
