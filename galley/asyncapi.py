"""The AsyncAPI 3.0 document of every galley stream, as FastStream writes it.

    galley asyncapi > asyncapi.json        (or: galley asyncapi -o asyncapi.json)

Each service is a FastStream application (shared/infra/service.py): its subscribers are
the streams its group reads, its publishers the streams its outbox writes and its dead
letters, each with the payload model the event catalogue (shared/events.py) names.
`faststream docs gen services.<name>:app` writes one service's document; this command
asks FastStream for the four and joins them into one: every stream from the newsroom's
input to `articles.published`, and every dead-letter stream.
"""

from __future__ import annotations

import sys
from typing import Any

from shared.infra.service import package_version

TITLE = "galley event streams"
DESCRIPTION = (
    "Events between galley's services and to downstream subscribers, one channel per"
    " stream and service: what each service reads (receive) and writes (send). An entry is"
    " a CloudEvents 1.0 event: its attributes are entry fields and `data` is the JSON text"
    " of the payload. Per article (subject) the order of events holds; subscribers"
    " deduplicate by `id`. See docs/subscribers.md."
)


def service_documents() -> dict[str, dict[str, Any]]:
    """Each service's AsyncAPI document, from its FastStream application (not started)."""
    from services.enrichment.app import create_app as enrichment
    from services.enrichment.settings import Settings as EnrichmentSettings
    from services.ingest.app import create_app as ingest
    from services.ingest.settings import Settings as IngestSettings
    from services.publish.app import create_app as publish
    from services.publish.settings import Settings as PublishSettings
    from services.webhooks.app import create_app as webhooks
    from services.webhooks.settings import Settings as WebhooksSettings

    apps = {
        "ingest": ingest(IngestSettings()),
        "enrichment": enrichment(EnrichmentSettings()),
        "publish": publish(PublishSettings()),
        "webhooks": webhooks(WebhooksSettings()),
    }
    return {name: app.schema.to_specification().to_jsonable() for name, app in apps.items()}


def document() -> dict[str, Any]:
    """The four services' documents joined: channels, operations and components of all."""
    docs = service_documents()
    joined: dict[str, Any] = {
        "asyncapi": "3.0.0",
        "info": {"title": TITLE, "version": package_version(), "description": DESCRIPTION},
        "defaultContentType": "application/json",
        "servers": {},
        "channels": {},
        "operations": {},
        "components": {"messages": {}, "schemas": {}},
    }
    for doc in docs.values():
        joined["servers"].update(doc.get("servers", {}))
        joined["channels"].update(doc.get("channels", {}))
        joined["operations"].update(doc.get("operations", {}))
        for part in ("messages", "schemas"):
            joined["components"][part].update(doc.get("components", {}).get(part, {}))
    return joined


def main(argv: list[str] | None = None) -> int:
    """`python -m galley.asyncapi ...` is `galley asyncapi ...` (see its --help)."""
    from galley.cli import main as galley

    return galley(["asyncapi", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    raise SystemExit(main())
