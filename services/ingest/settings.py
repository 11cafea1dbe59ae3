"""Ingest settings: env prefix INGEST_ over the shared ones (shared/infra/settings.py)."""

from __future__ import annotations

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import SettingsConfigDict

from shared import names
from shared.infra.settings import ServiceSettings


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


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INGEST_")
    service = names.INGEST

    port: int = Field(8001, ge=0, le=65535)
    api_keys: str = ""  # INGEST_API_KEYS="superdesk:KEY1,arc:KEY2"
    max_body_bytes: int = Field(2 * 1024 * 1024, ge=1)
    max_asset_bytes: int = Field(20 * 1024 * 1024, ge=1)  # one pushed media file
    # where the reader-facing site lives: the answer to a post gives the story's page URL
    site_url: str = Field(
        "http://127.0.0.1:8003", validation_alias=AliasChoices("site_url", "PUBLISH_BASE_URL")
    )
    rate_per_second: float = Field(10.0, gt=0)  # sustained posts per second per source
    rate_burst: int = Field(30, ge=1)  # posts a source may send at once

    @field_validator("api_keys")
    @classmethod
    def _keys_parse(cls, value: str) -> str:
        parse_api_keys(value)
        return value

    @property
    def keys(self) -> dict[str, str]:
        return parse_api_keys(self.api_keys)
