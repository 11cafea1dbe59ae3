"""`python -m services.publish`: serve the reader-facing site."""

from __future__ import annotations

import uvicorn

from services.publish.app import create_app
from services.publish.settings import Settings


def main() -> None:
    settings = Settings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
