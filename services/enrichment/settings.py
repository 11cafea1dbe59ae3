"""Enrichment settings: env prefix ENRICHMENT_ over the shared ones (shared/infra/settings.py)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared import names
from shared.infra.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ENRICHMENT_", extra="ignore")
    service = names.ENRICHMENT

    port: int = Field(8002, ge=0, le=65535)
