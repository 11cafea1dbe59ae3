"""The AsyncAPI document generated from the event catalogue."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema

from galley.asyncapi import document
from shared import names

ASYNCAPI_SCHEMA = Path(__file__).parents[2] / "fixtures" / "asyncapi-3.0.0-schema.json"


def resolve(doc: dict[str, Any], ref: str) -> Any:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


def test_articles_published_lists_all_four_event_types_with_the_published_article() -> None:
    doc = document()
    assert doc["asyncapi"] == "3.0.0"
    [channel] = [c for c in doc["channels"].values() if c["address"] == names.ARTICLES_PUBLISHED]
    messages = [resolve(doc, m["$ref"]) for m in channel["messages"].values()]
    assert sorted(m["name"] for m in messages) == sorted(names.PUBLISHED_EVENT_TYPES)
    for message in messages:
        payload = message["payload"]
        assert payload["properties"]["type"]["const"] == message["name"]
        assert payload["properties"]["data"]["$ref"] == "#/components/schemas/PublishedArticle"
    assert "url" in doc["components"]["schemas"]["PublishedArticle"]["required"]


def test_every_stream_is_a_channel_with_a_send_operation() -> None:
    doc = document()
    addresses = {c["address"] for c in doc["channels"].values()}
    assert addresses == {
        names.NEWSROOM_SUBMISSIONS,
        *(names.dead_letter_stream(s) for s in ("ingest", "enrichment", "publish", "webhooks")),
        names.ARTICLES_INGESTED,
        names.AUTHORS_UPDATED,
        names.ARTICLES_REJECTED,
        names.ARTICLES_ENRICHED,
        names.ARTICLES_PUBLISHED,
        names.ASSETS_STORED,
    }
    assert len(doc["operations"]) == len(addresses)
    assert {op["action"] for op in doc["operations"].values()} == {"send"}


def test_every_reference_in_the_document_resolves() -> None:
    doc = document()
    for ref in refs(doc):
        assert resolve(doc, ref) is not None, ref


def test_the_module_prints_the_document_as_json() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "galley.asyncapi"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(done.stdout)["info"]["title"] == "galley event streams"


def _asyncapi_errors(doc: dict[str, Any]) -> list[str]:
    """Errors of a document against the official AsyncAPI 3.0.0 JSON Schema (from the
    AsyncAPI Initiative's @asyncapi/specs 6.11.1, schemas/3.0.0-without-$id.json)."""
    schema = json.loads(
        (Path(__file__).parents[2] / "fixtures/asyncapi-3.0.0-schema.json").read_text()
    )
    validator = jsonschema.Draft7Validator(schema)
    return [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(doc)]


def test_the_document_is_valid_asyncapi_3() -> None:
    assert _asyncapi_errors(document()) == []


def test_the_validation_catches_a_broken_document() -> None:
    doc = document()
    first = next(iter(doc["operations"].values()))
    first["action"] = "publish"  # AsyncAPI 2's word; 3.0 says send or receive
    del doc["info"]["version"]
    assert len(_asyncapi_errors(doc)) >= 2
