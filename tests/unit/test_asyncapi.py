"""The AsyncAPI document FastStream writes for the services, joined by `galley asyncapi`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jsonschema
import pytest

from galley.asyncapi import document
from shared import events, names

ASYNCAPI_SCHEMA = Path(__file__).parents[1] / "fixtures" / "asyncapi-3.0.0-schema.json"
SERVICES = ("ingest", "enrichment", "publish", "webhooks")


def errors_against_asyncapi_3(doc: dict[str, Any]) -> list[str]:
    """Errors of a document against the official AsyncAPI 3.0.0 JSON Schema (from the
    AsyncAPI Initiative's @asyncapi/specs 6.11.1, schemas/3.0.0-without-$id.json)."""
    validator = jsonschema.Draft7Validator(json.loads(ASYNCAPI_SCHEMA.read_text()))
    return [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(doc)]


def resolve(doc: dict[str, Any], ref: str) -> Any:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):  # a JSON pointer in a URI fragment
        node = node[unquote(part).replace("~1", "/").replace("~0", "~")]
    return node


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return document()


def test_the_document_is_valid_asyncapi_3(doc: dict[str, Any]) -> None:
    assert errors_against_asyncapi_3(doc) == []


def test_the_validation_catches_a_broken_document(doc: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(doc))
    first = next(iter(broken["operations"].values()))
    first["action"] = "publish"  # AsyncAPI 2's word; 3.0 says send or receive
    del broken["info"]["version"]
    assert len(errors_against_asyncapi_3(broken)) >= 2


def test_every_stream_is_there_with_who_sends_and_who_receives(doc: dict[str, Any]) -> None:
    actions: dict[str, set[str]] = {}
    for operation in doc["operations"].values():
        address = resolve(doc, operation["channel"]["$ref"])["address"]
        actions.setdefault(address, set()).add(operation["action"])
    dead_letters = {names.dead_letter_stream(s) for s in SERVICES}
    assert set(actions) == set(events.streams()) | dead_letters
    assert actions[names.NEWSROOM_SUBMISSIONS] == {"receive"}  # the newsroom sends it
    assert actions[names.ARTICLES_REJECTED] == {"send"}  # for operators' tools
    for stream in (names.ARTICLES_INGESTED, names.ARTICLES_ENRICHED, names.ARTICLES_PUBLISHED):
        assert actions[stream] == {"send", "receive"}
    assert all(actions[d] == {"send"} for d in dead_letters)


def test_a_published_message_carries_the_published_article(doc: dict[str, Any]) -> None:
    [channel] = [
        c for key, c in doc["channels"].items() if key == f"{names.ARTICLES_PUBLISHED}:publish"
    ]
    [message] = [resolve(doc, m["$ref"]) for m in channel["messages"].values()]
    envelope = resolve(doc, message["payload"]["$ref"])
    assert {"specversion", "id", "source", "type", "time", "data"} <= set(envelope["properties"])
    data = resolve(doc, envelope["properties"]["data"]["$ref"])
    assert "url" in data["required"]
    for event_type in names.PUBLISHED_EVENT_TYPES:
        assert event_type in channel["description"]


def test_a_dead_letter_says_why_and_where_it_came_from(doc: dict[str, Any]) -> None:
    channel = doc["channels"][f"{names.dead_letter_stream('enrichment')}:enrichment"]
    [message] = [resolve(doc, m["$ref"]) for m in channel["messages"].values()]
    fields = resolve(doc, message["payload"]["$ref"])["properties"]
    assert {"dlq.reason", "dlq.stream", "dlq.group", "dlq.entry_id", "dlq.time"} <= set(fields)


def test_every_reference_resolves(doc: dict[str, Any]) -> None:
    for ref in refs(doc):
        assert resolve(doc, ref) is not None, ref


def test_faststream_writes_each_services_document(tmp_path: Path) -> None:
    out = tmp_path / "ingest.json"
    subprocess.run(
        [
            str(Path(sys.executable).parent / "faststream"),
            "docs",
            "gen",
            "services.ingest:app",
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    written = json.loads(out.read_text())
    assert errors_against_asyncapi_3(written) == []
    addresses = {c["address"] for c in written["channels"].values()}
    assert (
        names.NEWSROOM_SUBMISSIONS in addresses and names.dead_letter_stream("ingest") in addresses
    )


def test_the_module_prints_the_document_as_json() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "galley.asyncapi"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert json.loads(done.stdout)["info"]["title"] == "galley event streams"
