"""Thin edges: the articles.enriched handler and the reader-facing HTTP routes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from services.publish import domain, formats, i18n
from services.publish.domain import Cursor, CursorError
from services.publish.formats import FeedInfo, Site
from services.publish.safety import safe_article
from services.publish.store import Page, Store
from services.publish.views import Views
from shared import names
from shared.envelope import Envelope
from shared.infra.problems import Problem
from shared.models import EnrichedArticle, PublishedArticle

# --- the stream ------------------------------------------------------------------


def article_handler(
    store: Callable[[], Store], now: Callable[[], datetime], on_change: Callable[[], None]
) -> Callable[[Envelope[Any]], Any]:
    async def handle(event: Envelope[EnrichedArticle]) -> None:
        article, moment = safe_article(event.data), now()
        await store().apply(
            event.id, article.uri, lambda state: domain.receive(state, article, moment), moment
        )
        on_change()

    return handle


# --- HTTP ------------------------------------------------------------------------------


def _get(router: APIRouter, path: str, **kwargs: Any) -> Callable[..., Any]:
    """GET routes that answer HEAD too (crawlers and link checkers send it)."""
    return router.api_route(path, methods=["GET", "HEAD"], **kwargs)


def _query(request: Request) -> str:
    """The request's query string with its `?`, or nothing."""
    return f"?{request.url.query}" if request.url.query else ""


def problem(status: int, title: str, detail: str) -> JSONResponse:
    """A problem+json answer for the machine routes (the HTML pages render error.html)."""
    return Problem(status, title.lower().replace(" ", "-"), title, detail).response()


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _cursor(after: str | None) -> Cursor | None:
    return Cursor.decode(after) if after is not None else None


SIDEBAR_SIZE = 6  # stories in an article page's "News Feed"
NEWS_SITEMAP_MAX = 1000  # Google News reads at most 1,000 URLs per news sitemap
ARCHIVE_SITEMAP = "/sitemaps/articles-{n}.xml"


def _more_links(cursor: Cursor | None, html_path: str, query: str = "") -> dict[str, str] | None:
    """The "Show More" link (the next page, a plain link that works without script) and
    the fragment the script fetches instead; None on the last page."""
    if cursor is None:
        return None
    token = cursor.encode()
    return {"href": f"{html_path}?after={token}", "fragment": f"/feed/more?after={token}{query}"}


def _cursor_after(item: PublishedArticle) -> Cursor:
    """The feed position right after `item` (the next page starts below it)."""
    return Cursor(domain.sort_key(item.published_at), item.uri)


async def _sidebar(store: Store, current: str) -> tuple[list[PublishedArticle], Cursor | None]:
    """The article page's "News Feed": the latest stories but the page's own, and where
    the front page's next page starts after them (None when there is nothing more)."""
    page = await store.feed(limit=SIDEBAR_SIZE + 1)
    others = [a for a in page.items if a.uri != current]
    shown = others[:SIDEBAR_SIZE]
    more = page.next_cursor is not None or len(others) > SIDEBAR_SIZE
    return shown, (_cursor_after(shown[-1]) if shown and more else None)


