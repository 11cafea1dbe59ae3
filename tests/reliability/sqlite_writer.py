"""Subprocess for the SIGKILL test: submits articles through ingest's real intake path
(article row, version row and outbox row in one transaction) until it is killed."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime

from services.ingest import intake
from services.ingest.store import IngestStore
from tests.conftest import load_fixture


async def write_forever(path: str, prefix: str) -> None:
    store = await IngestStore.open(path)
    doc = load_fixture("article.json")
    i = 0
    while True:
        i += 1
        uri = f"urn:galley:sigkill:{prefix}:{i}"
        story = {
            **doc,
            "uri": uri,
            "version": "1",
            "headlines": [{"role": "main", "value": f"Killed mid-write {prefix} {i}"}],
        }
        await intake.submit_article(
            store, story, source="sigkill-test", now=lambda: datetime.now(UTC)
        )


if __name__ == "__main__":
    asyncio.run(write_forever(sys.argv[1], sys.argv[2]))
