"""A dead-letter port for tests that remembers what a consumer parked."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class RecordedDeadLetters:
    """`park` records each letter: its fields, reason and (when not UTF-8) exact bytes."""

    def __init__(self) -> None:
        self.letters: list[tuple[dict[str, str], str, Any]] = []

    async def park(
        self,
        fields: Mapping[str, str],
        *,
        reason: str,
        entry_id: str | None,
        stream: str,
        group: str,
        original: Mapping[bytes, bytes] | None = None,
    ) -> None:
        self.letters.append((dict(fields), reason, original))

    @property
    def parked(self) -> list[tuple[dict[str, str], str]]:
        """(fields, reason) of each letter."""
        return [(fields, reason) for fields, reason, _ in self.letters]

    @property
    def reasons(self) -> list[str]:
        return [reason for _, reason, _ in self.letters]
