"""Releases embargoed and scheduled articles when their time comes.

It sleeps until the next due time (never longer than `max_wait`, so a clock
that moves or a newly held article is noticed quickly) and finds due articles
in the database, so nothing is lost across a restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from services.publish import domain
from services.publish.store import Store

log = logging.getLogger("galley.publish.scheduler")


class Scheduler:
    def __init__(
        self,
        store: Store,
        now: Callable[[], datetime],
        on_emit: Callable[[], None] = lambda: None,
        *,
        max_wait: float = 0.5,
    ) -> None:
        self._store = store
        self._now = now
        self._on_emit = on_emit
        self._max_wait = max_wait
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look again now (a newly held article may be due sooner)."""
        self._wake.set()

    async def release_due(self) -> list[str]:
        moment = self._now()
        emitted = await self._store.release_due(
            lambda s: domain.release(s, moment) if s is not None else None, moment
        )
        if emitted:
            self._on_emit()
        return emitted

    async def _wait(self) -> None:
        due = await self._store.next_due()
        wait = self._max_wait
        if due is not None:
            wait = min(wait, max(0.02, (due - self._now()).total_seconds()))
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=wait)
        except TimeoutError:
            pass
        self._wake.clear()

    async def run(self) -> None:
        while True:
            try:
                await self.release_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("releasing due articles failed; retrying")
            await self._wait()
