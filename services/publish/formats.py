"""Machine formats of published articles: ninjs 2.2, JSON-LD, RSS, Atom, JSON Feed, sitemap.

Pure functions of the articles and a `Site` (base URL and name). XML is built
with ElementTree, so every text and attribute is escaped by the serializer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from xml.etree import ElementTree as ET

from shared.models import PublishedArticle

from .domain import reading_time, slugify

NINJS_SCHEMA_URI = "https://www.iptc.org/std/ninjs/ninjs-schema_2.2.json"
GALLEY = "galley"  # prefix of galley's own roles in ninjs descriptions / altids


@dataclass(frozen=True)
class Site:
    base_url: str
    name: str = "Galley News"
    language: str = "en"

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def updated_at(article: PublishedArticle) -> datetime:
    return max(t for t in (article.published_at, article.versioncreated) if t is not None)


def summary(article: PublishedArticle, limit: int = 280) -> str:
    text = article.subheadline or article.body_text or ""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


# --- ninjs 2.2 -----------------------------------------------------------------


def _drop_none(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if v not in (None, [], "")}


def _author_association(index: int, card: Any, site: Site) -> dict[str, Any]:
    return _drop_none({
        "name": f"author-{index}",
        "uri": site.url(card.url) if card.url else f"urn:{GALLEY}:author:{slugify(card.name)}",
        "type": "text",
        "title": card.name,
        "slugline": card.slug,
        "descriptions": [d for d in (
            {"role": f"{GALLEY}:author-role", "value": card.role} if card.role else None,
            {"role": f"{GALLEY}:author-bio", "value": card.bio} if card.bio else None,
        ) if d],
        "renditions": [{"name": "avatar", "href": card.avatar_url}] if card.avatar_url else [],
    })


def _related_association(index: int, link: Any, site: Site) -> dict[str, Any]:
    return {
        "name": f"related-{index}",
        "uri": link.uri,
        "type": "text",
        "representationtype": "partial",
        "headlines": [{"role": "main", "value": link.headline}],
        "slugline": link.slug,
        "renditions": [{"name": "web", "href": site.url(link.url), "contenttype": "text/html"}],
    }


def _featuremedia(article: PublishedArticle) -> dict[str, Any] | None:
    image = article.lead_image
    if image is None:
        return None
    rendition = _drop_none({"name": "original", "href": image.href, "contenttype":
                            image.contenttype, "width": image.width, "height": image.height})
    original = next((a for a in article.ninjs.get("associations", [])
                     if isinstance(a, dict) and a.get("name") == "featuremedia"), {})
    uri = original.get("uri") if isinstance(original.get("uri"), str) else image.href
    return _drop_none({
        "name": "featuremedia", "uri": uri, "type": "picture", "by": image.credit,
        "descriptions": [d for d in (
            {"role": "caption", "value": image.caption} if image.caption else None,
            {"role": "alt", "value": image.alt} if image.alt else None) if d],
        "renditions": [rendition],
    })


def to_ninjs(article: PublishedArticle, site: Site) -> dict[str, Any]:
    """The article as ninjs 2.2; galley's extras live in documented ninjs places."""
    headlines = [{"role": "main", "value": article.headline}]
    if article.subheadline:
        headlines.append({"role": "sub", "value": article.subheadline})
    descriptions = [{"role": f"{GALLEY}:reading-time", "contenttype": "text/plain",
                     "value": reading_time(article.reading_minutes)}]
    if article.correction:
        descriptions.append({"role": f"{GALLEY}:correction", "contenttype": "text/plain",
                             "value": article.correction})
    associations = [a for a in (_featuremedia(article),) if a]
    associations += [_author_association(i, c, site) for i, c in enumerate(article.authors, 1)]
    associations += [_related_association(i, r, site) for i, r in enumerate(article.related, 1)]
    return _drop_none({
        "standard": {"name": "ninjs", "version": "2.2", "schema": NINJS_SCHEMA_URI},
        "uri": article.uri,
        "type": "text",
        "representationtype": "full",
        "version": str(article.version),
        "firstcreated": iso(article.firstcreated),
        "versioncreated": iso(article.versioncreated or article.published_at),
        "embargoed": iso(article.embargoed),
        "pubstatus": "usable",
        "language": article.language,
        "slugline": article.slug,
        "headlines": headlines,
        "by": article.byline or ", ".join(a.name for a in article.authors) or None,
        "people": [_drop_none({"name": a.name, "rel": "author",
                               "uri": site.url(a.url) if a.url else None})
                   for a in article.authors],
        "subjects": [{"name": s, "uri": site.url(f"/subjects/{slugify(s)}")}
                     for s in article.subjects if slugify(s)],
        "genres": [{"name": g} for g in article.genres],
        "bodies": [{"role": "main", "contenttype": "text/html", "value": article.body_html,
                    "wordcount": article.word_count}],
        "descriptions": descriptions,
        "associations": associations,
        "altids": [
            {"role": f"{GALLEY}:url", "value": site.url(article.url)},
            {"role": f"{GALLEY}:published-at", "value": iso(article.published_at)},
            {"role": f"{GALLEY}:reading-minutes", "value": str(article.reading_minutes)},
            {"role": f"{GALLEY}:enrichment-revision",
             "value": str(article.enrichment_revision)},
        ],
        "renditions": [{"name": "web", "href": site.url(article.url),
                        "contenttype": "text/html"}],
    })


