"""Thin edges: the articles.enriched handler and the reader-facing HTTP routes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from faststream.redis import RedisBroker
from pydantic import BaseModel

from shared import names
from shared.envelope import Envelope
from shared.infra.consumer import DeadLetters, Route, StreamConsumer
from shared.infra.db import Database
from shared.infra.problems import Problem
from shared.models import EnrichedArticle, PublishedArticle

from . import domain, formats, i18n
from .domain import Cursor, CursorError
from .formats import FeedInfo, Site
from .store import Page, Store
from .views import Views

# --- the stream ------------------------------------------------------------------


def article_handler(
    store: Callable[[], Store], now: Callable[[], datetime], on_change: Callable[[], None]
) -> Callable[[Envelope[Any]], Any]:
    async def handle(event: Envelope[EnrichedArticle]) -> None:
        article, moment = event.data, now()
        await store().apply(
            event.id, article.uri, lambda state: domain.receive(state, article, moment), moment
        )
        on_change()

    return handle


def register_consumer(
    broker: RedisBroker,
    consumer: str,
    handle: Callable[..., Any],
    dead_letters: Callable[[], DeadLetters],
    *,
    stream: str = names.ARTICLES_ENRICHED,
    route: tuple[str, type[BaseModel]] = (names.ARTICLE_ENRICHED, EnrichedArticle),
    max_records: int = StreamConsumer.max_records,
    db: Callable[[], Database] | None = None,
    after_commit: Callable[[], None] | None = None,
) -> StreamConsumer:
    """The reader and claimer of publish's group on `stream` (`articles.enriched` unless
    told), `handle` taking the events of `route` (event type, payload model), at most
    `max_records` entries per read; with `db`, each read is one batch."""
    event_type, model = route
    stream_consumer = StreamConsumer(
        broker=broker,
        stream=stream,
        group=names.PUBLISH_GROUP,
        consumer=consumer,
        routes={event_type: Route(model, handle)},
        dead_letters=dead_letters,
        max_records=max_records,
        db=db,
        after_commit=after_commit,
    )
    stream_consumer.register()
    return stream_consumer


# --- HTTP ------------------------------------------------------------------------------


def _get(router: APIRouter, path: str, **kwargs: Any) -> Callable[..., Any]:
    """GET routes that answer HEAD too (crawlers and link checkers send it)."""
    return router.api_route(path, methods=["GET", "HEAD"], **kwargs)


def problem(status: int, title: str, detail: str) -> JSONResponse:
    """A problem+json answer for the machine routes (the HTML pages render error.html)."""
    return Problem(status, title.lower().replace(" ", "-"), title, detail).response()


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _cursor(after: str | None) -> Cursor | None:
    return Cursor.decode(after) if after is not None else None


def _more_links(page: Page, html_path: str, query: str = "") -> dict[str, str] | None:
    """The "Show More" link (plain page) and the fragment the script fetches instead."""
    if page.next_cursor is None:
        return None
    token = page.next_cursor.encode()
    return {"href": f"{html_path}?after={token}", "fragment": f"/feed/more?after={token}{query}"}


def site_router(
    views: Views, page_size: int, feed_size: int, now: Callable[[], datetime]
) -> APIRouter:
    router = APIRouter()
    site = views.site

    def bad_cursor(request: Request, exc: CursorError) -> Response:
        return views.render(request, "error.html", 422, title="Invalid page link", message=str(exc))

    def not_found(request: Request, what: str = "page") -> Response:
        return views.render(
            request,
            "error.html",
            404,
            title="Not found",
            message=f"There is no {what} at this address.",
        )

    async def latest(request: Request, limit: int = 8) -> list[Any]:
        return (await _store(request).feed(limit=limit)).items

    @_get(router, "/")
    async def home(request: Request, after: str | None = None) -> Response:
        try:
            page = await _store(request).feed(after=_cursor(after), limit=page_size)
        except CursorError as exc:
            return bad_cursor(request, exc)
        return views.render(
            request,
            "feed.html",
            title=i18n.texts(site.language)["latest_news"],
            page=page,
            more=_more_links(page, "/"),
            canonical=site.url("/"),
            feeds=_feed_links("/feeds"),
        )

    @_get(router, "/feed/more")
    async def more(
        request: Request, after: str, subject: str | None = None, author: str | None = None
    ) -> Response:
        try:
            page = await _store(request).feed(
                after=_cursor(after), limit=page_size, subject=subject, author=author
            )
        except CursorError as exc:
            return problem(422, "Invalid cursor", str(exc))
        path, query = "/", ""
        if subject is not None:
            path, query = f"/subjects/{quote(subject)}", f"&subject={quote(subject)}"
        elif author is not None:
            path, query = f"/authors/{quote(author)}", f"&author={quote(author)}"
        return views.render(request, "_more.html", page=page, more=_more_links(page, path, query))

    @_get(router, "/articles/{slug}")
    async def article_page(request: Request, slug: str) -> Response:
        found = await _store(request).lookup(slug)
        if found is None:
            return not_found(request, "article")
        if found.killed:
            return views.render(request, "gone.html", 410, title="This article was removed")
        if found.moved_to:
            return RedirectResponse(names.article_path(found.moved_to), status_code=301)
        article = found.article
        assert article is not None
        store = _store(request)
        live = await store.live_slugs([r.slug for r in article.related])
        package = None
        if article.type == "composite":
            members = await store.live_by_uris(formats.member_uris(article))
            package = domain.resolve_package(article, members)
        share_image = formats.image_of(article)
        if share_image is None and package is not None and package.main is not None:
            share_image = formats.image_of(package.main)
        return views.render(
            request,
            "article.html",
            lang=article.language,
            text_dir=formats.text_direction(article.language),
            title=article.headline,
            article=article,
            package=package,
            share_image=share_image,
            related=[r for r in article.related if r.slug in live],
            latest=[a for a in await latest(request) if a.uri != article.uri][:6],
            canonical=site.url(article.url),
            json_ld=formats.json_ld(article, site, image=share_image),
        )

    @_get(router, "/authors/{slug}")
    async def author_page(request: Request, slug: str, after: str | None = None) -> Response:
        card = await _store(request).author_card(slug)
        if card is None:
            return not_found(request, "author")
        try:
            page = await _store(request).feed(after=_cursor(after), limit=page_size, author=slug)
        except CursorError as exc:
            return bad_cursor(request, exc)
        base = names.author_path(slug)
        return views.render(
            request,
            "author.html",
            title=card.name,
            card=card,
            page=page,
            more=_more_links(page, base, f"&author={slug}"),
            canonical=site.url(base),
            feeds=_feed_links(base),
        )

    @_get(router, "/subjects/{slug}")
    async def subject_page(request: Request, slug: str, after: str | None = None) -> Response:
        name = await _store(request).subject_name(slug)
        if name is None:
            return not_found(request, "subject")
        try:
            page = await _store(request).feed(after=_cursor(after), limit=page_size, subject=slug)
        except CursorError as exc:
            return bad_cursor(request, exc)
        base = f"/subjects/{slug}"
        return views.render(
            request,
            "subject.html",
            title=name,
            page=page,
            more=_more_links(page, base, f"&subject={slug}"),
            canonical=site.url(base),
            feeds=_feed_links(base),
        )

    @_get(router, "/v1/articles/{slug}")
    async def ninjs(request: Request, slug: str) -> Response:
        found = await _store(request).lookup(slug)
        if found is None:
            return problem(404, "Not found", f"no published article with slug {slug!r}")
        if found.killed:
            return problem(410, "Gone", "this article was removed")
        if found.moved_to:
            return RedirectResponse(f"/v1/articles/{found.moved_to}", status_code=301)
        article = found.article
        assert article is not None
        members = await _members(_store(request), [article])
        return JSONResponse(formats.to_ninjs(article, site, members))

    _feed_routes(router, site, feed_size, now)

    @_get(router, "/sitemap-news.xml")
    async def sitemap(request: Request) -> Response:
        moment = now()
        page = await _store(request).feed(limit=1000, since=domain.news_sitemap_window(moment))
        return Response(formats.news_sitemap(page.items, site), media_type="application/xml")

    @_get(router, "/robots.txt")
    async def robots() -> Response:
        return Response(
            f"User-agent: *\nAllow: /\nSitemap: {site.url('/sitemap-news.xml')}\n",
            media_type="text/plain",
        )

    return router


async def _members(store: Store, items: list[PublishedArticle]) -> dict[str, PublishedArticle]:
    """The live members of the packages among `items` (one query; none without packages)."""
    uris = formats.package_uris(items)
    return await store.live_by_uris(uris) if uris else {}


def _feed_links(base: str) -> dict[str, str]:
    return {"rss": f"{base}/rss.xml", "atom": f"{base}/atom.xml", "json": f"{base}/feed.json"}


def _feed_routes(
    router: APIRouter, site: Site, feed_size: int, now: Callable[[], datetime]
) -> None:
    """RSS 2.0, Atom 1.0 and JSON Feed 1.1: latest, per author, per subject."""

    async def scope(
        request: Request, kind: str, slug: str | None, fmt: str
    ) -> tuple[FeedInfo, Page] | None:
        store = _store(request)
        if kind == "author" and slug is not None:
            card = await store.author_card(slug)
            if card is None:
                return None
            base, title = names.author_path(slug), f"{card.name} – {site.name}"
            page = await store.feed(limit=feed_size, author=slug)
        elif kind == "subject" and slug is not None:
            name = await store.subject_name(slug)
            if name is None:
                return None
            base, title = f"/subjects/{slug}", f"{name} – {site.name}"
            page = await store.feed(limit=feed_size, subject=slug)
        else:
            latest = i18n.texts(site.language)["latest_news"]
            base, title = "/feeds", f"{latest} – {site.name}"
            page = await store.feed(limit=feed_size)
        page_path = "/" if base == "/feeds" else base
        info = FeedInfo(
            title=title,
            page_path=page_path,
            self_path=f"{base}/{fmt}",
            description=f"The latest stories: {title}",
        )
        return info, page

    async def render(request: Request, fmt: str, info: FeedInfo, page: Page) -> Response:
        live = await _members(_store(request), page.items)
        if fmt == "atom.xml":
            return Response(
                formats.atom(page.items, info, site, now(), live), media_type="application/atom+xml"
            )
        if fmt == "feed.json":
            return JSONResponse(
                formats.json_feed(page.items, info, site, live), media_type="application/feed+json"
            )
        return Response(
            formats.rss(page.items, info, site, now(), live), media_type="application/rss+xml"
        )

    formats_ = ("rss.xml", "atom.xml", "feed.json", "feed.xml")

    for fmt in formats_:

        def make(fmt: str = fmt) -> None:
            name = "rss.xml" if fmt == "feed.xml" else fmt

            @_get(router, f"/feeds/{fmt}", name=f"feed-{fmt}")
            async def latest_feed(request: Request) -> Response:
                found = await scope(request, "latest", None, name)
                assert found is not None
                return await render(request, name, *found)

            @_get(router, f"/authors/{{slug}}/{fmt}", name=f"author-feed-{fmt}")
            async def author_feed(request: Request, slug: str) -> Response:
                found = await scope(request, "author", slug, name)
                if found is None:
                    return problem(404, "Not found", f"no author {slug!r}")
                return await render(request, name, *found)

            @_get(router, f"/subjects/{{slug}}/{fmt}", name=f"subject-feed-{fmt}")
            async def subject_feed(request: Request, slug: str) -> Response:
                found = await scope(request, "subject", slug, name)
                if found is None:
                    return problem(404, "Not found", f"no subject {slug!r}")
                return await render(request, name, *found)

        make()
