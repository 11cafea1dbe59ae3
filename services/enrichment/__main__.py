"""`python -m services.enrichment`: serve the enrichment service."""

from __future__ import annotations

import uvicorn

from services.enrichment.app import create_app
from services.enrichment.settings import Settings


def main() -> None:
    settings = Settings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
