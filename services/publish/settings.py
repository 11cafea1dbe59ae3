"""Publish settings: env prefix PUBLISH_, plus REDIS_URL and GALLEY_DATA_DIR."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.infra.retention import RetentionSettings

# a service listening on every interface is still reached on loopback from this machine
ANY_ADDRESS = {"", "0.0.0.0", "::", "[::]"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PUBLISH_", populate_by_name=True)

    host: str = "127.0.0.1"
    port: int = 8003
    # the site's address as readers reach it: every absolute URL (canonical links, Open
    # Graph, JSON-LD, feeds, sitemaps, robots.txt, the ninjs API) starts with it; unset,
    # it is http://<host>:<port> (loopback when the host is every interface)
    base_url: str = ""
    site_name: str = "Galley News"
    redis_url: str = Field(
        "redis://127.0.0.1:6379/0", validation_alias=AliasChoices("REDIS_URL", "redis_url")
    )
    data_dir: Path = Field(
        Path("./data"), validation_alias=AliasChoices("GALLEY_DATA_DIR", "data_dir")
    )
    page_size: int = Field(10, ge=1, le=100)  # stories per feed page
    feed_size: int = Field(30, ge=1, le=200)  # stories per RSS/Atom/JSON feed
    scheduler_poll: float = Field(0.5, gt=0, le=5)  # longest sleep of the release scheduler
    # GALLEY_OUTBOX_REPAIR_WINDOW_S, GALLEY_*_RETENTION_S ... (shared/infra/retention.py)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)

    @model_validator(mode="after")
    def _derive_base_url(self) -> Settings:
        if not self.base_url.strip():
            self.base_url = derived_base_url(self.host, self.port)
        self.base_url = self.base_url.strip().rstrip("/")
        return self

    @property
    def db_path(self) -> Path:
        return self.data_dir / "publish.db"


def derived_base_url(host: str, port: int) -> str:
    """The site's address when no base URL is set: where the service listens."""
    name = "127.0.0.1" if host.strip() in ANY_ADDRESS else host.strip()
    if ":" in name and not name.startswith("["):
        name = f"[{name}]"  # an IPv6 address
    return f"http://{name}:{port}"
