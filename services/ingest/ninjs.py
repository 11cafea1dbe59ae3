"""A lenient model of ninjs 2.x input (1.x spellings tolerated).

Lenient means unknown properties are kept, not refused; the fields galley
relies on are checked and get a JSON pointer when they are wrong.
"""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from shared.models import PubStatus

PUBLISH_AT = "x-galley-publish-at"  # scheduled publication (galley extension)
RELATED_OPT_OUT = "x-galley-related-opt-out"  # no automatic related links (galley extension)


class Loose(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Text(Loose):
    """A headline, body or description: `{role, contenttype, value}`."""

    role: str | None = None
    contenttype: str | None = None
    value: str


class Named(Loose):
    """A person, subject or genre."""

    name: str | None = Field(default=None, max_length=500)
    rel: str | None = None
    uri: str | None = None
    literal: str | None = None


class Rendition(Loose):
    name: str | None = None
    href: str | None = Field(default=None, max_length=4000)
    contenttype: str | None = None
    width: int | None = Field(default=None, ge=0)
    height: int | None = Field(default=None, ge=0)


class Association(Loose):
    name: str | None = None
    uri: str | None = None
    type: str | None = None
    by: str | None = None
    descriptions: list[Text] = Field(default_factory=list)
    renditions: list[Rendition] = Field(default_factory=list)


def _positive_version(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("version must be a positive integer, as a string or a number")
    if isinstance(value, str):
        text = value.strip()
        if not text.isdigit():
            raise ValueError("version must be a positive integer, as a string like \"3\"")
        value = int(text)
    if isinstance(value, int) and value >= 1:
        return value
    raise ValueError("version must be a positive integer (1 or more)")


class NinjsIn(Loose):
    """One ninjs news item as a newsroom system sends it."""

    uri: str = Field(min_length=1, max_length=1000)
    version: int
    type: str | None = None
    pubstatus: PubStatus = "usable"
    language: str | None = Field(default=None, max_length=35)
    firstcreated: AwareDatetime | None = None
    versioncreated: AwareDatetime | None = None
    embargoed: AwareDatetime | None = None
    publish_at: AwareDatetime | None = Field(default=None, alias=PUBLISH_AT)
    headlines: list[Text] = Field(default_factory=list)
    headline: str | None = None  # ninjs 1.x
    bodies: list[Text] = Field(default_factory=list)
    body_html: str | None = None  # ninjs 1.x
    body_text: str | None = None  # ninjs 1.x
    descriptions: list[Text] = Field(default_factory=list)
    by: str | None = Field(default=None, max_length=1000)
    people: list[Named] = Field(default_factory=list)
    subjects: list[Named] = Field(default_factory=list)
    genres: list[Named] = Field(default_factory=list)
    associations: list[Association] = Field(default_factory=list)
    related_opt_out: bool = Field(default=False, alias=RELATED_OPT_OUT)

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, value: Any) -> Any:
        return _positive_version(value)

    @field_validator("uri")
    @classmethod
    def _uri(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("uri must not be blank")
        return value.strip()

    @field_validator("associations", mode="before")
    @classmethod
    def _associations(cls, value: Any) -> Any:
        """ninjs 1.x sends associations as an object keyed by name."""
        if isinstance(value, dict):
            return [{"name": k, **v} if isinstance(v, dict) else v for k, v in value.items()]
        return value
