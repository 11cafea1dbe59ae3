"""Reader-facing page text and dates in the story's language.

One dict of strings per language, month names and a date pattern per language.
`language(tag)` maps what a newsroom sends ("nb-NO", "zh-Hans", "no") to one of
the languages here, and anything unknown to English. Times stay in UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from shared.languages import primary

DEFAULT = "en"
NBSP = "\u00a0"

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "by": "by",
        "min_read": "{n} min read",
        "related": "Related",
        "news_feed": "News Feed",
        "show_more": "Show More",
        "read_more": "Read more",
        "updated": "Updated",
        "correction": "Correction",
        "photo": "Photo",
        "video": "Video",
        "audio": "Audio",
        "graphic": "Graphic",
        "subjects": "Subjects",
        "subject": "Subject",
        "about_author": "About the author",
        "latest_news": "Latest news",
        "latest": "Latest",
        "articles_by": "Articles by {name}",
        "no_stories": "No stories yet.",
        "in_package": "More on this story",
        "colon": ": ",
        "read_more_about": " about {name}",
        "feed_description": "The latest stories from {site}, newest first.",
        "subject_description": "Stories about {name} from {site}, newest first.",
        "author_description": "Articles by {name} on {site}.",
        "gone_description": "This story has been withdrawn and is no longer available.",
    },
    "de": {
        "by": "von",
        "min_read": "{n} Min. Lesezeit",
        "related": "Mehr zum Thema",
        "news_feed": "Nachrichten",
        "show_more": "Mehr anzeigen",
        "read_more": "Weiterlesen",
        "updated": "Aktualisiert",
        "correction": "Korrektur",
        "photo": "Foto",
        "video": "Video",
        "audio": "Audio",
        "graphic": "Grafik",
        "subjects": "Themen",
        "subject": "Thema",
        "about_author": "Über den Autor",
        "latest_news": "Neueste Nachrichten",
        "latest": "Neueste",
        "articles_by": "Artikel von {name}",
        "no_stories": "Noch keine Artikel.",
        "in_package": "Mehr zu dieser Geschichte",
        "colon": ": ",
        "read_more_about": " über {name}",
        "feed_description": "Die neuesten Artikel von {site}, die neuesten zuerst.",
        "subject_description": "Artikel zum Thema {name} von {site}, die neuesten zuerst.",
        "author_description": "Artikel von {name} bei {site}.",
        "gone_description": "Dieser Artikel wurde zurückgezogen und ist nicht mehr verfügbar.",
    },
    "fr": {
        "by": "par",
        "min_read": "{n} min de lecture",
        "related": "À lire aussi",
        "news_feed": "Fil d'actualité",
        "show_more": "Voir plus",
        "read_more": "Lire la suite",
        "updated": "Mis à jour le",
        "correction": "Rectificatif",
        "photo": "Photo",
        "video": "Vidéo",
        "audio": "Audio",
        "graphic": "Infographie",
        "subjects": "Sujets",
        "subject": "Sujet",
        "about_author": "À propos de l'auteur",
        "latest_news": "Dernières actualités",
        "latest": "À la une",
        "articles_by": "Articles de {name}",
        "no_stories": "Aucun article pour l'instant.",
        "in_package": "Sur le même sujet",
        "colon": NBSP + ": ",
        "read_more_about": " sur {name}",
        "feed_description": "Les derniers articles de {site}, du plus récent au plus ancien.",
        "subject_description": "Articles sur {name} de {site}, du plus récent au plus ancien.",
        "author_description": "Articles de {name} sur {site}.",
        "gone_description": "Cet article a été retiré et n'est plus disponible.",
    },
    "nb": {
        "by": "av",
        "min_read": "{n} min lesetid",
        "related": "Relaterte saker",
        "news_feed": "Nyhetsstrøm",
        "show_more": "Vis flere",
        "read_more": "Les mer",
        "updated": "Oppdatert",
        "correction": "Rettelse",
        "photo": "Foto",
        "video": "Video",
        "audio": "Lyd",
        "graphic": "Grafikk",
        "subjects": "Emner",
        "subject": "Emne",
        "about_author": "Om forfatteren",
        "latest_news": "Siste nytt",
        "latest": "Siste",
        "articles_by": "Saker av {name}",
        "no_stories": "Ingen saker ennå.",
        "in_package": "Mer om saken",
        "colon": ": ",
        "read_more_about": " om {name}",
        "feed_description": "De siste sakene fra {site}, nyeste først.",
        "subject_description": "Saker om {name} fra {site}, nyeste først.",
        "author_description": "Saker av {name} på {site}.",
        "gone_description": "Denne saken er trukket tilbake og er ikke lenger tilgjengelig.",
    },
    "sv": {
        "by": "av",
        "min_read": "{n} min läsning",
        "related": "Relaterat",
        "news_feed": "Nyhetsflöde",
        "show_more": "Visa fler",
        "read_more": "Läs mer",
        "updated": "Uppdaterad",
        "correction": "Rättelse",
        "photo": "Foto",
        "video": "Video",
        "audio": "Ljud",
        "graphic": "Grafik",
        "subjects": "Ämnen",
        "subject": "Ämne",
        "about_author": "Om skribenten",
        "latest_news": "Senaste nytt",
        "latest": "Senaste",
        "articles_by": "Artiklar av {name}",
        "no_stories": "Inga artiklar ännu.",
        "in_package": "Mer om detta",
        "colon": ": ",
        "read_more_about": " om {name}",
        "feed_description": "De senaste artiklarna från {site}, nyaste först.",
        "subject_description": "Artiklar om {name} från {site}, nyaste först.",
        "author_description": "Artiklar av {name} på {site}.",
        "gone_description": "Artikeln har dragits tillbaka och finns inte längre.",
    },
    "es": {
        "by": "por",
        "min_read": "{n} min de lectura",
        "related": "Relacionado",
        "news_feed": "Noticias",
        "show_more": "Mostrar más",
        "read_more": "Leer más",
        "updated": "Actualizado",
        "correction": "Corrección",
        "photo": "Foto",
        "video": "Vídeo",
        "audio": "Audio",
        "graphic": "Gráfico",
        "subjects": "Temas",
        "subject": "Tema",
        "about_author": "Sobre el autor",
        "latest_news": "Últimas noticias",
        "latest": "Lo último",
        "articles_by": "Artículos de {name}",
        "no_stories": "Todavía no hay artículos.",
        "in_package": "Más sobre esta historia",
        "colon": ": ",
        "read_more_about": " sobre {name}",
        "feed_description": "Las últimas noticias de {site}, las más recientes primero.",
        "subject_description": "Noticias sobre {name} de {site}, las más recientes primero.",
        "author_description": "Artículos de {name} en {site}.",
        "gone_description": "Esta noticia fue retirada y ya no está disponible.",
    },
    "zh": {
        "by": "作者：",
        "min_read": "阅读时间 {n} 分钟",
        "related": "相关报道",
        "news_feed": "新闻动态",
        "show_more": "显示更多",
        "read_more": "阅读更多",
        "updated": "更新于",
        "correction": "更正",
        "photo": "图片",
        "video": "视频",
        "audio": "音频",
        "graphic": "图表",
        "subjects": "主题",
        "subject": "主题",
        "about_author": "关于作者",
        "latest_news": "最新新闻",
        "latest": "最新",
        "articles_by": "{name}的文章",
        "no_stories": "暂无文章。",
        "in_package": "更多相关内容",
        "colon": "：",
        "read_more_about": "：{name}",
        "feed_description": "{site}的最新报道，按时间由新到旧排列。",
        "subject_description": "{site}关于{name}的报道，按时间由新到旧排列。",
        "author_description": "{name}在{site}发表的文章。",
        "gone_description": "这篇报道已被撤回，无法再查看。",
    },
}

MONTHS: dict[str, tuple[str, ...]] = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "de": (
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ),
    "fr": (
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ),
    "nb": (
        "januar",
        "februar",
        "mars",
        "april",
        "mai",
        "juni",
        "juli",
        "august",
        "september",
        "oktober",
        "november",
        "desember",
    ),
    "sv": (
        "januari",
        "februari",
        "mars",
        "april",
        "maj",
        "juni",
        "juli",
        "augusti",
        "september",
        "oktober",
        "november",
        "december",
    ),
    "es": (
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ),
}

# {d} day, {m} month number, {month} month name, {y} year
DATE_FORMATS: dict[str, str] = {
    "en": "{month} {d}, {y}",
    "de": "{d}. {month} {y}",
    "fr": "{d} {month} {y}",
    "nb": "{d}. {month} {y}",
    "sv": "{d} {month} {y}",
    "es": "{d} de {month} de {y}",
    "zh": "{y}年{m}月{d}日",
}


def language(tag: str | None) -> str:
    """A language tag as sent ("nb-NO", "zh-Hans", "DE") -> a language here, else English."""
    found = primary(tag)
    return found if found in TEXTS else DEFAULT


def texts(lang: str | None) -> Mapping[str, str]:
    """The page strings of a language (any tag; unknown -> English)."""
    return TEXTS[language(lang)]


def reading_time(minutes: int, lang: str | None) -> str:
    return texts(lang)["min_read"].format(n=max(1, minutes))


def labelled(key: str, value: str, lang: str | None) -> str:
    """`Photo: AFP`, `Rectificatif : ...`, `图片：新华社` — a label and its value."""
    strings = texts(lang)
    return f"{strings[key]}{strings['colon']}{value}"


def format_date(moment: datetime, lang: str | None) -> str:
    """The UTC calendar date, written the way the language writes it."""
    code = language(lang)
    utc = moment.astimezone(UTC)
    day: str = str(utc.day)
    if code == "fr" and utc.day == 1:
        day = "1er"
    months = MONTHS.get(code)
    month = months[utc.month - 1] if months else str(utc.month)
    return DATE_FORMATS[code].format(d=day, m=utc.month, month=month, y=utc.year)


def format_datetime(moment: datetime, lang: str | None) -> str:
    """Date and UTC time; the time never wraps away from its "UTC"."""
    utc = moment.astimezone(UTC)
    return f"{format_date(utc, lang)} · {utc:%H:%M}{NBSP}UTC"
