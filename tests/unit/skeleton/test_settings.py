"""One precedence rule for every service's settings (shared/infra/settings.py)."""

from __future__ import annotations

import pytest

from services.enrichment.settings import Settings as EnrichmentSettings
from services.ingest.settings import Settings as IngestSettings
from services.publish.settings import Settings as PublishSettings
from services.webhooks.settings import Settings as WebhooksSettings
from shared.infra.settings import SHARED_ENV, ServiceSettings

ALL = (IngestSettings, EnrichmentSettings, PublishSettings, WebhooksSettings)
PREFIX = {
    IngestSettings: "INGEST_",
    EnrichmentSettings: "ENRICHMENT_",
    PublishSettings: "PUBLISH_",
    WebhooksSettings: "WEBHOOKS_",
}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in SHARED_ENV.values():
        monkeypatch.delenv(variable, raising=False)
    for prefix in PREFIX.values():
        for name in ("REDIS_URL", "DATA_DIR", "CLAIM_IDLE_MS", "MAX_DELIVERIES"):
            monkeypatch.delenv(prefix + name, raising=False)


@pytest.mark.parametrize("settings_cls", ALL)
def test_every_service_takes_the_shared_variables(
    settings_cls: type[ServiceSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://shared:6379/0")
    monkeypatch.setenv("GALLEY_DATA_DIR", "/srv/galley")
    monkeypatch.setenv("GALLEY_CLAIM_IDLE_MS", "300")
    monkeypatch.setenv("GALLEY_MAX_DELIVERIES", "2")
    settings = settings_cls()
    assert settings.redis_url == "redis://shared:6379/0"
    assert str(settings.data_dir) == "/srv/galley"
    assert (settings.claim_idle_ms, settings.max_deliveries) == (300, 2)
    assert settings.db_path.name == f"{settings.service}.db"


@pytest.mark.parametrize("settings_cls", ALL)
def test_a_services_own_variable_wins_over_the_shared_one_and_an_argument_over_both(
    settings_cls: type[ServiceSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = PREFIX[settings_cls]
    monkeypatch.setenv("REDIS_URL", "redis://shared:6379/0")
    monkeypatch.setenv(f"{prefix}REDIS_URL", "redis://own:6379/0")
    monkeypatch.setenv("GALLEY_CLAIM_IDLE_MS", "300")
    monkeypatch.setenv(f"{prefix}CLAIM_IDLE_MS", "700")
    assert settings_cls().redis_url == "redis://own:6379/0"
    assert settings_cls().claim_idle_ms == 700
    assert settings_cls(redis_url="redis://given:6379/0").redis_url == "redis://given:6379/0"


def test_without_any_variable_the_defaults_hold() -> None:
    settings = EnrichmentSettings()
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert (settings.claim_idle_ms, settings.max_deliveries, settings.port) == (60_000, 5, 8002)


def test_a_bad_shared_value_is_refused_with_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GALLEY_MAX_DELIVERIES", "0")
    with pytest.raises(ValueError, match="max_deliveries"):
        WebhooksSettings()


def test_shared_variables_are_read_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("redis_url", "redis://lower:6379/0")
    assert IngestSettings().redis_url == "redis://lower:6379/0"


def test_a_port_out_of_range_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INGEST_PORT", "70000")
    with pytest.raises(ValueError, match="port"):
        IngestSettings()
