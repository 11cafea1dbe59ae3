"""Ingest configuration: env prefix INGEST_, plus REDIS_URL and GALLEY_DATA_DIR."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.infra.retention import RetentionSettings


def parse_api_keys(spec: str) -> dict[str, str]:
    """`"superdesk:KEY1,arc:KEY2"` -> {"KEY1": "superdesk", "KEY2": "arc"} (key -> source)."""
    keys: dict[str, str] = {}
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        source, sep, key = item.partition(":")
        if not sep or not source.strip() or not key.strip():
            raise ValueError(f"INGEST_API_KEYS entry {item.split(':')[0]!r} is not source:key")
        keys[key.strip()] = source.strip()
    return keys


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INGEST_", populate_by_name=True)

    host: str = "127.0.0.1"
    port: int = 8001
    redis_url: str = Field(
        "redis://127.0.0.1:6379/0", validation_alias=AliasChoices("redis_url", "REDIS_URL")
    )
    data_dir: Path = Field(
        Path("./data"), validation_alias=AliasChoices("data_dir", "GALLEY_DATA_DIR")
    )
    api_keys: str = ""  # INGEST_API_KEYS="superdesk:KEY1,arc:KEY2"
    max_body_bytes: int = Field(2 * 1024 * 1024, ge=1)
    max_asset_bytes: int = Field(20 * 1024 * 1024, ge=1)  # one pushed media file
    # where the reader-facing site lives: the answer to a post gives the story's page URL
    site_url: str = Field(
        "http://127.0.0.1:8003", validation_alias=AliasChoices("site_url", "PUBLISH_BASE_URL")
    )
    rate_per_second: float = Field(10.0, gt=0)  # sustained posts per second per source
    rate_burst: int = Field(30, ge=1)  # posts a source may send at once
    relay_max_backoff: float = Field(5.0, gt=0)
    # GALLEY_OUTBOX_REPAIR_WINDOW_S, GALLEY_*_RETENTION_S ... (shared/infra/retention.py)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)

    @field_validator("api_keys")
    @classmethod
    def _keys_parse(cls, value: str) -> str:
        parse_api_keys(value)
        return value

    @property
    def keys(self) -> dict[str, str]:
        return parse_api_keys(self.api_keys)

    @property
    def db_path(self) -> Path:
        return self.data_dir / "ingest.db"
