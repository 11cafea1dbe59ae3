"""Settings parsing and the pinned request URL."""

from __future__ import annotations

import pytest

from services.webhooks.dispatcher import pinned_url
from services.webhooks.settings import DEFAULT_RETRY_SCHEDULE, Settings
from services.webhooks.ssrf import Target


def test_the_retry_schedule_is_read_from_a_comma_separated_env_var(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WEBHOOKS_RETRY_SCHEDULE", "0.05, 0.1,0.2")
    monkeypatch.setenv("WEBHOOKS_ALLOW_LOOPBACK", "true")
    settings = Settings()
    assert settings.retry_schedule == (0.05, 0.1, 0.2)
    assert settings.allow_loopback is True
    assert Settings(retry_schedule=DEFAULT_RETRY_SCHEDULE).retry_schedule == DEFAULT_RETRY_SCHEDULE


def test_a_negative_retry_delay_is_refused() -> None:
    with pytest.raises(ValueError, match="retry delays"):
        Settings(retry_schedule="1,-2")


@pytest.mark.parametrize(
    "url, address, pinned",
    [
        ("https://partner.example/hook?a=1", "93.184.215.14", "https://93.184.215.14/hook?a=1"),
        ("http://partner.example:8080/h", "2606:2800::1", "http://[2606:2800::1]:8080/h"),
    ],
)
def test_the_request_goes_to_the_checked_address(url: str, address: str, pinned: str) -> None:
    target = Target(url=url, host="partner.example", port=0, address=address)
    assert pinned_url(target) == pinned
