"""Machine formats of published articles: ninjs 2.2, JSON-LD, RSS, Atom, JSON Feed, sitemap.

Pure functions of the articles and a `Site` (base URL and name). XML is built
with ElementTree, so every text and attribute is escaped by the serializer; the
HTML that feeds carry as content is built here with every value escaped, except
the sanitized body.

Every item type has content: a text story its body, a picture or graphic a
figure, a video or audio item a link to its file with its still and caption, a
package its own body or the links to its members. Media hrefs may be site paths
(`/media/<id>`); everything that leaves the page makes them absolute.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape, unescape
from typing import Any
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape as xml_escape

from services.publish import i18n
from services.publish.domain import is_updated, reading_time
from shared import names
from shared.languages import primary
from shared.models import MEDIA_TYPES, EnrichedArticle, Image, Media, PublishedArticle, Rendition
from shared.slugs import slugify

NINJS_SCHEMA_URI = "https://www.iptc.org/std/ninjs/ninjs-schema_2.2.json"
GALLEY = "galley"  # prefix of galley's own roles in ninjs descriptions / altids
NINJS_TYPES = ("text", "audio", "video", "picture", "graphic", "composite", "component")
PLAYABLE = ("video", "audio")
MAX_MEMBERS = 50  # a package's members looked up per view: the first ones, in its order
MEDIA_PREFIX = names.media_path("")  # "/media/": a file the newsroom pushed
# languages written right to left (primary subtags, and the ISO 639-2 codes some send)
RTL_LANGUAGES = frozenset(
    {"ar", "he", "fa", "ur", "ps", "yi", "dv", "sd", "ug", "iw", "ji"}
    | {"ara", "heb", "per", "fas", "urd", "pus", "yid", "div", "snd", "uig"}
)

Live = Mapping[str, PublishedArticle]  # uri -> live article (a package's members)


@dataclass(frozen=True)
class Site:
    base_url: str
    name: str = "Galley News"
    language: str = "en"

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    def absolute(self, href: str) -> str:
        """A site path (`/media/abc123`) on this site; a full URL as it is."""
        if href.startswith("/") and not href.startswith("//"):
            return self.url(href)
        return href


def text_direction(tag: str | None) -> str:
    """The direction a language is written in, by its primary subtag: "rtl" or "ltr"."""
    return "rtl" if primary(tag) in RTL_LANGUAGES else "ltr"


# --- site paths in the sanitized body ----------------------------------------------------

# A start tag of the sanitized body (text there has its "<" escaped, comments are gone),
# and one attribute of it, its value quoted or not.
_TAG = re.compile(r"""<[a-zA-Z](?:"[^"]*"|'[^']*'|[^'">])*+>""")
_ATTRIBUTE = re.compile(r"""(\s+)([^\s"'=<>`/]+)(\s*=\s*)("[^"]*"|'[^']*'|[^\s"'=<>`]+)""")
_LINKS = ("src", "href")


def _link(match: re.Match[str]) -> tuple[str, str] | None:
    """(quote, site path) of a src or href attribute whose value is a site path."""
    _space, name, _equals, quoted = match.groups()
    if name.lower() not in _LINKS:
        return None
    quote = quoted[0] if quoted[0] in "\"'" else ""
    value = quoted[1:-1] if quote else quoted
    if not value.startswith("/") or value.startswith("//"):
        return None  # a full URL, or one on another host (//host/path)
    return quote, value


def _body_paths(html: str) -> list[str]:
    """The site paths the body's src and href attributes point at (escaped as written)."""
    return [
        link[1]
        for tag in _TAG.finditer(html)
        for attribute in _ATTRIBUTE.finditer(tag.group(0))
        if (link := _link(attribute))
    ]


def absolute_html(html: str, site: Site) -> str:
    """The body with the site path of every src and href made absolute on the site: what
    leaves the page (feeds, the ninjs API) must not depend on where it is read."""
    base = escape(site.url(""), quote=True)

    def attribute(match: re.Match[str]) -> str:
        link = _link(match)
        if link is None:
            return match.group(0)
        space, name, equals, _ = match.groups()
        quote = link[0] or '"'
        return f"{space}{name}{equals}{quote}{base}{link[1]}{quote}"

    return _TAG.sub(lambda tag: _ATTRIBUTE.sub(attribute, tag.group(0)), html)


def _media_id(href: str | None) -> str | None:
    """The media id of a pushed file's site path (`/media/<id>`), else None."""
    if not href or not href.startswith(MEDIA_PREFIX):
        return None
    media_id = re.split(r"[?#]", unescape(href[len(MEDIA_PREFIX) :]), maxsplit=1)[0]
    return media_id or None


def _rendition_files(item: Any) -> set[str]:
    """The pushed files among the renditions of a document or association as sent: a
    rendition's `media` id (Superdesk), or its href when that is a /media/ path. The
    renditions are an object keyed by name (1.x, Superdesk) or a list (2.x, 3.x)."""
    renditions = item.get("renditions") if isinstance(item, dict) else None
    if isinstance(renditions, dict):
        renditions = list(renditions.values())
    found: set[str] = set()
    for rendition in renditions if isinstance(renditions, list) else []:
        if not isinstance(rendition, dict):
            continue
        media, href = rendition.get("media"), rendition.get("href")
        if isinstance(media, str) and media:
            found.add(media)
        if isinstance(href, str) and (media_id := _media_id(href)):
            found.add(media_id)
    return found


def media_ids(article: EnrichedArticle) -> set[str]:
    """The pushed files an article shows: its lead image, its media's renditions and
    poster, the /media/ paths its body's src and href point at, and every other size
    the newsroom pushed of a picture it shows (the other renditions of that picture in
    the document or in its association)."""
    hrefs: list[str | None] = [article.lead_image.href if article.lead_image else None]
    if article.media is not None:
        hrefs += [r.href for r in article.media.renditions] + [article.media.poster]
    hrefs += _body_paths(article.body_html)
    shown = {media_id for href in hrefs if (media_id := _media_id(href))}
    associations = article.ninjs.get("associations")
    if isinstance(associations, dict):
        associations = list(associations.values())
    for item in [article.ninjs, *(associations if isinstance(associations, list) else [])]:
        files = _rendition_files(item)
        if files & shown:
            shown |= files
    return shown


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def updated_at(article: PublishedArticle) -> datetime:
    """The modification date: `modified_at`, or for data stored before it existed the
    later of versioncreated and published_at; never before published_at."""
    if article.modified_at is not None:
        return max(article.modified_at, article.published_at)
    return max(t for t in (article.published_at, article.versioncreated) if t is not None)


def was_updated(article: PublishedArticle) -> bool:
    """Modified more than a minute after publication: the page shows "Updated"."""
    return is_updated(article.published_at, updated_at(article))


def summary(article: PublishedArticle, limit: int = 280) -> str:
    media = article.media
    image = article.lead_image
    text = (
        article.subheadline
        or article.body_text
        or (media.caption if media else None)
        or (image.caption if image else None)
        or ""
    )
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


# --- media -----------------------------------------------------------------------------


def is_picture(media: Media | None) -> bool:
    return media is not None and media.type in ("picture", "graphic")


def picture_rendition(media: Media) -> Rendition:
    """The rendition a picture or graphic is shown with: the best that is an image."""
    return next(
        (r for r in media.renditions if (r.contenttype or "image/").startswith("image/")),
        media.main,
    )


def sources(media: Media) -> list[Rendition]:
    """A video's or audio's <source>s: its renditions of that kind, else those of unknown
    type, else any that is not a picture (a stream playlist, say)."""
    typed = [r for r in media.renditions if (r.contenttype or "").startswith(media.type + "/")]
    untyped = [r for r in media.renditions if not r.contenttype]
    others = [r for r in media.renditions if not (r.contenttype or "").startswith("image/")]
    return typed or untyped or others


def file_of(media: Media) -> Rendition:
    """The file a link to a video or audio item points at."""
    return next(iter(sources(media)), media.main)


def image_of(article: PublishedArticle) -> str | None:
    """The image that stands for the article (og:image, JSON-LD, feeds), as stored."""
    if article.lead_image is not None:
        return article.lead_image.href
    media = article.media
    if media is None:
        return None
    if is_picture(media):
        return picture_rendition(media).href
    return media.poster


def thumbnail_of(article: PublishedArticle) -> str | None:
    """A small picture for list items: a rendition named like a thumbnail when there is
    one, else the article's image."""
    media = article.media
    if article.lead_image is None and is_picture(media):
        assert media is not None
        for rendition in media.renditions:
            if "thumb" in (rendition.name or "").lower():
                return rendition.href
    return image_of(article)


def credit_key(media_type: str) -> str:
    """The i18n label a credit is shown with: Photo, Video, Audio, Graphic."""
    return {"picture": "photo"}.get(media_type, media_type)


def _dims(width: int | None, height: int | None) -> str:
    return f' width="{width}" height="{height}"' if width and height else ""


def _figcaption(
    caption: str | None, credit: str | None, copyright: str | None, key: str, lang: str | None
) -> str:
    parts = []
    if caption:
        parts.append(f'<span class="caption">{escape(caption)}</span>')
    if credit:
        parts.append(f'<span class="credit">({escape(i18n.labelled(key, credit, lang))})</span>')
    if copyright:
        parts.append(f'<span class="copyright">{escape(copyright)}</span>')
    return f"<figcaption>{' '.join(parts)}</figcaption>" if parts else ""


def _image_figure(image: Image, site: Site, lang: str | None) -> str:
    src = escape(site.absolute(image.href))
    img = f'<img src="{src}" alt="{escape(image.alt or "")}"{_dims(image.width, image.height)}>'
    caption = _figcaption(image.caption, image.credit, image.copyright, "photo", lang)
    return f"<figure>{img}{caption}</figure>"


def media_html(article: PublishedArticle, site: Site) -> str:
    """The media item as feed content: a figure with its picture, or a link to its file."""
    media = article.media
    if media is None:
        return ""
    lang = article.language
    key = credit_key(media.type)
    caption = _figcaption(media.caption, media.credit, media.copyright, key, lang)
    if is_picture(media):
        shown = picture_rendition(media)
        src = escape(site.absolute(shown.href))
        dims = _dims(shown.width, shown.height)
        return f'<figure><img src="{src}" alt="{escape(media.alt or "")}"{dims}>{caption}</figure>'
    href = escape(site.absolute(file_of(media).href))
    still = ""
    if media.poster:
        still = f'<a href="{href}"><img src="{escape(site.absolute(media.poster))}" alt=""></a>'
    link = escape(i18n.labelled(key, article.headline, lang))
    figure = f"<figure>{still}{caption}</figure>" if still or caption else ""
    return f'{figure}<p><a href="{href}">{link}</a></p>'


def package_html(article: PublishedArticle, site: Site, live: Live) -> str:
    """A package's member list: links to the live members, headlines of the others."""
    items, seen = [], {article.uri}
    for member in article.members:
        if member.uri in seen:
            continue
        seen.add(member.uri)
        found = live.get(member.uri)
        if found is not None:
            href = escape(site.url(found.url))
            items.append(f'<li><a href="{href}">{escape(found.headline)}</a></li>')
        elif member.headline:
            items.append(f"<li>{escape(member.headline)}</li>")
    if not items:
        return f'<p><a href="{escape(site.url(article.url))}">{escape(article.headline)}</a></p>'
    return f"<ul>{''.join(items)}</ul>"


def content_html(article: PublishedArticle, site: Site, live: Live | None = None) -> str:
    """The HTML a feed carries for the item, its links absolute; never empty."""
    body = absolute_html(article.body_html, site) if article.body_html.strip() else ""
    if article.media is not None:
        return media_html(article, site) + body
    if body:
        return body
    if article.type == "composite":
        return package_html(article, site, live or {})
    lead = _image_figure(article.lead_image, site, article.language) if article.lead_image else ""
    return lead + f"<p>{escape(summary(article) or article.headline)}</p>"


# --- ninjs 2.2 -----------------------------------------------------------------


def _drop_none(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if v not in (None, [], "")}


def _text(role: str, value: str | None) -> dict[str, str] | None:
    return {"role": role, "contenttype": "text/plain", "value": value} if value else None


def _author_association(index: int, card: Any, site: Site) -> dict[str, Any]:
    return _drop_none(
        {
            "name": f"author-{index}",
            "uri": site.url(card.url) if card.url else f"urn:{GALLEY}:author:{slugify(card.name)}",
            "type": "text",
            "title": card.name,
            "slugline": card.slug,
            "descriptions": [
                d
                for d in (
                    {"role": f"{GALLEY}:author-role", "value": card.role} if card.role else None,
                    {"role": f"{GALLEY}:author-bio", "value": card.bio} if card.bio else None,
                )
                if d
            ],
            "renditions": [{"name": "avatar", "href": site.absolute(card.avatar_url)}]
            if card.avatar_url
            else [],
        }
    )


def _web(url: str, site: Site, name: str = "web") -> dict[str, Any]:
    return {"name": name, "href": site.url(url), "contenttype": "text/html"}


def _related_association(index: int, link: Any, site: Site) -> dict[str, Any]:
    return {
        "name": f"related-{index}",
        "uri": link.uri,
        "type": "text",
        "representationtype": "partial",
        "headlines": [{"role": "main", "value": link.headline}],
        "slugline": link.slug,
        "renditions": [_web(link.url, site)],
    }


def _member_associations(article: PublishedArticle, site: Site, live: Live) -> list[dict[str, Any]]:
    found = []
    for member in article.members:
        item = live.get(member.uri)
        headline = item.headline if item is not None else member.headline
        kind = item.type if item is not None else member.type
        found.append(
            _drop_none(
                {
                    "name": member.group or "member",
                    "uri": member.uri,
                    "type": kind if kind in NINJS_TYPES else None,
                    "representationtype": "partial",
                    "headlines": [{"role": "main", "value": headline}] if headline else [],
                    "renditions": [_web(item.url, site)] if item is not None else [],
                }
            )
        )
    return found


def _association(associations: Any, name: str) -> dict[str, Any]:
    """The association of this name in the document as sent: ninjs 2.x and 3.x list them
    (each with a "name"), 1.x and Superdesk key them by name in an object."""
    if isinstance(associations, dict):
        found = associations.get(name)
    elif isinstance(associations, list):
        found = next(
            (a for a in associations if isinstance(a, dict) and a.get("name") == name), None
        )
    else:
        found = None
    return found if isinstance(found, dict) else {}


def _featuremedia(article: PublishedArticle, site: Site) -> dict[str, Any] | None:
    image = article.lead_image
    if image is None:
        return None
    rendition = _drop_none(
        {
            "name": "original",
            "href": site.absolute(image.href),
            "contenttype": image.contenttype,
            "width": image.width,
            "height": image.height,
        }
    )
    original = _association(article.ninjs.get("associations"), "featuremedia")
    uri = next(
        (v for v in (original.get("uri"), original.get("guid")) if isinstance(v, str) and v),
        rendition["href"],
    )
    return _drop_none(
        {
            "name": "featuremedia",
            "uri": uri,
            "type": "picture",
            "by": image.credit,
            "copyrightnotice": image.copyright,
            "descriptions": [
                d for d in (_text("caption", image.caption), _text("alt", image.alt)) if d
            ],
            "renditions": [rendition],
        }
    )


def _media_renditions(media: Media, site: Site) -> list[dict[str, Any]]:
    renditions = [
        _drop_none(
            {
                "name": r.name or f"rendition-{i}",
                "href": site.absolute(r.href),
                "contenttype": r.contenttype,
                "width": r.width,
                "height": r.height,
                "duration": r.duration,
            }
        )
        for i, r in enumerate(media.renditions, 1)
    ]
    if media.poster and not is_picture(media):
        renditions.append({"name": "poster", "href": site.absolute(media.poster)})
    return renditions


def to_ninjs(article: PublishedArticle, site: Site, live: Live | None = None) -> dict[str, Any]:
    """The article as ninjs 2.2; galley's extras live in documented ninjs places.

    `firstcreated` is the story's own publication date, `versioncreated` its
    modification; a media item carries its renditions, caption, credit and copyright;
    a package its members as associations named by their group (`live`: the members'
    live versions, for their headlines and page links).
    """
    media = article.media
    headlines = [{"role": "main", "value": article.headline}]
    if article.subheadline:
        headlines.append({"role": "sub", "value": article.subheadline})
    descriptions = [
        d
        for d in (
            _text(f"{GALLEY}:reading-time", reading_time(article.reading_minutes)),
            _text(f"{GALLEY}:correction", article.correction),
            _text("caption", media.caption) if media else None,
            _text("alt", media.alt) if media else None,
        )
        if d
    ]
    associations = [a for a in (_featuremedia(article, site),) if a]
    associations += _member_associations(article, site, live or {})
    associations += [_author_association(i, c, site) for i, c in enumerate(article.authors, 1)]
    associations += [_related_association(i, r, site) for i, r in enumerate(article.related, 1)]
    renditions = _media_renditions(media, site) if media else []
    taken = {r["name"] for r in renditions}
    renditions.append(_web(article.url, site, "web" if "web" not in taken else f"{GALLEY}:web"))
    by = article.byline or ", ".join(a.name for a in article.authors) or None
    if media is not None:
        by = media.credit or by
    bodies = []
    if article.body_html.strip() or media is None:
        bodies = [
            {
                "role": "main",
                "contenttype": "text/html",
                "value": absolute_html(article.body_html, site),
                "wordcount": article.word_count,
            }
        ]
    return _drop_none(
        {
            "standard": {"name": "ninjs", "version": "2.2", "schema": NINJS_SCHEMA_URI},
            "uri": article.uri,
            "type": article.type,
            "representationtype": "full",
            "version": article.source_version or str(article.version),
            "firstcreated": iso(article.published_at),
            "versioncreated": iso(updated_at(article)),
            "embargoed": iso(article.embargoed),
            "pubstatus": "usable",
            "copyrightnotice": article.copyright or (media.copyright if media else None),
            "language": article.language,
            "slugline": article.slug,
            "headlines": headlines,
            "by": by,
            "people": [
                _drop_none(
                    {"name": a.name, "rel": "author", "uri": site.url(a.url) if a.url else None}
                )
                for a in article.authors
            ],
            "subjects": [
                {"name": s, "uri": site.url(f"/subjects/{slugify(s)}")}
                for s in article.subjects
                if slugify(s)
            ],
            "genres": [{"name": g} for g in article.genres],
            "bodies": bodies,
            "descriptions": descriptions,
            "associations": associations,
            "altids": [
                {"role": f"{GALLEY}:url", "value": site.url(article.url)},
                {"role": f"{GALLEY}:published-at", "value": iso(article.published_at)},
                {"role": f"{GALLEY}:modified-at", "value": iso(updated_at(article))},
                {"role": f"{GALLEY}:reading-minutes", "value": str(article.reading_minutes)},
                {
                    "role": f"{GALLEY}:enrichment-revision",
                    "value": str(article.enrichment_revision),
                },
            ],
            "renditions": renditions,
        }
    )


# --- schema.org JSON-LD ----------------------------------------------------------


def _duration(seconds: float | None) -> str | None:
    """ISO 8601 duration: 95.0 -> PT1M35S."""
    if seconds is None or seconds <= 0:
        return None
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    return text + (f"{secs}S" if secs or whole == 0 else "")


def _media_object(article: PublishedArticle, media: Media, site: Site) -> dict[str, Any]:
    description = summary(article) or media.caption or article.headline
    if is_picture(media):
        shown = picture_rendition(media)
        return {
            "@type": "ImageObject",
            "name": article.headline,
            "contentUrl": site.absolute(shown.href),
            "caption": media.caption,
            "description": description,
            "creditText": media.credit,
            "copyrightNotice": media.copyright or article.copyright,
            "encodingFormat": shown.contenttype,
            "width": shown.width,
            "height": shown.height,
        }
    played = file_of(media)
    return {
        "@type": "VideoObject" if media.type == "video" else "AudioObject",
        "name": article.headline,
        "description": description,
        "contentUrl": site.absolute(played.href),
        "encodingFormat": played.contenttype,
        "thumbnailUrl": site.absolute(media.poster) if media.poster else None,
        "uploadDate": iso(article.published_at),
        "duration": _duration(played.duration),
        "caption": media.caption if media.type == "audio" else None,
        "creditText": media.credit,
        "copyrightNotice": media.copyright or article.copyright,
    }


def json_ld(article: PublishedArticle, site: Site, image: str | None = None) -> str:
    """Schema.org JSON-LD, safe to embed in a <script> element: NewsArticle for stories
    and packages, ImageObject, VideoObject or AudioObject for media items.
    `image`: the picture that stands for the page when the article has none (a package's
    main item's)."""
    image = image_of(article) or image
    common: dict[str, Any] = {
        "mainEntityOfPage": site.url(article.url),
        "url": site.url(article.url),
        "datePublished": iso(article.published_at),
        "dateModified": iso(updated_at(article)),
        "inLanguage": article.language,
        "keywords": article.subjects,
        "author": [
            _drop_none(
                {
                    "@type": "Person",
                    "name": a.name,
                    "jobTitle": a.role,
                    "url": site.url(a.url) if a.url else None,
                }
            )
            for a in article.authors
        ],
        "publisher": {"@type": "Organization", "name": site.name, "url": site.url("/")},
    }
    media = article.media
    if media is not None and article.type in MEDIA_TYPES:
        kind = _media_object(article, media, site)
    else:
        kind = {
            "@type": "NewsArticle",
            "headline": article.headline[:110],
            "description": summary(article),
            "image": [site.absolute(image)] if image else [],
            "wordCount": article.word_count,
            "timeRequired": f"PT{max(1, article.reading_minutes)}M",
        }
    doc = _drop_none({"@context": "https://schema.org", **kind, **common})
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
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(
        root, encoding="utf-8", xml_declaration=False
    )


def enclosure(article: PublishedArticle) -> Rendition | None:
    """The file of a video or audio item, when its type is known (feed enclosures)."""
    media = article.media
    if media is None or media.type not in PLAYABLE:
        return None
    played = file_of(media)
    return played if played.contenttype else None


def member_uris(package: EnrichedArticle, limit: int = MAX_MEMBERS) -> list[str]:
    """The first `limit` distinct members of a package (not itself): those a view resolves."""
    uris = dict.fromkeys(m.uri for m in package.members if m.uri != package.uri)
    return list(uris)[:limit]


def package_uris(items: Iterable[PublishedArticle]) -> list[str]:
    """The member uris of the packages among these items (to look up what is live), the
    first `MAX_MEMBERS` of each."""
    return [uri for a in items if a.type == "composite" for uri in member_uris(a)]


def rss(
    items: list[PublishedArticle],
    info: FeedInfo,
    site: Site,
    changed: datetime,
    live: Live | None = None,
) -> bytes:
    """`changed`: when what the feed shows last changed (its lastBuildDate), so the same
    feed read twice is the same bytes."""
    ET.register_namespace("atom", ATOM_NS)
    ET.register_namespace("content", CONTENT_NS)
    ET.register_namespace("dc", DC_NS)
    root = ET.Element("rss", {"version": "2.0"})
    channel = _sub(root, "channel")
    _sub(channel, "title", info.title)
    _sub(channel, "link", site.url(info.page_path))
    _sub(channel, "description", info.description)
    _sub(channel, "language", site.language)
    _sub(channel, "lastBuildDate", format_datetime(changed.astimezone(UTC), usegmt=True))
    _sub(
        channel,
        f"{{{ATOM_NS}}}link",
        href=site.url(info.self_path),
        rel="self",
        type="application/rss+xml",
    )
    for article in items:
        item = _sub(channel, "item")
        _sub(item, "title", article.headline)
        _sub(item, "link", site.url(article.url))
        _sub(item, "guid", site.url(article.url), isPermaLink="true")
        _sub(item, "pubDate", format_datetime(article.published_at.astimezone(UTC), usegmt=True))
        _sub(item, "description", summary(article) or article.headline)
        for author in article.authors:
            _sub(item, f"{{{DC_NS}}}creator", author.name)
        for subject in article.subjects:
            _sub(item, "category", subject)
        played = enclosure(article)
        if played is not None and played.contenttype:
            # the size is not known: 0, as the RSS Advisory Board recommends
            _sub(
                item,
                "enclosure",
                url=site.absolute(played.href),
                length="0",
                type=played.contenttype,
            )
        _sub(item, f"{{{CONTENT_NS}}}encoded", content_html(article, site, live))
    return _xml(root)


def atom(
    items: list[PublishedArticle],
    info: FeedInfo,
    site: Site,
    changed: datetime,
    live: Live | None = None,
) -> bytes:
    """`changed`: the feed's `updated` when it has no entry (else its newest entry's)."""
    ET.register_namespace("", ATOM_NS)

    def a(tag: str) -> str:
        return f"{{{ATOM_NS}}}{tag}"

    root = ET.Element(a("feed"), {"xml:lang": site.language})
    _sub(root, a("id"), site.url(info.self_path))
    _sub(root, a("title"), info.title)
    _sub(root, a("subtitle"), info.description)
    newest = max((updated_at(i) for i in items), default=changed)
    _sub(root, a("updated"), iso(newest))
    _sub(root, a("link"), rel="self", href=site.url(info.self_path), type="application/atom+xml")
    _sub(root, a("link"), rel="alternate", href=site.url(info.page_path), type="text/html")
    _sub(_sub(root, a("author")), a("name"), site.name)
    for article in items:
        entry = _sub(root, a("entry"))
        _sub(entry, a("id"), article.uri)
        _sub(entry, a("title"), article.headline)
        _sub(entry, a("link"), rel="alternate", href=site.url(article.url), type="text/html")
        played = enclosure(article)
        if played is not None and played.contenttype:
            _sub(
                entry,
                a("link"),
                rel="enclosure",
                href=site.absolute(played.href),
                type=played.contenttype,
            )
        _sub(entry, a("published"), iso(article.published_at))
        _sub(entry, a("updated"), iso(updated_at(article)))
        for card in article.authors:
            author = _sub(entry, a("author"))
            _sub(author, a("name"), card.name)
            if card.url:
                _sub(author, a("uri"), site.url(card.url))
        for subject in article.subjects:
            _sub(entry, a("category"), term=subject)
        _sub(entry, a("summary"), summary(article) or article.headline)
        _sub(entry, a("content"), content_html(article, site, live), type="html")
    return _xml(root)


def _attachments(article: PublishedArticle, site: Site) -> list[dict[str, Any]]:
    played = enclosure(article)
    if played is None or not played.contenttype:
        return []
    return [
        _drop_none(
            {
                "url": site.absolute(played.href),
                "mime_type": played.contenttype,
                "title": article.headline,
                "duration_in_seconds": played.duration,
            }
        )
    ]


def json_feed(
    items: list[PublishedArticle], info: FeedInfo, site: Site, live: Live | None = None
) -> dict[str, Any]:
    return {
        "version": "https://jsonfeed.org/version/1.1",
        "title": info.title,
        "home_page_url": site.url(info.page_path),
        "feed_url": site.url(info.self_path),
        "description": info.description,
        "language": site.language,
        "items": [_json_feed_item(article, site, live) for article in items],
    }


def _json_feed_item(article: PublishedArticle, site: Site, live: Live | None) -> dict[str, Any]:
    image = image_of(article)
    return _drop_none(
        {
            "id": article.uri,
            "url": site.url(article.url),
            "title": article.headline,
            "content_html": content_html(article, site, live),  # never empty
            "summary": summary(article),
            "image": site.absolute(image) if image else None,
            "date_published": iso(article.published_at),
            "date_modified": iso(updated_at(article)),
            "authors": [
                _drop_none(
                    {
                        "name": c.name,
                        "url": site.url(c.url) if c.url else None,
                        "avatar": site.absolute(c.avatar_url) if c.avatar_url else None,
                    }
                )
                for c in article.authors
            ],
            "tags": article.subjects,
            "language": article.language,
            "attachments": _attachments(article, site),
        }
    )


SITEMAP_MAX_URLS = 50_000  # the protocol's limit per sitemap file


def sitemap_index(files: Iterable[tuple[str, datetime | None]], site: Site) -> bytes:
    """A sitemap index: each (site path, newest lastmod) of the archive's sitemap files."""
    ET.register_namespace("", SITEMAP_NS)
    root = ET.Element(f"{{{SITEMAP_NS}}}sitemapindex")
    for path, lastmod in files:
        entry = _sub(root, f"{{{SITEMAP_NS}}}sitemap")
        _sub(entry, f"{{{SITEMAP_NS}}}loc", site.url(path))
        if lastmod is not None:
            _sub(entry, f"{{{SITEMAP_NS}}}lastmod", iso(lastmod))
    return _xml(root)


def sitemap_urls(entries: Iterable[tuple[str, str]], site: Site) -> bytes:
    """One file of the archive sitemap: each (site path, lastmod as W3C datetime text).
    Written as text, not with ElementTree: a file holds up to 50,000 URLs."""
    base = site.url("")
    parts = ['<?xml version="1.0" encoding="utf-8"?>\n', f'<urlset xmlns="{SITEMAP_NS}">']
    for path, lastmod in entries:
        parts.append(f"<url><loc>{xml_escape(base + path)}</loc>")
        parts.append(f"<lastmod>{xml_escape(lastmod)}</lastmod></url>" if lastmod else "</url>")
    parts.append("</urlset>")
    return "".join(parts).encode()


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
