"""Export a JSON Schema for every event, for subscribers in other languages.

python -m shared.export_schema OUTDIR     (also: galley schema OUTDIR)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from shared.events import CATALOGUE, envelope_model


def event_schemas() -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for event_type, event in CATALOGUE.items():
        stream = event.stream
        schema = envelope_model(event_type).model_json_schema()
        schema["title"] = event_type
        schema["description"] = (
            f"CloudEvents 1.0 event '{event_type}' on the Redis stream '{stream}'. "
            "On the stream each attribute is an entry field and `data` is this JSON."
        )
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        out[event_type] = schema
    return out


def export(outdir: Path) -> list[Path]:
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for event_type, schema in event_schemas().items():
        path = outdir / f"{event_type}.schema.json"
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    outdir = Path(args[0] if args else "schemas")
    for path in export(outdir):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
