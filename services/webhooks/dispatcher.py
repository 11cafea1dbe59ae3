"""The delivery loop: picks due deliveries and makes one signed attempt each.

Each subscription has at most one attempt in flight (so an article's versions
reach a subscriber in order) and attempts to different subscriptions run side
by side, up to `max_in_flight`: a slow or dead endpoint only ever holds its own
slot. Every attempt re-checks the URL with the SSRF guard and connects to the
address it checked; redirects are never followed.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import httpx

from services.webhooks import domain, ssrf
from services.webhooks.settings import Settings
from services.webhooks.store import Due, Outcome, Store

log = logging.getLogger("galley.webhooks")

USER_AGENT = "galley-webhooks/0.1"
LEASE_MARGIN = 30.0  # seconds beyond the HTTP timeout before a crashed attempt is retaken


@dataclass(frozen=True)
class Response:
    status: int | None  # None: no HTTP answer (refused, connection error, timeout)
    error: str | None = None
    retry_after: str | None = None


class Sender(Protocol):
    async def send(self, target: ssrf.Target, headers: dict[str, str], body: str) -> Response: ...


def pinned_url(target: ssrf.Target) -> str:
    """The URL with its host replaced by the checked address."""
    parts = httpx.URL(target.url)
    return str(parts.copy_with(host=target.address))


class HttpSender:
    """POSTs with httpx to the checked address; never follows redirects, never reads bodies."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def send(self, target: ssrf.Target, headers: dict[str, str], body: str) -> Response:
        host = httpx.URL(target.url).netloc.decode("ascii")
        request = self._client.build_request(
            "POST",
            pinned_url(target),
            content=body.encode(),
            headers={**headers, "host": host, "user-agent": USER_AGENT},
            extensions={"sni_hostname": target.host},
        )
        try:
            response = await self._client.send(request, stream=True, follow_redirects=False)
            await response.aclose()
        except httpx.TimeoutException:
            return Response(None, "timeout")
        except httpx.HTTPError as exc:
            return Response(None, f"{type(exc).__name__}: {exc}"[:500])
        return Response(response.status_code, retry_after=response.headers.get("retry-after"))


class Dispatcher:
    def __init__(
        self,
        store: Store,
        sender: Sender,
        settings: Settings,
        *,
        resolver: ssrf.Resolver = ssrf.system_resolver,
        now: Callable[[], datetime],
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._store = store
        self._sender = sender
        self._settings = settings
        self._resolver = resolver
        self._now = now
        self._rand = rand
        self._busy: set[str] = set()  # subscriptions with an attempt in flight
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()

    def notify(self) -> None:
        """Look for due deliveries now (new events, a redelivery, a finished attempt)."""
        self._wake.set()

    async def run(self) -> None:
        try:
            while True:
                self._wake.clear()
                try:
                    await self.dispatch_once()
                except Exception:
                    log.exception("webhook dispatcher: picking due deliveries failed")
                try:
                    await asyncio.wait_for(self._wake.wait(), self._settings.poll_interval)
                except TimeoutError:
                    pass
        finally:
            await self.stop()

    async def stop(self) -> None:
        """Cancel attempts in flight; their deliveries stay pending and run after a restart."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def dispatch_once(self) -> int:
        """Start an attempt for each due delivery whose endpoint is free; returns how many."""
        free = self._settings.max_in_flight - len(self._busy)
        if free <= 0:
            return 0
        started = 0
        now = self._now()
        for due in await self._store.due(now, limit=free * 4):
            if due.subscription_id in self._busy:
                continue
            if not await self._store.lease(due, now, self._settings.timeout + LEASE_MARGIN):
                continue  # another replica took it
            self._busy.add(due.subscription_id)
            task = asyncio.create_task(self._run_attempt(due))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            started += 1
            if started >= free:
                break
        return started

    async def _run_attempt(self, due: Due) -> None:
        try:
            await self.attempt(due)
        except asyncio.CancelledError:
            await asyncio.shield(self._store.release(due))
            raise
        except Exception:
            log.exception("webhook attempt %s failed unexpectedly", due.id)
        finally:
            self._busy.discard(due.subscription_id)
            self.notify()

    async def attempt(self, due: Due) -> Outcome:
        """One signed POST (or a refusal without any connection), recorded in the log."""
        started = self._now()
        response = await self._post(due, started)
        finished = self._now()
        outcome = self.judge(due, response, finished)
        await self._store.record_attempt(due, outcome, finished)
        log.info(
            "webhook %s to %s: %s (%s)",
            due.id,
            due.subscription_id,
            outcome.state,
            outcome.error or outcome.status,
        )
        return outcome

    async def _post(self, due: Due, now: datetime) -> Response:
        try:
            target = await ssrf.check(
                due.url, self._resolver, allow_loopback=self._settings.allow_loopback
            )
        except (ssrf.BadURL, ssrf.RefusedAddress) as exc:
            return Response(None, f"refused by the SSRF guard: {exc}")
        timestamp = int(now.timestamp())  # fresh on every attempt
        headers = domain.headers(due.secret, due.id, timestamp, due.body)
        return await self._sender.send(target, headers, due.body)

    def judge(self, due: Due, response: Response, now: datetime) -> Outcome:
        error = domain.describe(response.status, response.error)
        verdict = domain.verdict(response.status)
        if verdict == "delivered":
            return Outcome(response.status, None, "delivered", None)
        if verdict == "disable":
            return Outcome(response.status, "HTTP 410 Gone: endpoint disabled", "disabled", None)
        retry_after = (
            domain.retry_after_seconds(response.retry_after, now)
            if response.status in (429, 503)
            else None
        )
        next_at = domain.next_attempt_at(
            due.attempts + 1 - due.round_start,
            self._settings.retry_schedule,
            now,
            jitter=self._settings.jitter,
            rand=self._rand,
            retry_after=retry_after,
        )
        return Outcome(response.status, error, "pending" if next_at else "failed", next_at)
