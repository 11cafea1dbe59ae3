"""Bylines as newsrooms write them, and matching them to the author directory.

    "By A and B", "Von A und B, dpa", "Par A et B (AFP)", "Av A og B, NTB", "A | Reuters",
    "A in Kyiv", "A, Staff Reporter", and the noisy scraper output of real sites ("Mark Prigg
    For Dailymail.Com", "Www.Dw.Com", "Min Read") all reduce to a list of person names and,
    when the byline names a news agency or service, a credit ("dpa", "AP", "dpa/AFP"): an
    agency is credited, never shown as a person. Names are matched ignoring case, accents,
    punctuation and with the profile's aliases.

Everything here is linear in the length of the byline: names already seen are kept in a
set, and a part too long to be a name is dropped before any pattern looks at it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from services.enrichment.related import language_key
from shared.models import AuthorCard, AuthorProfile, Contributor
from shared.names import author_path

# A part of a byline containing one of these words is a role or a desk, not a person.
ROLE_WORDS = frozenset(
    """
    reporter reporters correspondent correspondents editor editors writer writers columnist
    staff author authors contributor contributors opinion desk newsroom read published
    updated photographer photographers producer analyst bureau team services wire wires
    editing edited additional contributed
    redakteur redakteurin redaktion korrespondent korrespondentin journalist journalistin
    journaliste journalista periodista redaccion redaction redazione redaksjonen redaktionen
    fotograf photographe fotografo agencies agenturen agences agencias agenzie
    """.split()
)
# ... and one containing these names an organisation (an agency credit, an outlet).
ORGANISATION_WORDS = frozenset(
    """
    press reuters afp ap agence associated agency news welle media editorial times post
    daily dailymail mailonline guardian telegraph bbc cnn xinhua independent today
    journal herald tribune gazette network broadcasting radio television tv online
    agentur agencia agenzia nachrichten zeitung presse prensa
    """.split()
)

# News agencies and services as a byline credits them, in the spelling shown on the page.
AGENCIES = (
    "dpa",
    "dpa-AFX",
    "AP",
    "AFP",
    "Reuters",
    "NTB",
    "TT",
    "ANP",
    "APA",
    "EFE",
    "ANSA",
    "PA",
    "Xinhua",
    "Ritzau",
    "SDA",
    "Keystone-SDA",
    "ATS",
    "Keystone-ATS",
    "KNA",
    "epd",
    "AAP",
    "CP",
    "UPI",
    "Kyodo",
    "Yonhap",
    "Belga",
    "Lusa",
    "STT",
    "PAP",
    "CTK",
    "AGI",
    "Bloomberg",
    "Europa Press",
    "Anadolu",
    "TASS",
)
# Longer spellings of some of them.
AGENCY_NAMES = {
    "Associated Press": "AP",
    "The Associated Press": "AP",
    "Agence France-Presse": "AFP",
    "Agence France Presse": "AFP",
    "Deutsche Presse-Agentur": "dpa",
    "Press Association": "PA",
    "PA Media": "PA",
    "The Canadian Press": "CP",
    "Canadian Press": "CP",
    "Australian Associated Press": "AAP",
    "Kyodo News": "Kyodo",
    "Yonhap News Agency": "Yonhap",
    "Xinhua News Agency": "Xinhua",
    "Ritzau Scanpix": "Ritzau",
    "Norsk Telegrambyrå": "NTB",
    "Tidningarnas Telegrambyrå": "TT",
    "Agencia EFE": "EFE",
    "Thomson Reuters": "Reuters",
    "Reuters Staff": "Reuters",
    "Bloomberg News": "Bloomberg",
    "Anadolu Agency": "Anadolu",
}

# "By" and its kin, per language, at the start of a byline.
_PREFIX_WORDS = {
    "en": ("by", "written by", "reported by", "reporting by", "words by", "story by", "text by"),
    "de": ("von", "text von"),
    "fr": ("par", "texte de"),
    "nb": ("av", "tekst av"),
    "sv": ("av", "text av"),
    "da": ("af", "tekst af"),
    "es": ("por", "texto de"),
    "pt": ("por", "texto de"),
    "nl": ("door", "tekst door"),
    "it": ("di", "testo di"),
}
_LABELS = ("text", "texte", "tekst", "texto", "testo", "words", "von", "by")  # "Text: A"
# A prefix that is also part of names ("Di Maria", "von der Leyen") only counts when a
# capitalised name of at least two words follows it.
_AMBIGUOUS_PREFIXES = frozenset({"di", "von", "af"})

# Words joining two names, per language; English "and", "with" and "&" are understood in any.
CONJUNCTIONS = {
    "en": ("and", "with"),
    "de": ("und",),
    "fr": ("et",),
    "nb": ("og",),
    "da": ("og",),
    "sv": ("och",),
    "es": ("y", "e"),
    "pt": ("e",),
    "it": ("e", "ed"),
    "nl": ("en",),
}

_MAX_PART = 200  # characters: a longer part of a byline is not a name


def _alternation(words: Iterable[str]) -> str:
    return "|".join(
        re.escape(w).replace(r"\ ", r"\s+") for w in sorted(set(words), key=lambda w: (-len(w), w))
    )


_PREFIX = re.compile(
    rf"^(?:(?P<word>{_alternation(w for ws in _PREFIX_WORDS.values() for w in ws)})"
    rf"\s*[:\-–]?\s+|(?:{_alternation(_LABELS)})\s*:\s*)",
    re.I,
)
_CREDIT_SPLIT = re.compile(r"\s*[|/•·]\s*|\s+[–—-]\s+")  # "A | Reuters", "A/AP", "A – dpa"
_PARENS = re.compile(r"\(([^()]*)\)")
_CAPITAL = r"[A-Z\u00c0-\u00d6\u00d8-\u00de\u0100-\u017f]"
# What follows a name: a place ("A in Kyiv", "A i Oslo") or an outlet ("A For Dailymail.Com").
_SUFFIX = re.compile(
    rf"\s+(?:(?:in|i|à|au|en|em|a)\s+{_CAPITAL}[^,]*|(?i:for|für|pour|para|voor|för)\s+\S.*)$"
)
_LETTER = re.compile(r"[^\W\d_]")
_VIA = re.compile(r"\s+via\s+.*$", re.I)
_DOMAIN = re.compile(r"\w\.(com|org|net|co|uk|de|fr|no|se|dk|es|it|nl|at|ch)\b", re.I)


_NON_WORD = re.compile(r"[^\w]+")


def fold(text: str) -> str:
    """Case- and accent-insensitive form of a name: 'Zoë  O’Neil' -> 'zoe o neil'."""
    if text.isascii():
        plain = text.lower()
    else:
        decomposed = unicodedata.normalize("NFKD", text)
        plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return " ".join(_NON_WORD.sub(" ", plain).split())


_AGENCY_OF = {fold(a): a for a in AGENCIES} | {fold(k): v for k, v in AGENCY_NAMES.items()}


def agency(part: str) -> str | None:
    """The agency a byline part names ("DPA", "Associated Press" -> "dpa", "AP"), if any."""
    if len(part) > _MAX_PART:
        return None
    return _AGENCY_OF.get(fold(part))


@lru_cache(maxsize=64)
def _separators_for(tag: str | None) -> re.Pattern[str]:
    """`_separators` of a language tag as sent ("nb-NO")."""
    return _separators(language_key(tag))


@lru_cache(maxsize=32)
def _separators(language: str | None) -> re.Pattern[str]:
    """Commas, semicolons, "&" and the conjunctions: English ones and those of the language
    in any case; when the language is unknown, those of every language we know, written in
    lower or upper case only (a scraped "Published A.M. Et Dec." is not two names). A
    one-letter conjunction ("y", "e") counts in lower case only."""
    if language in CONJUNCTIONS:
        anycase = [*CONJUNCTIONS["en"], *CONJUNCTIONS[language]]
        other: list[str] = []
    else:
        anycase = list(CONJUNCTIONS["en"])
        other = [w for ws in CONJUNCTIONS.values() for w in ws if w not in anycase]
    long_other = [w for w in other if len(w) > 1]
    words = rf"(?i:{_alternation(w for w in anycase if len(w) > 1)})"
    if long_other:
        words += f"|{_alternation(long_other)}|{_alternation(w.upper() for w in long_other)}"
    pattern = rf"\s*(?:[,;&]|\b(?:{words})\b)\s*"
    if short := _alternation(w for w in (*anycase, *other) if len(w) == 1):
        pattern += rf"|\s+(?:{short})\s+"
    return re.compile(pattern)


def strip_prefix(text: str) -> str:
    """The byline without its "By", "Von", "Par", "Av", "Text:" ..."""
    match = _PREFIX.match(text)
    if match is None:
        return text
    rest = text[match.end() :]
    word = (match.group("word") or "").lower()
    if word in _AMBIGUOUS_PREFIXES and not (rest[:1].isupper() and len(rest.split()) >= 2):
        return text  # "Di Maria", "von der Leyen": a name, not a prefix
    return rest


def _is_person(part: str, folded: str) -> bool:
    words = folded.split()
    if not words or len(words) > 5 or not _LETTER.search(part):
        return False
    if "." in part and _DOMAIN.search(part):
        return False  # a domain: "Www.Dw.Com"
    return not any(w in ROLE_WORDS or w in ORGANISATION_WORDS for w in words)


def _clean(part: str) -> str:
    return _SUFFIX.sub("", strip_prefix(part.strip())).strip(" .-–—:")


@dataclass(frozen=True)
class Byline:
    """What a byline says: the people who wrote it, and the agency or service it credits."""

    names: tuple[str, ...] = ()
    credit: str | None = None  # "dpa", "AP", "dpa/AFP"


def read_byline(byline: str, language: str | None = None) -> Byline:
    """The person names (in order, without duplicates) and the credited agencies of a
    byline. `language` (as sent: "de", "nb-NO") picks the conjunctions; unknown: all."""
    text = " ".join(byline.split())
    credits: list[str] = []

    def credit_in(parens: re.Match[str]) -> str:
        for piece in _CREDIT_SPLIT.split(parens.group(1)):
            if found := agency(piece):
                credits.append(found)
        return " "

    if "(" in text:
        text = _PARENS.sub(credit_in, text)
    head, *tail = _CREDIT_SPLIT.split(text)
    separators = _separators_for(language)
    names: list[str] = []
    seen: set[str] = set()
    for raw in separators.split(strip_prefix(head)):
        if len(raw) > _MAX_PART:
            continue
        name = _clean(raw)
        key = fold(name)
        if found := _AGENCY_OF.get(key):
            credits.append(found)
        elif key not in seen and _is_person(name, key):
            seen.add(key)
            names.append(name)
    for piece in tail:  # after "|" or "/": an outlet or an agency, never a person
        for raw in separators.split(piece):
            if len(raw) <= _MAX_PART and (found := agency(_clean(_VIA.sub("", raw)))):
                credits.append(found)
    return Byline(tuple(names), "/".join(dict.fromkeys(credits)) or None)


def parse_byline(byline: str, language: str | None = None) -> list[str]:
    """Person names in a byline, in order, without duplicates."""
    return list(read_byline(byline, language).names)


def byline_credit(byline: str | None, language: str | None = None) -> str | None:
    """The agency or service a byline credits ("Von A, dpa" -> "dpa"), if any."""
    return read_byline(byline, language).credit if byline else None


@dataclass(frozen=True)
class Authors:
    """The authors of an article: their names, what the document says of them, and the
    agency or service its byline credits."""

    names: list[str]
    described: dict[str, Contributor]  # folded name -> the contributor of that name
    credit: str | None = None


def authors_of(
    author_names: Iterable[str],
    byline: str | None,
    *,
    contributors: Iterable[Contributor] = (),
    language: str | None = None,
) -> Authors:
    """Prefer the structured authors (the document's contributors, then its author names),
    each cleaned like a byline part; only when there are none, parse the byline text. The
    credit comes from the byline text in any case. A contributor describes the one person
    its name holds (an entry naming several people describes none). Each distinct entry is
    read once."""
    names: list[str] = []
    described: dict[str, Contributor] = {}
    seen: set[str] = set()
    read: set[str] = set()
    for entry, contributor in (
        *((c.name, c) for c in contributors),
        *((n, None) for n in author_names),
    ):
        if entry in read:
            continue
        read.add(entry)
        found = read_byline(entry, language).names
        for name in found:
            key = fold(name)
            if contributor is not None and len(found) == 1:
                described.setdefault(key, contributor)
            if key not in seen:
                seen.add(key)
                names.append(name)
    said = read_byline(byline, language) if byline else Byline()
    return Authors(names or list(said.names), described, said.credit)


def byline_names(
    author_names: Iterable[str],
    byline: str | None,
    *,
    contributors: Iterable[Contributor] = (),
    language: str | None = None,
) -> list[str]:
    """The authors' names (`authors_of`)."""
    return authors_of(author_names, byline, contributors=contributors, language=language).names


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
        return self.find_folded(fold(name))

    def find_folded(self, key: str) -> AuthorProfile | None:
        """`find` by a name already folded."""
        slug = self._by_key.get(key)
        return self._by_slug.get(slug) if slug else None

    def profiles(self) -> list[AuthorProfile]:
        return sorted(self._by_slug.values(), key=lambda p: p.slug)


def card(profile: AuthorProfile) -> AuthorCard:
    return AuthorCard(
        name=profile.name,
        slug=profile.slug,
        role=profile.role,
        bio=profile.bio,
        avatar_url=str(profile.avatar_url) if profile.avatar_url else None,
        url=author_path(profile.slug),
    )


def author_cards(
    names: Iterable[str],
    directory: Directory,
    contributors: Iterable[Contributor] | Mapping[str, Contributor] = (),
) -> list[AuthorCard]:
    """One card per byline name: the directory profile when known; else what the document
    itself says of that author (role, bio, avatar; no author page); else the name alone.
    `contributors`: the document's, or `Authors.described`."""
    own = (
        contributors
        if isinstance(contributors, Mapping)
        else authors_of((), None, contributors=contributors).described
    )
    cards: list[AuthorCard] = []
    seen: set[AuthorCard] = set()
    for name in names:
        key = fold(name)
        profile = directory.find_folded(key)
        if profile is not None:
            new = card(profile)
        elif (contributor := own.get(key)) is not None:
            new = AuthorCard(
                name=name,
                role=contributor.role,
                bio=contributor.bio,
                avatar_url=contributor.avatar_url,
            )
        else:
            new = AuthorCard(name=name)
        if new not in seen:
            seen.add(new)
            cards.append(new)
    return cards