# --- schema.org JSON-LD ----------------------------------------------------------


def json_ld(article: PublishedArticle, site: Site) -> str:
    """NewsArticle JSON-LD, safe to embed in a <script> element."""
    doc = _drop_none({
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "mainEntityOfPage": site.url(article.url),
        "headline": article.headline[:110],
        "description": summary(article),
        "image": [article.lead_image.href] if article.lead_image else [],
        "datePublished": iso(article.published_at),
        "dateModified": iso(updated_at(article)),
        "inLanguage": article.language,
        "wordCount": article.word_count,
        "timeRequired": f"PT{max(1, article.reading_minutes)}M",
        "keywords": article.subjects,
        "author": [_drop_none({"@type": "Person", "name": a.name, "jobTitle": a.role,
                               "url": site.url(a.url) if a.url else None})
                   for a in article.authors],
        "publisher": {"@type": "Organization", "name": site.name, "url": site.url("/")},
    })
    text = json.dumps(doc, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# --- feeds ---------------------------------------------------------------------------

ATOM_NS = "http://www.w3.org/2005/Atom"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


@dataclass(frozen=True)
class FeedInfo:
    title: str
    page_path: str  # the HTML page this feed mirrors
    self_path: str  # this feed's own path
    description: str


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


def _xml(root: ET.Element) -> bytes:
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8",
                                                                     xml_declaration=False)


def rss(items: list[PublishedArticle], info: FeedInfo, site: Site, now: datetime) -> bytes:
    ET.register_namespace("atom", ATOM_NS)
    ET.register_namespace("content", CONTENT_NS)
    ET.register_namespace("dc", DC_NS)
    root = ET.Element("rss", {"version": "2.0"})
    channel = _sub(root, "channel")
    _sub(channel, "title", info.title)
    _sub(channel, "link", site.url(info.page_path))
    _sub(channel, "description", info.description)
    _sub(channel, "language", site.language)
    _sub(channel, "lastBuildDate", format_datetime(now.astimezone(UTC), usegmt=True))
    _sub(channel, f"{{{ATOM_NS}}}link", href=site.url(info.self_path), rel="self",
         type="application/rss+xml")
    for article in items:
        item = _sub(channel, "item")
        _sub(item, "title", article.headline)
        _sub(item, "link", site.url(article.url))
        _sub(item, "guid", site.url(article.url), isPermaLink="true")
        _sub(item, "pubDate", format_datetime(article.published_at.astimezone(UTC), usegmt=True))
        _sub(item, "description", summary(article))
        for author in article.authors:
            _sub(item, f"{{{DC_NS}}}creator", author.name)
        for subject in article.subjects:
            _sub(item, "category", subject)
        _sub(item, f"{{{CONTENT_NS}}}encoded", article.body_html)
    return _xml(root)


