"""Media files a newsroom pushes (Superdesk's HTTP Push), checked before they are kept.

A file is kept only if its first bytes say it is a picture, video or audio file of
a known kind: what the newsroom declared as its type is checked against that, and
the type galley serves it with is the one its bytes say. SVG is refused: it can
carry script. Pure functions, no IO.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from services.ingest.media import valid_media_id
from shared.models import Asset


class AssetRefused(ValueError):
    """A pushed file galley does not keep; `status` and `problem` say how to answer."""

    def __init__(self, status: int, problem: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.problem = problem
        self.detail = detail


_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")
_AUDIO_BRANDS = (b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B ")


def _ftyp(head: bytes) -> str | None:
    """The ISO base media file type (MP4, MOV, M4A, AVIF, HEIF) from its `ftyp` box."""
    if head[4:8] != b"ftyp":
        return None
    brand = head[8:12]
    if brand in (b"avif", b"avis"):
        return "image/avif"
    if brand in _HEIF_BRANDS:
        return "image/heic"
    if brand in _AUDIO_BRANDS:
        return "audio/mp4"
    if brand == b"qt  ":
        return "video/quicktime"
    return "video/mp4"


def sniff(head: bytes) -> str | None:
    """The media type a file's first bytes say it is, or None for anything else."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "image/tiff"
    if head.startswith(b"%PDF"):
        return "application/pdf"
    if b"<svg" in head.lower() and head.lstrip()[:1] == b"<":
        return "image/svg+xml"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "audio/wav"
    if (found := _ftyp(head)) is not None:
        return found
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"fLaC"):
        return "audio/flac"
    if head.startswith(b"ID3") or (
        len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06 != 0
    ):
        return "audio/mpeg"  # an MPEG audio frame (layer bits set)
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return "audio/aac"  # ADTS
    return None


# what a browser shows from a page: the only types galley serves
SERVED = frozenset({
    "image/jpeg", "image/png", "image/gif", "image/webp", "image/avif", "video/mp4",
    "video/quicktime", "video/webm", "audio/mpeg", "audio/aac", "audio/mp4", "audio/ogg",
    "audio/wav", "audio/flac",
})  # fmt: skip
# the reason a type galley recognises is still not served
_NOT_SERVED = {"image/tiff": "browsers do not show TIFF", "image/heic": "most browsers do not "
               "show HEIF/HEIC", "application/pdf": "a PDF is not a picture, video or audio file",
               "image/svg+xml": "SVG can carry script"}  # fmt: skip
# one container, two media: its declared type says which (an MP4 of audio only)
_ISO_MEDIA = frozenset({"video/mp4", "audio/mp4"})

_SAME = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "audio/mp3": "audio/mpeg",
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/x-flac": "audio/flac",
    "video/x-m4v": "video/mp4",
    "audio/x-m4a": "audio/mp4",
    "audio/m4a": "audio/mp4",
}


@dataclass(frozen=True)
class Upload:
    media_id: str
    content: bytes
    declared: str | None  # the type the newsroom said the file has
    source: str


def check(upload: Upload, max_bytes: int) -> Asset:
    """The asset to keep, or AssetRefused saying why not."""
    if not valid_media_id(upload.media_id):
        raise AssetRefused(
            422,
            "invalid-asset",
            "media_id must be 1-200 characters of letters, digits and . _ - / (no '..')",
        )
    if len(upload.content) > max_bytes:
        raise AssetRefused(
            413,
            "payload-too-large",
            f"the file is {len(upload.content)} bytes, over the limit of"
            f" {max_bytes} (INGEST_MAX_ASSET_BYTES)",
        )
    if not upload.content:
        raise AssetRefused(422, "invalid-asset", "the file is empty")
    found = sniff(upload.content[:64])
    declared = (upload.declared or "").split(";")[0].strip().lower()
    declared = _SAME.get(declared, declared)
    if found in _ISO_MEDIA and declared in _ISO_MEDIA:
        found = declared
    if found is None or found not in SERVED:
        why = _NOT_SERVED.get(found or "", "it is not a picture, video or audio file")
        raise AssetRefused(
            415,
            "unsupported-media-type",
            f"galley does not serve this file: {why}. It serves JPEG, PNG, GIF, WebP,"
            " AVIF, MP4, MOV, WebM, MP3, AAC, M4A, Ogg, WAV and FLAC",
        )
    if (
        declared
        and declared not in ("application/octet-stream", found)
        and declared.split("/")[0] != found.split("/")[0]
    ):
        raise AssetRefused(
            415,
            "unsupported-media-type",
            f"the file was declared {declared} but its bytes are {found}",
        )
    return Asset(
        media_id=upload.media_id,
        mime_type=found,
        size=len(upload.content),
        sha256=hashlib.sha256(upload.content).hexdigest(),
        content=base64.b64encode(upload.content).decode("ascii"),
        source=upload.source,
    )
