"""Publish settings: env prefix PUBLISH_, plus REDIS_URL and GALLEY_DATA_DIR."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PUBLISH_", populate_by_name=True)

    host: str = "127.0.0.1"
    port: int = 8003
    base_url: str = "http://127.0.0.1:8003"  # canonical URLs, feeds, sitemap
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

    @property
    def db_path(self) -> Path:
        return self.data_dir / "publish.db"
