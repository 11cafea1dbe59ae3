"""The event envelope: CloudEvents 1.0 attributes plus `data`.

On a Redis stream every attribute is one entry field and `data` is the JSON
payload, so any Redis client can read an entry without FastStream:

    XADD articles.published * specversion 1.0 id ... type article.published data {...}
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.infra.observability import current_traceparent

P = TypeVar("P")

SPECVERSION = "1.0"
JSON = "application/json"
ATTRIBUTES = ("specversion", "id", "source", "type", "subject", "time", "datacontenttype")


class EnvelopeError(ValueError):
    """A stream entry that is not a readable event (the reason is the message)."""


class Envelope(BaseModel, Generic[P]):
    """One event. `id` together with `source` is the deduplication key."""

    model_config = ConfigDict(frozen=True)

    specversion: str = SPECVERSION
    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    source: str
    type: str
    subject: str | None = None
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    datacontenttype: str = JSON
    # CloudEvents distributed-tracing extension; defaults to the trace of the work in progress
    traceparent: str | None = Field(default_factory=current_traceparent)
    data: P

    def to_fields(self) -> dict[str, str]:
        """Flatten to Redis stream entry fields (all strings)."""
        fields: dict[str, str] = {
            "specversion": self.specversion,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "time": self.time.isoformat(),
            "datacontenttype": self.datacontenttype,
        }
        if self.subject is not None:
            fields["subject"] = self.subject
        if self.traceparent is not None:
            fields["traceparent"] = self.traceparent
        data = self.data
        if isinstance(data, BaseModel):  # pydantic's own encoder: same JSON, ~3x faster
            fields["data"] = data.model_dump_json()
        else:
            fields["data"] = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        return fields


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def fields_from_entry(raw: Mapping[Any, Any]) -> dict[str, str]:
    """Decode a raw entry (bytes or str keys and values) to a str dict."""
    try:
        return {_text(k): _text(v) for k, v in raw.items()}
    except UnicodeDecodeError as exc:
        raise EnvelopeError(f"entry is not UTF-8: {exc}") from exc


def typed(env: Envelope[Any], model: type[BaseModel]) -> Envelope[Any]:
    """The envelope with its `data` validated as `model` (raises pydantic's ValidationError)."""
    return Envelope[model].model_validate(  # type: ignore[valid-type]
        {**env.model_dump(exclude={"data"}), "data": env.data}
    )


def from_fields(raw: Mapping[Any, Any]) -> Envelope[dict[str, Any]]:
    """Parse stream entry fields into an envelope whose data is a plain dict.

    Raises EnvelopeError with a readable reason for anything malformed.
    """
    fields = fields_from_entry(raw)
    if "data" not in fields:
        raise EnvelopeError("entry has no 'data' field")
    try:
        data = json.loads(fields["data"])
    except json.JSONDecodeError as exc:
        raise EnvelopeError(f"'data' is not JSON: {exc.msg} at position {exc.pos}") from exc
    except RecursionError as exc:
        raise EnvelopeError("'data' is nested too deeply") from exc
    if not isinstance(data, dict):
        raise EnvelopeError("'data' must be a JSON object")
    attrs = {k: fields[k] for k in (*ATTRIBUTES, "traceparent") if k in fields}
    if "type" not in attrs:
        raise EnvelopeError("entry has no 'type' field")
    attrs.setdefault("source", "unknown")
    try:
        return Envelope[dict[str, Any]].model_validate({**attrs, "data": data})
    except ValidationError as exc:
        raise EnvelopeError(f"bad envelope attribute: {exc.errors()[0]['msg']}") from exc
