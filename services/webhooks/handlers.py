"""HTTP routes (subscriptions, delivery log, redelivery) and the stream handler."""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from services.webhooks import domain, ssrf
from services.webhooks.store import Store, new_id
from shared import names
from shared.envelope import Envelope
from shared.infra.problems import Problem
from shared.models import PublishedArticle

PublishedType = Literal[names.PUBLISHED_EVENT_TYPES]  # type: ignore[valid-type]
DeliveryState = Literal["pending", "delivered", "failed", "disabled"]


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=ssrf.MAX_URL_LENGTH)
    event_types: list[PublishedType] = Field(
        default_factory=lambda: list(names.PUBLISHED_EVENT_TYPES), min_length=1
    )
    subject_filter: str | None = Field(default=None, min_length=1, max_length=1000)


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _wake_dispatcher(request: Request) -> None:
    """Deliveries were queued: the dispatcher (app.state.dispatcher, when running) looks now."""
    dispatcher = getattr(request.app.state, "dispatcher", None)
    if dispatcher is not None:
        dispatcher.notify()


def _not_found(what: str) -> Problem:
    return Problem(404, "not-found", "Not found", f"no {what} with that id")


def admin_guard(admin_key: str) -> Callable[[Request], None]:
    """The subscriptions API is the operator's: a bearer admin key, or with none
    configured, loopback clients only (as ingest does without API keys)."""

    def check(request: Request) -> None:
        if not admin_key:
            host = request.client.host if request.client else ""
            try:
                local = ipaddress.ip_address(host).is_loopback
            except ValueError:
                local = False
            if not local:
                raise Problem(
                    403,
                    "loopback-only",
                    "Forbidden",
                    "WEBHOOKS_ADMIN_KEY is not set, so only loopback clients may"
                    " manage subscriptions",
                )
            return
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.strip().encode(), admin_key.encode()
        ):
            raise Problem(
                401,
                "unauthorized",
                "Unauthorized",
                "send the admin key as 'Authorization: Bearer <WEBHOOKS_ADMIN_KEY>'",
                headers={"WWW-Authenticate": 'Bearer realm="galley-webhooks"'},
            )

    return check


def make_router(
    *,
    now: Callable[[], datetime],
    resolver: ssrf.Resolver,
    allow_loopback: bool,
    admin_key: str = "",
) -> APIRouter:
    router = APIRouter(
        prefix="/v1/subscriptions",
        tags=["subscriptions"],
        dependencies=[Depends(admin_guard(admin_key))],
    )

    @router.post("", status_code=201)
    async def register(body: SubscriptionIn, request: Request) -> dict[str, Any]:
        try:
            await ssrf.check(body.url, resolver, allow_loopback=allow_loopback)
        except ssrf.BadURL as exc:
            raise Problem(422, "invalid-url", "Invalid webhook URL", str(exc)) from None
        except ssrf.RefusedAddress as exc:
            raise Problem(400, "url-refused", "Webhook URL refused", str(exc)) from None
        sub = domain.Subscription(
            id=new_id("sub"),
            url=body.url,
            event_types=tuple(dict.fromkeys(body.event_types)),
            subject_filter=body.subject_filter,
        )
        secret = domain.new_secret(secrets.token_bytes(32))
        store = _store(request)
        await store.add_subscription(sub, secret, now())
        created = await store.subscription(sub.id)
        return {**(created or {}), "secret": secret}  # the only time the secret is shown

    @router.get("")
    async def list_all(request: Request) -> list[dict[str, Any]]:
        return await _store(request).subscriptions()

    @router.get("/{sub_id}")
    async def get_one(sub_id: str, request: Request) -> dict[str, Any]:
        found = await _store(request).subscription(sub_id)
        if found is None:
            raise _not_found("subscription")
        return found

    @router.delete("/{sub_id}", status_code=204)
    async def delete(sub_id: str, request: Request) -> Response:
        if not await _store(request).delete_subscription(sub_id):
            raise _not_found("subscription")
        return Response(status_code=204)

    @router.post("/{sub_id}/enable")
    async def enable(sub_id: str, request: Request) -> dict[str, Any]:
        store = _store(request)
        if not await store.enable_subscription(sub_id):
            raise _not_found("subscription")
        _wake_dispatcher(request)
        return await store.subscription(sub_id) or {}

    @router.get("/{sub_id}/deliveries")
    async def log(
        sub_id: str,
        request: Request,
        state: DeliveryState | None = None,
        limit: int = Query(100, ge=1, le=1000),
    ) -> list[dict[str, Any]]:
        store = _store(request)
        if await store.subscription(sub_id) is None:
            raise _not_found("subscription")
        return await store.deliveries(sub_id, state=state, limit=limit)

    @router.post("/{sub_id}/deliveries/redeliver-failed", status_code=202)
    async def redeliver_failed(sub_id: str, request: Request) -> dict[str, int]:
        store = _store(request)
        if await store.subscription(sub_id) is None:
            raise _not_found("subscription")
        count = await store.redeliver(sub_id, now())
        _wake_dispatcher(request)
        return {"queued": count}

    @router.post("/{sub_id}/deliveries/{delivery_id}/redeliver", status_code=202)
    async def redeliver(sub_id: str, delivery_id: str, request: Request) -> dict[str, Any]:
        store = _store(request)
        current = await store.delivery(sub_id, delivery_id)
        if current is None:
            raise _not_found("delivery")
        if current["state"] == "pending":
            raise Problem(
                409, "already-pending", "Already pending", "this delivery is already queued"
            )
        await store.redeliver(sub_id, now(), delivery_id)
        _wake_dispatcher(request)
        return await store.delivery(sub_id, delivery_id) or {}

    return router


def make_on_published(
    store: Store, notify: Callable[[], None], now: Callable[[], datetime]
) -> Callable[[Envelope[PublishedArticle]], Awaitable[None]]:
    """Stream handler: record the event once and queue a delivery per recipient."""

    async def on_published(event: Envelope[PublishedArticle]) -> None:
        queued = await store.accept_event(
            event.id,
            event.type,
            event.subject,
            lambda: domain.event_body(event.model_dump(mode="json", exclude_none=True)),
            now(),
            lambda subs, received: domain.recipients(subs, event.type, event.subject, received),
        )
        if queued:
            notify()

    return on_published
