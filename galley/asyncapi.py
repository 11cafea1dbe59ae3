"""An AsyncAPI 3.0 document of every galley stream, generated from the event catalogue.

    galley asyncapi > asyncapi.json        (or: galley asyncapi -o asyncapi.json)

One channel per Redis stream, one message per event type (`shared.events.CATALOGUE`),
payload schemas from the pydantic models. A message is a CloudEvents 1.0 event:
on the stream every attribute is an entry field and `data` is the JSON text of
the payload model.
"""

from __future__ import annotations

import sys
from importlib import metadata
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from shared import names
from shared.envelope import ATTRIBUTES
from shared.events import CATALOGUE

REF = "#/components/schemas/{model}"

ATTRIBUTE_DOCS = {
    "specversion": "CloudEvents version, always 1.0.",
    "id": "Unique per event; with `source` the deduplication key.",
    "source": "The producing service, e.g. /galley/publish.",
    "type": "The event type.",
    "subject": "What the event is about: the article uri (author slug for authors).",
    "time": "When the event was produced (RFC 3339).",
    "datacontenttype": "Always application/json.",
    "traceparent": "W3C trace context (CloudEvents distributed tracing extension).",
}


def _key(name: str) -> str:
    return name.replace(".", "_")


def _version() -> str:
    try:
        return metadata.version("galley")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def _payload(event_type: str, model: type[BaseModel], stream: str) -> dict[str, Any]:
    props: dict[str, Any] = {
        name: {"type": "string", "description": ATTRIBUTE_DOCS[name]}
        for name in (*ATTRIBUTES, "traceparent")
    }
    props["type"] = {"const": event_type, "description": ATTRIBUTE_DOCS["type"]}
    props["time"]["format"] = "date-time"
    props["data"] = {
        "$ref": REF.format(model=model.__name__),
        "description": f"The {model.__name__}; on the stream `{stream}` the JSON text of it.",
    }
    return {
        "type": "object",
        "required": ["specversion", "id", "source", "type", "time", "data"],
        "properties": props,
    }


DEAD_LETTER = "dead_letter"
SERVICES = (names.INGEST, names.ENRICHMENT, names.PUBLISH, names.WEBHOOKS)
DLQ_FIELDS = {
    "dlq.reason": "Why the entry was parked; starts with too-large, undecodable, unsupported,"
    " unknown-type, schema, unprocessable or 'handler failed'.",
    "dlq.entry_id": "The entry's id on the stream it came from.",
    "dlq.stream": "The stream it came from (where `galley dlq retry` puts it back).",
    "dlq.group": "The consumer group that parked it.",
    "dlq.time": "When it was parked (RFC 3339).",
    "dlq.original": "Only when a field was not UTF-8: the entry's exact bytes, a JSON list"
    " of [name, value] pairs, each base64.",
}


def _dead_letter_message() -> dict[str, Any]:
    props: dict[str, Any] = {
        name: {"type": "string", "description": text} for name, text in DLQ_FIELDS.items()
    }
    return {
        "name": DEAD_LETTER,
        "title": "dead letter",
        "summary": "An entry a service could never handle, with its original fields.",
        "contentType": "text/plain",
        "payload": {
            "type": "object",
            "required": ["dlq.reason", "dlq.stream", "dlq.group", "dlq.time"],
            "properties": props,
            "additionalProperties": {
                "type": "string",
                "description": "The entry's own fields as sent (dlq.* ones as orig.dlq.*).",
            },
        },
    }


def _schemas() -> dict[str, Any]:
    models = list(dict.fromkeys(event.model for event in CATALOGUE.values()))
    _, defs = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    schemas: dict[str, Any] = defs.get("$defs", {})
    return schemas


def document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document as a dict."""
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for event_type, event in CATALOGUE.items():
        stream, model = event.stream, event.model
        key = _key(event_type)
        messages[key] = {
            "name": event_type,
            "title": event_type,
            "summary": event.summary,
            "description": f"{event_type} on {stream}, carrying a {model.__name__}; written by"
            f" {event.producer}, read by {', '.join(event.groups) or 'subscribers'}."
            + (f" Also accepted as type {', '.join(event.aliases)}." if event.aliases else ""),
            "contentType": "application/json",
            "payload": _payload(event_type, model, stream),
        }
        channel = channels.setdefault(
            _key(stream),
            {
                "address": stream,
                "description": f"Redis stream `{stream}`: one entry per event, fields = "
                "CloudEvents attributes plus `data`.",
                "messages": {},
            },
        )
        channel["messages"][key] = {"$ref": f"#/components/messages/{key}"}
    messages[DEAD_LETTER] = _dead_letter_message()
    for service in SERVICES:
        stream = names.dead_letter_stream(service)
        channels[_key(stream)] = {
            "address": stream,
            "description": f"Redis stream `{stream}`: entries {service} could never handle,"
            " parked with the reason (`galley dlq` lists, retries and drops them).",
            "messages": {DEAD_LETTER: {"$ref": f"#/components/messages/{DEAD_LETTER}"}},
        }
    operations = {
        f"send_{name}": {
            "action": "send",
            "summary": f"galley appends events to {channel['address']} (XADD).",
            "channel": {"$ref": f"#/channels/{name}"},
            "messages": [{"$ref": f"#/channels/{name}/messages/{m}"} for m in channel["messages"]],
        }
        for name, channel in channels.items()
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "galley event streams",
            "version": _version(),
            "description": (
                "Events between galley's services and to downstream subscribers. Per article "
                "(subject) the order of events holds; subscribers deduplicate by `id`. "
                "See docs/subscribers.md."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "redis": {
                "host": "127.0.0.1:6379",
                "protocol": "redis",
                "description": "The Redis server given by REDIS_URL.",
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": _schemas()},
    }


def main(argv: list[str] | None = None) -> int:
    """`python -m galley.asyncapi ...` is `galley asyncapi ...` (see its --help)."""
    from galley.cli import main as galley

    return galley(["asyncapi", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    raise SystemExit(main())
