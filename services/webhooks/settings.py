"""Settings of the webhooks service (env prefix WEBHOOKS_)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from shared.infra.retention import RetentionSettings

# Upper bounds of the waits between attempts (seconds); jitter only shortens them,
# so the last retry happens at most ~3 days after the first attempt.
DEFAULT_RETRY_SCHEDULE = (
    5.0,
    300.0,
    1800.0,
    7200.0,
    18000.0,
    36000.0,
    50400.0,
    72000.0,
    72000.0,
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WEBHOOKS_", populate_by_name=True)

    host: str = "127.0.0.1"
    port: int = 8004
    redis_url: str = Field(
        "redis://127.0.0.1:6379/0", validation_alias=AliasChoices("REDIS_URL", "redis_url")
    )
    data_dir: Path = Field(
        Path("./data"), validation_alias=AliasChoices("GALLEY_DATA_DIR", "data_dir")
    )
    # The subscriptions API (register, list, delete, redeliver) wants
    # `Authorization: Bearer <admin_key>`; with no key set, loopback clients only.
    admin_key: str = ""
    # Allow loopback receivers (127.0.0.0/8, ::1) only; private and metadata stay refused.
    allow_loopback: bool = False
    timeout: float = Field(10.0, gt=0)  # per attempt, connect + read
    retry_schedule: Annotated[tuple[float, ...], NoDecode] = DEFAULT_RETRY_SCHEDULE
    jitter: float = Field(0.2, ge=0, lt=1)  # each wait is drawn from [d*(1-jitter), d]
    max_in_flight: int = Field(32, ge=1)  # all endpoints together; one per endpoint
    poll_interval: float = Field(0.5, gt=0)  # dispatcher wake-up when idle
    claim_idle_ms: int = 60_000  # stream entries left pending this long are re-run
    # GALLEY_PROCESSED_RETENTION_S, GALLEY_DLQ_RETENTION_S ... (shared/infra/retention.py)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)

    @field_validator("retry_schedule", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(float(part) for part in value.split(",") if part.strip())
        return value

    @field_validator("retry_schedule")
    @classmethod
    def _non_negative(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if any(d < 0 for d in value):
            raise ValueError("retry delays must be >= 0")
        return value

    @property
    def db_path(self) -> Path:
        return self.data_dir / "webhooks.db"
