"""Pictures, video, audio and graphics: which renditions to show, and where from.

A rendition is shown from one of two places: an http(s) URL the newsroom gave,
or, when the newsroom pushed the file to galley (Superdesk's HTTP Push does, and
names it by its `media` id), galley's own site at `/media/<media id>`. A pushed
file is always preferred: the reader's browser never fetches from the CMS.

Pure functions, no IO: the media ids galley holds are passed in.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from urllib.parse import urlsplit

from services.ingest.ninjs import Item, Rendition, Text, with_role
from services.ingest.text import html_to_text, sanitize_html
from shared.models import Image, Media, MediaType
from shared.models import Rendition as Shown
from shared.names import media_path

MEDIA_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,199}$")
ALT_ROLES = frozenset({"alt", "alttext", "alt-text"})
# widths up to this are shown as they are; wider ones only when nothing smaller is there
DISPLAY_WIDTH = 2400
SMALL_WIDTH = 480  # narrower than this is a thumbnail whatever its name
_IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif")
_VIDEO_EXTENSIONS = (".mp4", ".m4v", ".webm", ".mov", ".ogv")
_AUDIO_EXTENSIONS = (".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".wav", ".flac")
_THUMBNAIL_NAMES = ("thumbnail", "thumb")  # shown last among a picture's renditions
# a video's or audio's still: the first picture rendition with one of these names
_POSTER_NAMES = ("poster", "keyframe", "still", "thumbnail", "thumb", "preview", "viewimage")


def valid_media_id(media_id: str) -> bool:
    """Media ids are path-like names of letters, digits, '.', '_', '-', with '/' between
    segments; no empty, '.' or '..' segment (a browser would resolve those away)."""
    if not MEDIA_ID.match(media_id):
        return False
    return all(part not in ("", ".", "..") for part in media_id.split("/"))


def is_web_url(url: str | None) -> bool:
    return bool(url) and urlsplit(url or "").scheme.lower() in {"http", "https"}


def href_of(rendition: Rendition, assets: Collection[str]) -> str | None:
    """Where a rendition is shown from: the pushed file, else its http(s) href."""
    if rendition.media and rendition.media in assets:
        return media_path(rendition.media)
    return rendition.href if is_web_url(rendition.href) else None


def pushed_hrefs(item: Item, assets: Collection[str]) -> dict[str, str]:
    """CMS href -> site path, for every pushed rendition of the item and its associations
    (a body's <img> that points at the CMS is shown from the site instead)."""
    found: dict[str, str] = {}
    for each in (item, *item.associations):
        for rendition in each.renditions:
            if rendition.href and rendition.media and rendition.media in assets:
                found[rendition.href] = media_path(rendition.media)
    return found


def kind_of(rendition: Rendition) -> str | None:
    """image, video or audio, from the content type, else from the file name; "other"
    for a content type that is none of them (a web page, a document); None unknown."""
    kind = (rendition.contenttype or "").lower().split(";")[0].strip()
    for prefix in ("image", "video", "audio"):
        if kind.startswith(prefix + "/"):
            return prefix
    if kind and kind not in ("application/octet-stream", "binary/octet-stream"):
        return "other"
    path = urlsplit(rendition.href or "").path.lower()
    for prefix, extensions in (
        ("image", _IMAGE_EXTENSIONS),
        ("video", _VIDEO_EXTENSIONS),
        ("audio", _AUDIO_EXTENSIONS),
    ):
        if path.endswith(extensions):
            return prefix
    return None


def _size(value: float | None) -> int | None:
    return int(value) if value is not None else None


def _shown(rendition: Rendition, href: str) -> Shown:
    return Shown(
        href=href,
        name=rendition.name,
        contenttype=rendition.contenttype,
        width=_size(rendition.width),
        height=_size(rendition.height),
        duration=rendition.duration,
    )


def _display_order(renditions: Sequence[tuple[Rendition, str]]) -> list[tuple[Rendition, str]]:
    """Pictures best first: the widest that fits DISPLAY_WIDTH and is not small; then
    those of unknown width; then small ones; then those too wide; thumbnails last."""

    def key(pair: tuple[Rendition, str]) -> tuple[bool, int, float]:
        rendition = pair[0]
        width = rendition.width or 0
        thumbnail = (rendition.name or "").lower() in _THUMBNAIL_NAMES
        if not width:
            return (thumbnail, 1, 0)
        if width > DISPLAY_WIDTH:
            return (thumbnail, 3, width)
        return (thumbnail, 0 if width >= SMALL_WIDTH else 2, -width)

    return sorted(renditions, key=key)


def _text(items: Sequence[Text], roles: frozenset[str]) -> str | None:
    found = with_role(items, roles)
    return html_to_text(sanitize_html(found.value)) or None if found else None


def caption_of(item: Item) -> str | None:
    """The caption: a description with role caption, else the first description."""
    found = _text(item.descriptions, frozenset({"caption"}))
    if found:
        return found
    for entry in item.descriptions:
        if (entry.role or "").lower() not in ALT_ROLES and entry.value.strip():
            return html_to_text(sanitize_html(entry.value)) or None
    return None


def alt_of(item: Item) -> str | None:
    return _text(item.descriptions, ALT_ROLES)


def copyright_of(item: Item) -> str | None:
    for value in (item.copyrightnotice, item.copyrightholder):
        if value and value.strip():
            return " ".join(value.split())
    return None


def media_of(item: Item, media_type: MediaType, assets: Collection[str]) -> Media | None:
    """A picture, video, audio or graphic item's own renditions, best first; None when
    not one of them can be shown."""
    located = [(r, href) for r in item.renditions if (href := href_of(r, assets))]
    wanted = "image" if media_type in ("picture", "graphic") else media_type
    main = [pair for pair in located if kind_of(pair[0]) in (wanted, None)]
    if wanted != "image":
        main = [pair for pair in main if kind_of(pair[0]) == wanted] or [
            pair for pair in main if kind_of(pair[0]) is None
        ]
    if not main:
        return None
    stills = [pair for pair in located if kind_of(pair[0]) == "image"]
    ordered = _display_order(main) if wanted == "image" else main
    poster = None
    if wanted != "image" and stills:
        named = [p for p in stills if (p[0].name or "").lower() in _POSTER_NAMES]
        poster = _display_order(named or stills)[0][1]
    return Media(
        type=media_type,
        renditions=[_shown(r, href) for r, href in ordered],
        poster=poster,
        caption=caption_of(item),
        credit=_credit(item),
        copyright=copyright_of(item),
        alt=alt_of(item),
    )


def _credit(item: Item) -> str | None:
    return " ".join(item.by.split()) if item.by and item.by.strip() else None


def image_of(association: Item, assets: Collection[str]) -> Image | None:
    """A picture association as the story's lead image."""
    media = media_of(association, "picture", assets)
    if media is None:
        return None
    best = media.main
    return Image(
        href=best.href,
        caption=media.caption,
        credit=media.credit,
        alt=media.alt,
        width=best.width,
        height=best.height,
        contenttype=best.contenttype,
        copyright=media.copyright,
    )


def lead_image_of(item: Item, assets: Collection[str]) -> Image | None:
    """The `featuremedia` association (Superdesk, ninjs), else the first picture that can
    be shown."""
    pictures = [a for a in item.associations if (a.type or "picture") in ("picture", "graphic")]
    featured = [a for a in pictures if (a.name or "").lower() == "featuremedia"]
    for association in (*featured, *pictures):
        image = image_of(association, assets)
        if image is not None:
            return image
    return None
