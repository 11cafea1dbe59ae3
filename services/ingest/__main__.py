"""`python -m services.ingest`: serve the ingest API."""

from __future__ import annotations

import uvicorn

from services.ingest.app import create_app
from services.ingest.settings import Settings


def main() -> None:
    settings = Settings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
