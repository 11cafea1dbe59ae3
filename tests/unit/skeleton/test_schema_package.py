"""The schema package stands alone, and the event catalogue is what services follow."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from shared import events, names
from shared.infra.consumer import routes_for
from shared.models import Submission

HEAVY = ("prometheus_client", "fastapi", "starlette", "redis", "faststream", "aiosqlite", "httpx")


def test_importing_the_models_envelope_and_catalogue_loads_no_framework_metrics_or_redis() -> None:
    code = (
        "import json, sys\n"
        "import shared.models, shared.envelope, shared.events, shared.names, shared.tracing\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = set(json.loads(done.stdout))
    assert loaded.isdisjoint(HEAVY), loaded & set(HEAVY)


def test_every_event_type_has_one_stream_and_every_stream_is_a_name_of_shared_names() -> None:
    streams = {v for k, v in vars(names).items() if k.isupper() and isinstance(v, str)}
    for event in events.CATALOGUE.values():
        assert event.stream in streams, event
        assert events.stream_of(event.name) == event.stream
    assert events.stream_of(names.ARTICLE_SUBMITTED) == names.NEWSROOM_SUBMISSIONS
    assert events.event_type(names.AUTHOR_SUBMITTED).model is Submission


def test_an_unknown_type_is_refused_by_name() -> None:
    with pytest.raises(events.UnknownEventType, match=r"article\.submited"):
        events.stream_of("article.submited")


def test_a_consumer_must_handle_exactly_what_the_catalogue_says_its_group_reads() -> None:
    async def handle(event: object) -> None:
        return None

    routes = routes_for(
        names.INGEST_GROUP,
        names.NEWSROOM_SUBMISSIONS,
        {names.ARTICLE_SUBMITTED: handle, names.AUTHOR_SUBMITTED: handle},
    )
    assert set(routes) == {"article.submitted", "article", "author.submitted", "author"}
    with pytest.raises(ValueError, match="no handler"):
        routes_for(names.INGEST_GROUP, names.NEWSROOM_SUBMISSIONS, {names.AUTHOR_SUBMITTED: handle})
    with pytest.raises(ValueError, match="does not say"):
        routes_for(names.PUBLISH_GROUP, names.ARTICLES_INGESTED, {names.ARTICLE_INGESTED: handle})


def test_the_groups_read_the_streams_of_the_pipeline() -> None:
    read = {group: sorted(events.read_by(group)) for group in events_groups()}
    assert read == {
        names.INGEST_GROUP: [names.NEWSROOM_SUBMISSIONS],
        names.ENRICHMENT_GROUP: [names.ARTICLES_INGESTED, names.AUTHORS_UPDATED],
        names.PUBLISH_GROUP: [names.ARTICLES_ENRICHED, names.ASSETS_STORED],
        names.WEBHOOKS_GROUP: [names.ARTICLES_PUBLISHED],
    }


def events_groups() -> list[str]:
    return [names.INGEST_GROUP, names.ENRICHMENT_GROUP, names.PUBLISH_GROUP, names.WEBHOOKS_GROUP]
