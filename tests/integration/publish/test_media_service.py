"""Pushed files through the publish service, against a real Redis and a real SQLite file."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared import names
from shared.envelope import Envelope
from shared.models import Asset, Image
from tests.integration.publish.test_publish_service import running
from tests.polling import eventually
from tests.unit.publish.factories import enriched_event, simple_story

pytestmark = pytest.mark.integration

VIDEO = bytes(range(256)) * 2048  # 512 KiB: two chunks


def stored(media_id: str, content: bytes, moment: datetime) -> dict[str, Any]:
    asset = Asset(
        media_id=media_id,
        mime_type="video/mp4",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=base64.b64encode(content).decode(),
        stored_at=moment,
    )
    event = Envelope[Asset](
        source=names.source_of(names.INGEST), type=names.ASSET_STORED, subject=media_id, data=asset
    )
    return event.to_fields()


async def _handled(redis: Any, stream: str, entry_id: bytes) -> bool:
    """Publish's group has read up to `entry_id` and acknowledged everything it read."""
    [group] = [
        g for g in await redis.xinfo_groups(stream) if g["name"] == names.PUBLISH_GROUP.encode()
    ]
    return bool(group["last-delivered-id"] == entry_id and group["pending"] == 0)


async def _answers(client: httpx.AsyncClient, path: str, code: int) -> bool:
    return (await client.get(path)).status_code == code


async def test_a_pushed_video_is_served_in_ranges_while_its_story_is_live_and_not_after(
    redis_server: Any, redis: Any, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    story = simple_story(1, lead_image=Image(href="/media/clip.mp4"))
    async with running(redis_server.url, tmp_path, lambda: datetime.now(UTC)) as client:
        await redis.xadd(names.ASSETS_STORED, stored("clip.mp4", VIDEO, now))
        older = stored("clip.mp4", b"older", now - timedelta(minutes=5))  # a redelivery
        last = await redis.xadd(names.ASSETS_STORED, older)
        await redis.xadd(names.ARTICLES_ENRICHED, enriched_event(story).to_fields())
        await eventually(lambda: _answers(client, "/media/clip.mp4", 200))
        await eventually(lambda: _handled(redis, names.ASSETS_STORED, last))

        whole = await client.get("/media/clip.mp4")
        assert whole.content == VIDEO and whole.headers["accept-ranges"] == "bytes"
        part = await client.get("/media/clip.mp4", headers={"Range": "bytes=-10"})
        assert part.status_code == 206 and part.content == VIDEO[-10:]
        assert (
            part.headers["content-range"]
            == f"bytes {len(VIDEO) - 10}-{len(VIDEO) - 1}/{len(VIDEO)}"
        )

        killed = simple_story(1, version=2, lifecycle="killed")
        await redis.xadd(names.ARTICLES_ENRICHED, enriched_event(killed).to_fields())
        await eventually(lambda: _answers(client, "/media/clip.mp4", 404))
