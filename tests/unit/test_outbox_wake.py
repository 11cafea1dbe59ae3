"""The relay never sleeps on a row that was committed while it was looking."""

from __future__ import annotations

import asyncio

from shared.infra.outbox import OutboxRelay


class _CommitDuringLook(OutboxRelay):
    """append_once's SELECT predates a commit whose notify() arrives while it runs."""

    def __init__(self) -> None:
        super().__init__(db=None, writer=None, idle_wait=60.0)  # type: ignore[arg-type]
        self.calls = 0
        self.second_look = asyncio.Event()

    async def append_once(self) -> int:
        self.calls += 1
        if self.calls == 1:
            self.notify()  # the commit lands during the look, which saw nothing
            return 0
        self.second_look.set()
        return 0


async def test_a_notify_during_a_look_that_found_nothing_makes_the_relay_look_again() -> None:
    relay = _CommitDuringLook()
    task = asyncio.create_task(relay.run())
    try:
        # With the wake-up lost, the next look would come only after idle_wait (60 s).
        await asyncio.wait_for(relay.second_look.wait(), timeout=10)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert relay.calls >= 2
