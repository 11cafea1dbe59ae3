"""Enrichment settings (env prefix ENRICHMENT_; REDIS_URL and GALLEY_DATA_DIR shared)."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.infra.retention import RetentionSettings


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ENRICHMENT_", extra="ignore", populate_by_name=True
    )

    host: str = "127.0.0.1"
    port: int = 8002
    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0",
        validation_alias=AliasChoices("REDIS_URL", "ENRICHMENT_REDIS_URL"),
    )
    data_dir: Path = Field(
        default=Path("./data"),
        validation_alias=AliasChoices("GALLEY_DATA_DIR", "ENRICHMENT_DATA_DIR"),
    )
    claim_idle_ms: int = 60_000
    max_deliveries: int = 5
    # GALLEY_OUTBOX_REPAIR_WINDOW_S, GALLEY_*_RETENTION_S ... (shared/infra/retention.py)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)

    @property
    def db_path(self) -> Path:
        return self.data_dir / "enrichment.db"
