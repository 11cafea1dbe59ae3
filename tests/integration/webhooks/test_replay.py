"""Replay from the start of articles.published, then live events with no gap."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any

import pytest

from galley.replay import Entry, replay
from shared import names
from tests.unit.webhooks.factories import event

pytestmark = pytest.mark.integration


async def xadd(redis: Any, *events: Any) -> None:
    for e in events:
        await redis.xadd(names.ARTICLES_PUBLISHED, e.to_fields())


async def test_replay_lists_current_versions_then_continues_live_without_gap_or_duplicate(
    redis: Any,
) -> None:
    await xadd(
        redis,
        event(names.ARTICLE_PUBLISHED, "alpha", 1),
        event(names.ARTICLE_PUBLISHED, "beta", 1),
        event(names.ARTICLE_UPDATED, "alpha", 2),
        event(names.ARTICLE_PUBLISHED, "gone", 1),
        event(names.ARTICLE_KILLED, "gone", 2),
    )
    stream = replay(redis, block_ms=50)
    history = [await anext(stream), await anext(stream)]
    assert [(e.event.subject, e.version[0]) for e in history] == [
        ("urn:newsroom:alpha", 2),
        ("urn:newsroom:beta", 1),
    ]

    # Written after the history was read, while the subscriber is between reads.
    live = event(names.ARTICLE_CORRECTED, "beta", 2)
    resent = event(names.ARTICLE_PUBLISHED, "delta", 1)
    await xadd(redis, live, resent, resent, event(names.ARTICLE_KILLED, "alpha", 3))

    following: list[Entry] = []
    async with asyncio.timeout(5):
        while len(following) < 3:
            following.append(await anext(stream))
    await stream.aclose()
    assert [(e.event.type, e.event.subject) for e in following] == [
        (names.ARTICLE_CORRECTED, "urn:newsroom:beta"),
        (names.ARTICLE_PUBLISHED, "urn:newsroom:delta"),
        (names.ARTICLE_KILLED, "urn:newsroom:alpha"),
    ]


async def test_the_replay_command_prints_every_published_article(
    redis_server: Any, redis: Any
) -> None:
    await xadd(
        redis, event(names.ARTICLE_PUBLISHED, "alpha", 1), event(names.ARTICLE_PUBLISHED, "beta", 1)
    )
    done = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "galley.replay",
            "--redis",
            redis_server.url,
            "--from-start",
            "--no-follow",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    lines = done.stdout.splitlines()
    assert len(lines) == 2
    assert "urn:newsroom:alpha" in lines[0] and "v1" in lines[0]
    assert "urn:newsroom:beta" in lines[1]
