"""`python -m services.webhooks`: serve the webhooks API and dispatcher."""

from __future__ import annotations

import uvicorn

from services.webhooks.app import create_app
from services.webhooks.settings import Settings


def main() -> None:
    settings = Settings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
