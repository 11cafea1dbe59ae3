"""Bylines as newsrooms write them, and matching them to the author directory.

    "By A and B", "A, B and C", "A | Reuters", "A in Kyiv", "A, Staff Reporter",
    and the noisy scraper output of real sites ("Mark Prigg For Dailymail.Com",
    "Www.Dw.Com", "Min Read") all reduce to a list of person names. Names are
    matched ignoring case, accents, punctuation and with the profile's aliases.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from shared.models import AuthorCard, AuthorProfile
from shared.names import author_path

# A part of a byline containing one of these words is a role or a desk, not a person.
ROLE_WORDS = frozenset(
    """
    reporter reporters correspondent correspondents editor editors writer writers columnist
    staff author authors contributor contributors opinion desk newsroom read published
    updated photographer photographers producer analyst bureau team services wire wires
    editing edited additional contributed
    """.split()
)
# ... and one containing these names an organisation (an agency credit, an outlet).
ORGANISATION_WORDS = frozenset(
    """
    press reuters afp ap agence associated agency news welle media editorial times post
    daily dailymail mailonline guardian telegraph bbc cnn xinhua independent today
    journal herald tribune gazette network broadcasting radio television tv online
    """.split()
)

_PREFIX = re.compile(r"^\s*(?:(?:written|reported|reporting|words)\s+)?by\s*[:\-]?\s+", re.I)
_SEPARATORS = re.compile(r"\s*(?:,|;|&|\band\b|\bund\b|\bwith\b)\s*", re.I)
_PLACE = re.compile(r"\s+in\s+[A-Z][^,]*$")
_FOR_OUTLET = re.compile(r"\s+for\s+\S.*$", re.I)
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Case- and accent-insensitive form of a name: 'Zoë  O’Neil' -> 'zoe o neil'."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return _SPACES.sub(" ", re.sub(r"[^\w]+", " ", plain)).strip()


def _is_person(part: str) -> bool:
    words = fold(part).split()
    if not words or len(words) > 5 or not any(c.isalpha() for c in part):
        return False
    if "." in part and re.search(r"\w\.(com|org|net|co|uk|de)\b", part, re.I):
        return False  # a domain: "Www.Dw.Com"
    return not any(w in ROLE_WORDS or w in ORGANISATION_WORDS for w in words)


def _clean(part: str) -> str:
    part = _PREFIX.sub("", part.strip())
    part = _PLACE.sub("", part)
    part = _FOR_OUTLET.sub("", part)
    return _SPACES.sub(" ", part).strip(" .-–—:")


def parse_byline(byline: str) -> list[str]:
    """Person names in a byline, in order, without duplicates."""
    names: list[str] = []
    first_credit = re.split(r"\s*[|/•·]\s*", byline.strip())[0]  # "A | Reuters" -> "A"
    for raw in _SEPARATORS.split(_PREFIX.sub("", first_credit)):
        name = _clean(raw)
        if name and _is_person(name) and fold(name) not in {fold(n) for n in names}:
            names.append(name)
    return names


def byline_names(author_names: Iterable[str], byline: str | None) -> list[str]:
    """Prefer the structured author names (ninjs people rel=author), else parse the byline."""
    names: list[str] = []
    for entry in author_names:
        for name in parse_byline(entry):
            if fold(name) not in {fold(n) for n in names}:
                names.append(name)
    if names:
        return names
    return parse_byline(byline) if byline else []


def profile_keys(profile: AuthorProfile) -> set[str]:
    """Every folded form under which a byline finds this profile."""
    return {k for k in (fold(profile.name), *(fold(a) for a in profile.aliases)) if k}


class Directory:
    """The author directory in memory: folded name or alias -> profile."""

    def __init__(self, profiles: Iterable[AuthorProfile] = ()) -> None:
        self._by_slug: dict[str, AuthorProfile] = {}
        self._by_key: dict[str, str] = {}
        for profile in profiles:
            self.put(profile)

    def put(self, profile: AuthorProfile) -> None:
        old = self._by_slug.get(profile.slug)
        if old is not None:
            for key in profile_keys(old):
                if self._by_key.get(key) == old.slug:
                    del self._by_key[key]
        self._by_slug[profile.slug] = profile
        for key in profile_keys(profile):
            self._by_key[key] = profile.slug

    def get(self, slug: str) -> AuthorProfile | None:
        return self._by_slug.get(slug)

    def find(self, name: str) -> AuthorProfile | None:
        slug = self._by_key.get(fold(name))
        return self._by_slug.get(slug) if slug else None

    def profiles(self) -> list[AuthorProfile]:
        return sorted(self._by_slug.values(), key=lambda p: p.slug)


def card(profile: AuthorProfile) -> AuthorCard:
    return AuthorCard(
        name=profile.name, slug=profile.slug, role=profile.role, bio=profile.bio,
        avatar_url=str(profile.avatar_url) if profile.avatar_url else None,
        url=author_path(profile.slug),
    )


def author_cards(names: Iterable[str], directory: Directory) -> list[AuthorCard]:
    """One card per byline name: the profile when known, else the name alone."""
    cards: list[AuthorCard] = []
    for name in names:
        profile = directory.find(name)
        new = card(profile) if profile else AuthorCard(name=name)
        if new not in cards:
            cards.append(new)
    return cards
