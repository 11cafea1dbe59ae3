"""Background tasks of a service's lifespan."""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger("galley.tasks")


async def cancel_and_wait(*tasks: asyncio.Task[None] | None) -> None:
    """Cancel the tasks in order and wait for each, so shutdown goes on to close the stores.

    None entries are skipped; a task that had already failed is logged, not re-raised.
    """
    for task in tasks:
        if task is None:
            continue
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("background task %s had failed", task.get_name())
