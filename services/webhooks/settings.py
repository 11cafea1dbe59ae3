"""Webhooks settings: env prefix WEBHOOKS_ over the shared ones (shared/infra/settings.py)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from shared import names
from shared.infra.settings import ServiceSettings

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


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WEBHOOKS_")
    service = names.WEBHOOKS

    port: int = Field(8004, ge=0, le=65535)
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