def atom(items: list[PublishedArticle], info: FeedInfo, site: Site, now: datetime) -> bytes:
    ET.register_namespace("", ATOM_NS)

    def a(tag: str) -> str:
        return f"{{{ATOM_NS}}}{tag}"

    root = ET.Element(a("feed"), {"xml:lang": site.language})
    _sub(root, a("id"), site.url(info.self_path))
    _sub(root, a("title"), info.title)
    _sub(root, a("subtitle"), info.description)
    newest = max((updated_at(i) for i in items), default=now)
    _sub(root, a("updated"), iso(newest))
    _sub(root, a("link"), rel="self", href=site.url(info.self_path),
         type="application/atom+xml")
    _sub(root, a("link"), rel="alternate", href=site.url(info.page_path), type="text/html")
    _sub(_sub(root, a("author")), a("name"), site.name)
    for article in items:
        entry = _sub(root, a("entry"))
        _sub(entry, a("id"), article.uri)
        _sub(entry, a("title"), article.headline)
        _sub(entry, a("link"), rel="alternate", href=site.url(article.url), type="text/html")
        _sub(entry, a("published"), iso(article.published_at))
        _sub(entry, a("updated"), iso(updated_at(article)))
        for card in article.authors:
            author = _sub(entry, a("author"))
            _sub(author, a("name"), card.name)
            if card.url:
                _sub(author, a("uri"), site.url(card.url))
        for subject in article.subjects:
            _sub(entry, a("category"), term=subject)
        _sub(entry, a("summary"), summary(article))
        _sub(entry, a("content"), article.body_html, type="html")
    return _xml(root)


def json_feed(items: list[PublishedArticle], info: FeedInfo, site: Site) -> dict[str, Any]:
    return {
        "version": "https://jsonfeed.org/version/1.1",
        "title": info.title,
        "home_page_url": site.url(info.page_path),
        "feed_url": site.url(info.self_path),
        "description": info.description,
        "language": site.language,
        "items": [_drop_none({
            "id": article.uri,
            "url": site.url(article.url),
            "title": article.headline,
            "content_html": article.body_html,
            "summary": summary(article),
            "image": article.lead_image.href if article.lead_image else None,
            "date_published": iso(article.published_at),
            "date_modified": iso(updated_at(article)),
            "authors": [_drop_none({"name": c.name, "url": site.url(c.url) if c.url else None,
                                    "avatar": c.avatar_url}) for c in article.authors],
            "tags": article.subjects,
            "language": article.language,
        }) for article in items],
    }


def news_sitemap(items: list[PublishedArticle], site: Site) -> bytes:
    """A Google News sitemap: <url> with <news:news> per article."""
    ET.register_namespace("", SITEMAP_NS)
    ET.register_namespace("news", NEWS_NS)
    root = ET.Element(f"{{{SITEMAP_NS}}}urlset")
    for article in items:
        url = _sub(root, f"{{{SITEMAP_NS}}}url")
        _sub(url, f"{{{SITEMAP_NS}}}loc", site.url(article.url))
        news = _sub(url, f"{{{NEWS_NS}}}news")
        publication = _sub(news, f"{{{NEWS_NS}}}publication")
        _sub(publication, f"{{{NEWS_NS}}}name", site.name)
        _sub(publication, f"{{{NEWS_NS}}}language", article.language or site.language)
        _sub(news, f"{{{NEWS_NS}}}publication_date", iso(article.published_at))
        _sub(news, f"{{{NEWS_NS}}}title", article.headline)
    return _xml(root)
