"""`galley replay`: the events on stdout, the progress of reading history on stderr only."""

from __future__ import annotations

from typing import Any

from galley.cli import main
from shared import names
from shared.envelope import Envelope


def test_replay_prints_only_the_current_versions_on_stdout(redis_server: Any, capsys: Any) -> None:
    import redis as sync_redis

    client = sync_redis.Redis.from_url(redis_server.url)
    client.delete(names.ARTICLES_PUBLISHED)
    for n, version in ((1, 1), (2, 1), (1, 2)):
        event = Envelope[dict[str, Any]](
            source="/galley/publish",
            type=names.ARTICLE_PUBLISHED,
            subject=f"urn:replay:{n}",
            data={"uri": f"urn:replay:{n}", "version": version, "headline": f"story {n}"},
        )
        client.xadd(names.ARTICLES_PUBLISHED, event.to_fields())

    try:
        code = main(["replay", "--redis-url", redis_server.url, "--from-start", "--no-follow"])
    finally:
        client.delete(names.ARTICLES_PUBLISHED)

    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert [line.split()[2:4] for line in lines] == [["urn:replay:1", "v2"], ["urn:replay:2", "v1"]]
