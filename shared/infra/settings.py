"""The settings every service shares, and the one rule that says where each value comes from.

Each service's settings class derives from `ServiceSettings` and sets its own env prefix
(`INGEST_`, `ENRICHMENT_`, `PUBLISH_`, `WEBHOOKS_`). A value is taken from, first found:

1. the keyword argument given to the settings class (tests);
2. the service's own variable: `<PREFIX><NAME>`, e.g. `ENRICHMENT_REDIS_URL`;
3. the variable every service reads: `REDIS_URL`, `GALLEY_DATA_DIR`,
   `GALLEY_CLAIM_IDLE_MS`, `GALLEY_MAX_DELIVERIES` (`SHARED_ENV`);
4. the default.

So `REDIS_URL` points the whole pipeline at one Redis, and one service can still be
pointed elsewhere. The retention windows (`GALLEY_*_RETENTION_S`, ...) are shared only
(shared/infra/retention.py).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from shared.infra.retention import RetentionSettings

# field -> the variable every service reads for it (below its own <PREFIX><NAME>)
SHARED_ENV: dict[str, str] = {
    "redis_url": "REDIS_URL",
    "data_dir": "GALLEY_DATA_DIR",
    "claim_idle_ms": "GALLEY_CLAIM_IDLE_MS",
    "max_deliveries": "GALLEY_MAX_DELIVERIES",
}


def _environ(name: str) -> str | None:
    """An environment variable, its name in any case (as pydantic-settings reads them)."""
    if name in os.environ:
        return os.environ[name]
    wanted = name.lower()
    return next((v for k, v in os.environ.items() if k.lower() == wanted), None)


class _SharedEnv(PydanticBaseSettingsSource):
    """The variables of SHARED_ENV, for the fields a settings class has."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        env = SHARED_ENV.get(field_name)
        return (_environ(env) if env else None), field_name, False

    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name in self.settings_cls.model_fields:
            value, _, _ = self.get_field_value(self.settings_cls.model_fields[name], name)
            if value is not None:
                found[name] = value
        return found


class ServiceSettings(BaseSettings):
    """Where a service listens, its Redis and data folder, how its consumers retry."""

    model_config = SettingsConfigDict(populate_by_name=True)

    service: ClassVar[str]  # the service's name: its database file is <data_dir>/<service>.db

    host: str = "127.0.0.1"
    port: int = Field(0, ge=0, le=65535)
    redis_url: str = "redis://127.0.0.1:6379/0"
    data_dir: Path = Path("./data")
    # an entry left pending this long (a crashed or failing consumer's) is run again ...
    claim_idle_ms: int = Field(60_000, ge=1)
    # ... and dead-lettered once it has been delivered this many times
    max_deliveries: int = Field(5, ge=1)
    # the longest wait of the outbox relay between attempts while Redis is unreachable
    relay_max_backoff: float = Field(5.0, gt=0)
    # GALLEY_OUTBOX_REPAIR_WINDOW_S, GALLEY_*_RETENTION_S ... (shared/infra/retention.py)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # earlier wins: keyword arguments, <PREFIX><NAME>, the shared variables, .env, secrets
        shared = _SharedEnv(settings_cls)
        return init_settings, env_settings, shared, dotenv_settings, file_secret_settings

    @model_validator(mode="after")
    def _ids_outlast_redelivery(self) -> ServiceSettings:
        """Processed event ids must be kept longer than an entry can be redelivered, or a
        late redelivery would run again."""
        redelivery_s = self.claim_idle_ms / 1000 * self.max_deliveries
        if self.retention.processed_retention_s <= redelivery_s:
            raise ValueError(
                f"GALLEY_PROCESSED_RETENTION_S must exceed {redelivery_s:g} s: the claimer"
                " redelivers an entry for claim_idle_ms x max_deliveries"
            )
        return self

    @property
    def db_path(self) -> Path:
        return self.data_dir / f"{self.service}.db"
