"""Which statements a piece of work ran as full table scans (EXPLAIN QUERY PLAN).

A scan in a per-event statement makes every event cost more as the tables grow: at a
100,000-article archive it is the whole cost."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from shared.infra.db import Database

_BARE_SCAN = re.compile(r"^SCAN (\w+)(?! USING)")


@asynccontextmanager
async def scans(db: Database) -> AsyncIterator[dict[str, list[str]]]:
    """Yields a dict that, on exit, maps each table read by a full scan to the statements
    that scanned it. Only the writer's statements are traced (the unit of work)."""
    statements: list[str] = []
    writer = db._writer
    await writer.set_trace_callback(statements.append)
    found: dict[str, list[str]] = {}
    try:
        yield found
    finally:
        await writer.set_trace_callback(None)  # type: ignore[arg-type]
    for sql in dict.fromkeys(statements):
        if not re.match(r"\s*(SELECT|UPDATE|DELETE|INSERT|WITH)\b", sql, re.I):
            continue
        for row in await writer.execute_fetchall("EXPLAIN QUERY PLAN " + sql):
            if m := _BARE_SCAN.match(row[3]):
                found.setdefault(m.group(1), []).append(sql)
