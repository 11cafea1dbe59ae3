"""The pipeline on a Redis with compose's ACL users: no default user, one user per service.

The `--user` rules are read from docker-compose.yml itself, so what this test proves is
what compose deploys: every service works with only its own streams, and none can write
another's.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis as sync_redis
import yaml
from redis.exceptions import AuthenticationError, NoPermissionError, ResponseError

from galley.redis_server import RedisServer, free_port
from galley.supervisor import SERVICES, Pipeline
from shared import names
from tests.conftest import load_fixture, running
from tests.e2e.conftest import base_url, eventually

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
USERS = ("ingest", "enrichment", "publish", "webhooks", "ops")


def password(user: str) -> str:
    return f"test{user}pw"


def acl_arguments() -> list[str]:
    """compose's `--user` directives, with each password variable set for this test."""
    command = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["redis"][
        "command"
    ]
    filled = re.sub(
        r"\$\{REDIS_(\w+)_PASSWORD[^}]*\}", lambda m: password(m.group(1).lower()), command
    )
    words = shlex.split(filled)
    return words[words.index("--user") :]


def url(server: RedisServer, user: str) -> str:
    return f"redis://{user}:{password(user)}@127.0.0.1:{server.port}/0"


@pytest.fixture
def acl_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis", appendonly=False, extra=tuple(acl_arguments()))
    server.start()
    yield server
    server.stop()


def test_every_service_works_as_its_own_redis_user_and_touches_only_its_streams(
    acl_redis: RedisServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No default user: a client without credentials gets nothing.
    with pytest.raises((AuthenticationError, ResponseError)):
        sync_redis.Redis(port=acl_redis.port).xlen(names.ARTICLES_PUBLISHED)

    for user in USERS[:-1]:
        monkeypatch.setenv(f"{user.upper()}_REDIS_URL", url(acl_redis, user))
    ports = {name: free_port() for name in SERVICES}
    pipeline = Pipeline(
        tmp_path / "data", redis_url=url(acl_redis, "ops"), redis_port=0, services=ports
    )
    with running(pipeline):
        ingest = base_url(pipeline, "ingest")
        author = load_fixture("author-martin-fornusek.json")
        assert httpx.post(f"{ingest}/v1/authors", json=author, timeout=10).status_code < 300
        for name in ("related-pow", "article"):
            doc = load_fixture(f"{name}.json")
            assert httpx.post(f"{ingest}/v1/articles", json=doc, timeout=10).status_code == 202
        ops = sync_redis.Redis.from_url(url(acl_redis, "ops"), decode_responses=True)
        article = load_fixture("article.json")

        def published() -> list[dict[str, str]]:
            return [
                f
                for _id, f in ops.xrange(names.ARTICLES_PUBLISHED)
                if f.get("subject") == article["uri"]
            ]

        [fields] = eventually(published, timeout=60, what="the article published")
        assert json.loads(fields["data"])["related"], "enrichment read the archive"

    # Each user can write only its own streams.
    as_ingest = sync_redis.Redis.from_url(url(acl_redis, "ingest"))
    with pytest.raises(NoPermissionError):
        as_ingest.xadd(names.ARTICLES_PUBLISHED, {"type": "article.published", "data": "{}"})
    as_webhooks = sync_redis.Redis.from_url(url(acl_redis, "webhooks"))
    with pytest.raises(NoPermissionError):
        as_webhooks.xadd(names.ARTICLES_ENRICHED, {"type": "article.enriched", "data": "{}"})
    with pytest.raises(NoPermissionError):
        as_webhooks.config_get("requirepass")