def site_router(
    views: Views, page_size: int, feed_size: int, now: Callable[[], datetime]
) -> APIRouter:
    router = APIRouter()
    site = views.site
    texts = i18n.texts(site.language)

    def bad_cursor(request: Request, exc: CursorError) -> Response:
        return views.render(
            request,
            "error.html",
            422,
            title="Invalid page link",
            message=str(exc),
            description=f"Invalid page link: {exc}",
        )

    def not_found(request: Request, what: str = "page") -> Response:
        message = f"There is no {what} at this address."
        return views.render(
            request, "error.html", 404, title="Not found", message=message, description=message
        )

    @_get(router, "/")
    async def home(request: Request, after: str | None = None) -> Response:
        try:
            page = await _store(request).feed(after=_cursor(after), limit=page_size)
        except CursorError as exc:
            return bad_cursor(request, exc)
        return views.render(
            request,
            "feed.html",
            title=texts["latest_news"],
            description=texts["feed_description"].format(site=site.name),
            page=page,
            more=_more_links(page.next_cursor, "/"),
            canonical=site.url("/"),
            feeds=_feed_links("/feeds"),
        )

    @_get(router, "/feed/more")
    async def more(
        request: Request,
        after: str,
        subject: str | None = None,
        author: str | None = None,
        view: Literal["page", "sidebar"] = "page",
    ) -> Response:
        """The next page of a list as a fragment: the items (headings at the level of the
        page's list: h3 under the author page's and the sidebar's h2, else h2) and the
        link to the page after it."""
        try:
            page = await _store(request).feed(
                after=_cursor(after), limit=page_size, subject=subject, author=author
            )
        except CursorError as exc:
            return problem(422, "Invalid cursor", str(exc))
        path, query, level = "/", "", 2
        if subject is not None:
            path, query = f"/subjects/{quote(subject)}", f"&subject={quote(subject)}"
        elif author is not None:
            path, query, level = f"/authors/{quote(author)}", f"&author={quote(author)}", 3
        elif view == "sidebar":
            query, level = "&view=sidebar", 3
        return views.render(
            request,
            "_more.html",
            page=page,
            more=_more_links(page.next_cursor, path, query),
            level=level,
            compact=view == "sidebar",
        )

    @_get(router, "/articles/{slug}")
    async def article_page(request: Request, slug: str) -> Response:
        found = await _store(request).lookup(slug)
        if found is None:
            return not_found(request, "article")
        if found.killed:
            return views.render(
                request,
                "gone.html",
                410,
                title="This article was removed",
                description=texts["gone_description"],
            )
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
        latest, after = await _sidebar(store, article.uri)
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
            latest=latest,
            sidebar_more=_more_links(after, "/", "&view=sidebar"),
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
            description=_shorten(card.bio or "", 200)
            or texts["author_description"].format(name=card.name, site=site.name),
            card=card,
            page=page,
            more=_more_links(page.next_cursor, base, f"&author={slug}"),
            canonical=site.url(base),
            feeds=_feed_links(base),
        )

    @_get(router, "/subjects/{slug}")
    async def subject_page(request: Request, slug: str, after: str | None = None) -> Response:
        name = await _store(request).subject_name(slug)
        if name is None:
            if moved := await _store(request).subject_moved(slug):
                return RedirectResponse(f"/subjects/{moved}{_query(request)}", 301)
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
            description=texts["subject_description"].format(name=name, site=site.name),
            page=page,
            more=_more_links(page.next_cursor, base, f"&subject={slug}"),
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

    @_get(router, "/v1/published")
    async def published(request: Request, after: str | None = None, limit: int = 100) -> Response:
        """Every live article's current version (PublishedArticle), newest first, a page at
        a time: what `galley replay` lists for the stories articles.published no longer
        holds (it keeps GALLEY_PUBLISHED_RETENTION_S)."""
        try:
            page = await _store(request).feed(after=_cursor(after), limit=max(1, min(limit, 500)))
        except CursorError as exc:
            return problem(422, "Invalid cursor", str(exc))
        return JSONResponse(
            {
                "items": [item.model_dump(mode="json") for item in page.items],
                "next": page.next_cursor.encode() if page.next_cursor else None,
            }
        )

    _feed_routes(router, site, feed_size, now)
    _sitemap_routes(router, site, now)
    return router


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _sitemap_routes(router: APIRouter, site: Site, now: Callable[[], datetime]) -> None:
    """The archive (a sitemap index and its files of at most 50,000 URLs, oldest stories
    first, so a file's content changes only at the end of the archive), the Google News
    sitemap of the last two days, and robots.txt naming both."""
    size = formats.SITEMAP_MAX_URLS

    def xml(body: bytes) -> Response:
        return Response(body, media_type="application/xml")

    @_get(router, "/sitemap.xml")
    async def sitemap_index(request: Request) -> Response:
        chunks = await _store(request).sitemap_chunks(size)
        files = [(ARCHIVE_SITEMAP.format(n=c.number), c.lastmod) for c in chunks]
        return xml(formats.sitemap_index(files, site))

    @_get(router, "/sitemaps/articles-{number}.xml")
    async def sitemap_file(request: Request, number: str) -> Response:
        if not number.isdigit() or int(number) < 1:
            return problem(404, "Not found", f"no sitemap file {number!r}")
        entries = await _store(request).sitemap_entries(int(number), size)
        if not entries and number != "1":
            return problem(404, "Not found", f"no sitemap file {number!r}")
        urls = [(names.article_path(e.slug), domain.w3c_datetime(e.modified)) for e in entries]
        # up to 50,000 URLs: written off the event loop
        return xml(await asyncio.to_thread(formats.sitemap_urls, urls, site))

    @_get(router, "/sitemap-news.xml")
    async def news_sitemap(request: Request) -> Response:
        moment = now()
        page = await _store(request).feed(
            limit=NEWS_SITEMAP_MAX, since=domain.news_sitemap_window(moment)
        )
        return xml(formats.news_sitemap(page.items, site))

    @_get(router, "/robots.txt")
    async def robots() -> Response:
        return Response(
            "User-agent: *\nAllow: /\n"
            f"Sitemap: {site.url('/sitemap.xml')}\n"
            f"Sitemap: {site.url('/sitemap-news.xml')}\n",
            media_type="text/plain",
        )


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
        store = _store(request)
        live = await _members(store, page.items)
        # the feed's own date is that of the newest change (a feed read twice with nothing
        # changed is the same bytes, so its ETag holds); `now` only before any story
        changed = await store.last_change() or now()
        if fmt == "atom.xml":
            return Response(
                formats.atom(page.items, info, site, changed, live),
                media_type="application/atom+xml",
            )
        if fmt == "feed.json":
            return JSONResponse(
                formats.json_feed(page.items, info, site, live), media_type="application/feed+json"
            )
        return Response(
            formats.rss(page.items, info, site, changed, live), media_type="application/rss+xml"
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
                    if moved := await _store(request).subject_moved(slug):
                        return RedirectResponse(f"/subjects/{moved}/{fmt}", 301)
                    return problem(404, "Not found", f"no subject {slug!r}")
                return await render(request, name, *found)

        make()
