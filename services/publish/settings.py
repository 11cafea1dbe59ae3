"""Publish settings: env prefix PUBLISH_ over the shared ones (shared/infra/settings.py)."""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from shared import names
from shared.infra.settings import ServiceSettings

# a service listening on every interface is still reached on loopback from this machine
ANY_ADDRESS = {"", "0.0.0.0", "::", "[::]"}


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PUBLISH_")
    service = names.PUBLISH

    port: int = Field(8003, ge=0, le=65535)
    # the site's address as readers reach it: every absolute URL (canonical links, Open
    # Graph, JSON-LD, feeds, sitemaps, robots.txt, the ninjs API) starts with it; unset,
    # it is http://<host>:<port> (loopback when the host is every interface)
    base_url: str = ""
    site_name: str = "Galley News"
    page_size: int = Field(10, ge=1, le=100)  # stories per feed page
    feed_size: int = Field(30, ge=1, le=200)  # stories per RSS/Atom/JSON feed
    scheduler_poll: float = Field(0.5, gt=0, le=5)  # longest sleep of the release scheduler

    @model_validator(mode="after")
    def _derive_base_url(self) -> Settings:
        if not self.base_url.strip():
            self.base_url = derived_base_url(self.host, self.port)
        self.base_url = self.base_url.strip().rstrip("/")
        return self


def derived_base_url(host: str, port: int) -> str:
    """The site's address when no base URL is set: where the service listens."""
    name = "127.0.0.1" if host.strip() in ANY_ADDRESS else host.strip()
    if ":" in name and not name.startswith("["):
        name = f"[{name}]"  # an IPv6 address
    return f"http://{name}:{port}"
