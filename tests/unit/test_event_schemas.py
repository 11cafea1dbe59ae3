"""The exported JSON Schemas describe every event and accept what services emit."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from shared import names
from shared.envelope import Envelope, from_fields
from shared.events import CATALOGUE
from shared.export_schema import export
from shared.models import AuthorProfile


def test_a_schema_is_exported_for_every_event_type(tmp_path: Path) -> None:
    written = {p.name for p in export(tmp_path)}
    assert written == {f"{t}.schema.json" for t in CATALOGUE}


def test_an_emitted_event_validates_against_its_exported_schema(tmp_path: Path) -> None:
    export(tmp_path)
    schema = json.loads((tmp_path / "author.updated.schema.json").read_text())
    event = Envelope[AuthorProfile](
        source=names.source_of(names.INGEST),
        type=names.AUTHOR_UPDATED,
        subject="a",
        data=AuthorProfile(name="A", slug="a"),
    )
    # What a subscriber in another language sees: stream fields, with `data` parsed.
    fields = event.to_fields()
    document = {**fields, "data": json.loads(fields["data"])}
    jsonschema.validate(document, schema)


def test_stream_fields_round_trip_through_the_envelope() -> None:
    event = Envelope[AuthorProfile](
        source="/galley/ingest",
        type=names.AUTHOR_UPDATED,
        subject="a",
        data=AuthorProfile(name="Ã", slug="a", aliases=["Ä"]),
    )
    raw = {k.encode(): v.encode() for k, v in event.to_fields().items()}
    back = from_fields(raw)
    assert back.id == event.id
    assert back.time == event.time
    assert AuthorProfile.model_validate(back.data) == event.data
