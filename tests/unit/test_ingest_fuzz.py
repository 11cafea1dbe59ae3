"""Property-based fuzzing of everything that reads outside input (issue 17): ingest's parser
(`domain.parse_article` and `normalize`), its HTTP door (the ASGI app), the stream decoder
(`shared.envelope.from_fields`) and the consumer's entry decoding. Whatever comes in, the
only outcomes are an accepted article or a documented refusal: `domain.Invalid` (a 422),
a problem+json 4xx on HTTP, `EnvelopeError` or a dead letter on a stream. Never another
exception, never a 5xx, never an accepted string XML cannot carry.

Bounded in CI: a few hundred examples, derandomized so a run is reproducible. For a longer
hunt, set the number of examples (the examples are then random each run):

    GALLEY_FUZZ_EXAMPLES=20000 .venv/bin/pytest tests/unit/test_ingest_fuzz.py -q
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from services.ingest import domain
from services.ingest.app import create_app
from services.ingest.domain import Invalid
from services.ingest.settings import Settings
from services.ingest.store import IngestStore
from shared import names
from shared.envelope import Envelope, EnvelopeError, from_fields
from shared.infra.consumer import Route, StreamConsumer
from tests.deadletters import RecordedDeadLetters

EXAMPLES = int(os.environ.get("GALLEY_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize="GALLEY_FUZZ_EXAMPLES" not in os.environ,
    suppress_health_check=list(HealthCheck),
)
# what XML 1.0 cannot carry, and the controls ingest removes with them
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")

# --- strategies -------------------------------------------------------------------------------

TRICKY_TEXT = [
    "",
    " ",
    "\x00",
    "\ud800",
    "a\udfffb",
    "\x01\x7f\x85\ufffe",
    "<script>alert(1)</script>",
    "<p>para</p><nitf><body.content><p>x</p></body.content></nitf>",
    "<nitf",
    "<?xml version='1.0'?><x/>",
    '"\\"\\"',
    "javascript:alert(1)",
    "https://example.test/a.jpg",
    "2025-02-04T10:12:00+02:00",
    "2025-02-04T10:12:00",
    "9223372036854775808",
    "1.0",
    "By Ann Lee and Bo Ek, dpa",
    "Щедрик у Києві",
    "北京" * 3,
    "&#1;&#0;&#xD800;&#x110000;&#128;&amp;&lt;b&gt;&foo;&",
    "<![<![ CDATA",
    "<ul><li>" * 300,
    "<a href='java&#115;cript:x'>l</a><img src=x onerror=y>",
    "<b>bold</b> &copy 2025",
]
texts: SearchStrategy[str] = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(categories=["Cc", "Cs", "Co", "Zl", "Zp"]), max_size=8),
    st.sampled_from(TRICKY_TEXT),
)
numbers: SearchStrategy[Any] = st.one_of(
    st.integers(),
    st.sampled_from([0, -1, 2**53, 2**63, 2**64, -(2**63), 10**99, 10**120]),
    st.floats(allow_nan=True, allow_infinity=True),
)
scalars: SearchStrategy[Any] = st.one_of(st.none(), st.booleans(), numbers, texts)
json_values: SearchStrategy[Any] = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
    max_leaves=12,
)


def _maybe(strategy: SearchStrategy[Any]) -> SearchStrategy[Any]:
    """Mostly `strategy`, now and then any JSON value at all."""
    return st.one_of(strategy, strategy, strategy, strategy, json_values)


dates = st.one_of(
    st.datetimes(timezones=st.timezones() | st.none()).map(lambda d: d.isoformat()),
    st.sampled_from(["2025-02-04T10:12:00+0200", "2025-02-04", "2025-02-04T10:12:00Z"]),
    texts,
)


content_types = st.sampled_from(
    ["text/html", "text/plain", "application/nitf+xml", "application/xml", "text", None, "x/y"]
)
text_entry = st.fixed_dictionaries(
    {"value": _maybe(texts)},
    optional={"role": _maybe(st.sampled_from(["main", "sub", "summary", "caption", "alt"])),
              "contenttype": _maybe(content_types), "contentType": content_types},
)  # fmt: skip
named = st.fixed_dictionaries(
    {},
    optional={"name": _maybe(texts), "rel": _maybe(st.sampled_from(["author", "x"])),
              "uri": texts, "literal": texts, "code": _maybe(texts), "scheme": texts},
)  # fmt: skip
rendition = st.fixed_dictionaries(
    {},
    optional={"href": _maybe(texts), "width": _maybe(numbers), "height": numbers,
              "duration": numbers, "contenttype": _maybe(content_types), "mimetype": texts,
              "media": _maybe(texts), "name": texts},
)  # fmt: skip


def _listed(item: SearchStrategy[Any]) -> SearchStrategy[Any]:
    return _maybe(st.lists(item, max_size=4))


def _keyed(item: SearchStrategy[Any]) -> SearchStrategy[Any]:
    return st.one_of(st.dictionaries(texts, st.one_of(item, st.none()), max_size=3), _listed(item))


ITEM_FIELDS: dict[str, SearchStrategy[Any]] = {
    "type": _maybe(st.sampled_from(["text", "picture", "video", "audio", "composite", "event"])),
    "version": _maybe(st.one_of(numbers, texts)),
    "pubstatus": _maybe(st.sampled_from(["usable", "canceled", "withheld", "USABLE"])),
    "language": _maybe(texts),
    "versioncreated": _maybe(dates),
    "firstcreated": _maybe(dates),
    "embargoed": _maybe(dates),
    "headlines": _listed(text_entry),
    "bodies": _listed(text_entry),
    "descriptions": _listed(text_entry),
    "title": _maybe(texts),
    "slugline": texts,
    "by": _maybe(texts),
    "people": _listed(named),
    "subjects": _listed(named),
    "genres": _listed(named),
    "authors": _listed(named),
    "renditions": _keyed(rendition),
    # ninjs 1.x and Superdesk spellings
    "headline": _maybe(texts),
    "body_html": _maybe(texts),
    "body_text": texts,
    "body_nitf": texts,
    "description_text": texts,
    "byline": _maybe(texts),
    "guid": _maybe(texts),
    "person": _listed(named),
    "subject": _listed(named),
    "$standard": _maybe(st.fixed_dictionaries({"version": texts})),
    # ninjs 3.x spellings
    "versionCreated": dates,
    "pubStatus": texts,
    "x-galley-publish-at": _maybe(dates),
    "x-galley-related-opt-out": json_values,
}


@st.composite
def documents(draw: st.DrawFn, depth: int = 1) -> dict[str, Any]:
    """A ninjs-shaped document, in any dialect, with anything in any of its fields."""
    doc: dict[str, Any] = {}
    if draw(st.integers(0, 9)):  # mostly a story that can pass, to reach normalizing
        doc["uri"] = draw(_maybe(st.from_regex(r"urn:[a-z0-9:]{1,20}", fullmatch=True) | texts))
        if draw(st.booleans()):
            doc["headlines"] = [{"role": "main", "value": draw(texts) + "h"}]
            doc["bodies"] = [{"contenttype": draw(content_types), "value": draw(texts) + "b"}]
        else:
            doc["headline"] = draw(texts) + "h"
            doc["body_html"] = draw(texts) + "b"
    fields = draw(st.sets(st.sampled_from(list(ITEM_FIELDS)), max_size=6))
    doc.update({k: draw(ITEM_FIELDS[k]) for k in sorted(fields)})
    if depth and draw(st.booleans()):
        members = draw(st.lists(documents(depth=0), max_size=3))
        if draw(st.booleans()):
            doc["associations"] = members
        else:
            doc["associations"] = {f"m{i}": m for i, m in enumerate(members)}
    doc.update(draw(st.dictionaries(texts, json_values, max_size=2)))
    return doc


def _strings(value: Any) -> list[str]:
    found: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, Mapping):
            found.extend(k for k in item if isinstance(k, str))
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return found


# --- the parser -----------------------------------------------------------------------------


@FUZZ
@given(documents(), st.frozensets(texts, max_size=2))
def test_parsing_and_normalizing_raise_nothing_but_invalid(
    doc: dict[str, Any], assets: frozenset[str]
) -> None:
    try:
        parsed = domain.parse_article(doc)
        article = domain.normalize(parsed, source="fuzz", assets=assets)
    except Invalid as refused:
        assert refused.errors
        json.dumps([e.as_dict() for e in refused.errors]).encode()  # answerable as problem+json
        return
    domain.content_hash(parsed)
    article.model_dump_json().encode()
    for text in _strings(article.model_dump(mode="json")):
        assert NOT_XML.search(text) is None, repr(text)


@FUZZ
@given(json_values)
def test_author_profiles_raise_nothing_but_invalid(raw: Any) -> None:
    try:
        profile = domain.parse_author(raw)
    except Invalid:
        return
    assert NOT_XML.search(profile.model_dump_json()) is None


# --- the HTTP door --------------------------------------------------------------------------


def _as_text(doc: Any, ascii_only: bool) -> bytes:
    return json.dumps(doc, ensure_ascii=ascii_only, allow_nan=True).encode("utf-8", "surrogatepass")


bodies: SearchStrategy[bytes] = st.one_of(
    st.builds(_as_text, documents(), st.booleans()),
    st.builds(_as_text, json_values, st.booleans()),
    st.binary(max_size=200),
    st.builds(
        lambda doc, cut: _as_text(doc, False)[:cut], documents(), st.integers(0, 400)
    ),  # cut short
    st.sampled_from(
        [
            b'{"uri": "a", "uri": "b"}',
            b'{"uri": "x", "version": ' + b"9" * 5000 + b"}",
            b'{"uri": 1e999}',
            b'{"uri": NaN}',
            b"[" * 10_000,
            b'"' + b'\\"' * 5_000,
            b"\xef\xbb\xbf{}",
            '{"uri": "a"}'.encode("utf-16"),
        ]
    ),
)


class Door:
    """Ingest's app on its store file, driven from a private event loop."""

    def __init__(self, tmp: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.store = self.loop.run_until_complete(IngestStore.open(tmp / "ingest.db"))
        app = create_app(Settings(data_dir=tmp, api_keys="fuzz:fuzz-key", rate_burst=10**9))
        app.state.store = self.store
        transport = httpx.ASGITransport(
            app=app, client=("127.0.0.1", 5000), raise_app_exceptions=False
        )
        self.client = httpx.AsyncClient(transport=transport, base_url="http://ingest.test")

    def post(self, path: str, body: bytes) -> httpx.Response:
        headers = {"Authorization": "Bearer fuzz-key", "Content-Type": "application/json"}
        return self.loop.run_until_complete(self.client.post(path, content=body, headers=headers))

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.run_until_complete(self.store.close())
        self.loop.close()


@pytest.fixture(scope="module")
def door(tmp_path_factory: pytest.TempPathFactory) -> Any:
    opened = Door(tmp_path_factory.mktemp("fuzz"))
    yield opened
    opened.close()


@FUZZ
@given(body=bodies, path=st.sampled_from(["/v1/articles", "/v1/authors"]))
def test_the_http_door_answers_every_body_with_an_answer_below_500(
    door: Door, body: bytes, path: str
) -> None:
    response = door.post(path, body)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == response.status_code


# --- the stream decoders ----------------------------------------------------------------------

field_values: SearchStrategy[Any] = st.one_of(
    texts,
    st.binary(max_size=30),
    st.builds(lambda doc: _as_text(doc, False), documents()),
    st.builds(lambda doc: _as_text(doc, False).decode("utf-8", "surrogatepass"), json_values),
)
ATTRIBUTES = ["type", "data", "specversion", "id", "source", "subject", "time", "traceparent"]
entries: SearchStrategy[dict[Any, Any]] = st.dictionaries(
    st.sampled_from(ATTRIBUTES), field_values, max_size=8
).map(lambda e: {"type": "article.submitted", "data": "{}", **e})


def _b(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogatepass")


# as Redis hands them over: bytes, which need not be UTF-8
redis_entries = entries.map(lambda e: {_b(k): _b(v) for k, v in e.items()})


@FUZZ
@given(entries)
def test_from_fields_raises_nothing_but_envelope_error(entry: dict[Any, Any]) -> None:
    try:
        envelope = from_fields(entry)
    except EnvelopeError as refused:
        assert str(refused)
        return
    assert isinstance(envelope.data, dict)
    envelope.model_dump_json()  # what a consumer reads can be written out again


@FUZZ
@given(redis_entries)
def test_the_consumer_handles_or_parks_every_entry_and_never_leaves_one_pending(
    entry: dict[Any, Any],
) -> None:
    handled: list[Envelope[Any]] = []
    parked = RecordedDeadLetters()

    async def handle(event: Envelope[Any]) -> None:
        handled.append(event)

    consumer = StreamConsumer(
        broker=None,  # type: ignore[arg-type]  # _handle never touches it
        stream=names.NEWSROOM_SUBMISSIONS,
        group=names.INGEST_GROUP,
        consumer="fuzz",
        routes={names.ARTICLE_SUBMITTED: Route(dict, handle)},  # type: ignore[arg-type]
        dead_letters=lambda: parked,
        db=lambda: None,  # type: ignore[arg-type,return-value]  # _handle alone: no batch
        max_entry_bytes=2 * 1024 * 1024,
        strict_json=True,
    )
    done = asyncio.run(consumer._handle(entry, "1-0"))
    assert done is True
    assert len(handled) + len(parked.letters) == 1
    for fields, reason, original in parked.letters:
        assert reason.split(":")[0] in {"undecodable", "unknown-type", "unsupported", "too-large"}
        reason.encode()  # a dead letter Redis can store: its reason and fields are UTF-8
        json.dumps(fields, ensure_ascii=False).encode()
        if original is not None:  # the exact bytes, for `galley dlq retry`
            assert dict(original) == entry
