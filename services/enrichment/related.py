"""Related links: a pure, in-memory ranking index over the article archive.

Text similarity is BM25 over headline (boosted), subheadline and body, with
each document reduced to its most distinctive terms so the index stays small.
The text score is normalised to [0, 1) by the best score the query could get,
so a fixed threshold can keep unrelated stories out. Candidates above the
threshold are re-ranked with subject overlap and recency. A story is only ever
related to stories of its own language (`language_key`: "de-DE" and "de" agree, an
unlabelled story matches unlabelled ones), and its words are read with that language's
function words left out. Everything here is synchronous and deterministic: ties are
broken by uri, the clock is passed in.

`galley.evaluate` imports this module to replay a corpus in archive mode.
"""

from __future__ import annotations

import heapq
import itertools
import math
import re
import unicodedata
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from shared.languages import primary

# --- tokenizing ---------------------------------------------------------------

# Function words are not evidence that two stories are about the same thing. Each list is
# written in plain spelling and folded (below), so "für" and "fur", "på" and "pa" agree.
STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each
    few for from further had has have having he her here hers herself him himself his how
    i if in into is it its itself just me more most my myself no nor not now of off on
    once only or other our ours ourselves out over own said same says she should so some
    such than that the their theirs them themselves then there these they this those
    through to too under until up very was we were what when where which while who whom
    why will with would you your yours yourself yourselves one two new also year years
    told say week last first may like get got us mr ms mrs according people time would
    make made since many much well back even still way including around just could
    """.split()
)

_FUNCTION_WORDS = {
    "de": """
        aber alle allem allen aller alles als also am an andere anderen anderer anderes anders
        auch auf aus bei beim bereits bin bis bisher bist da dabei dadurch dafür dagegen daher
        damit danach dann darauf darum das dass daß dazu dem den denen denn der deren des
        deshalb dessen die dies diese diesem diesen dieser dieses doch dort du durch ein eine
        einem einen einer eines einige einmal er es etwa etwas euch euer für gegen gewesen
        hab habe haben hat hatte hatten heute hier hin hinter ich ihm ihn ihnen ihr ihre
        ihrem ihren ihrer ihres im immer in ins ist ja jahr jahre jahren jede jedem jeden
        jeder jedes jedoch jetzt kann kein keine keinem keinen keiner können könnte laut
        man mehr mein meine mich mir mit muss müssen nach neue neuen nicht nichts noch nun
        nur ob oder ohne prozent rund sagt sagte schon sehr sei sein seine seinem seinen
        seiner seit sich sie sind so soll sollen sollte sondern sowie über um und uns unser
        unter viel vom von vor war waren warum was weil weiter welche welchem welchen
        welcher wenn wer werde werden wie wieder will wir wird wo wollen wurde wurden zu zum
        zur zwar zwei zwischen
        """,
    "fr": """
        ai alors an ans après au aussi autre autres aux avait avaient avant avec avoir ce
        ceci cela celle celles celui ces cet cette ceux chez comme contre dans de depuis des
        deux dit donc dont du déjà elle elles en encore entre est et eux fait faire il ils
        je la le les leur leurs lors lui ma mais me mes moins mon même ne ni nos notre nous
        on ont or ou où par pas pendant peu plus pour qu que quel quelle qui quoi sa sans se
        selon ses si son sont sous sur ta te tes ton tous tout toute toutes très tu un une
        vers vos votre vous y été être était étaient année années
        """,
    "nb": """
        alle andre at av bare begge blant ble blei bli blir blitt både da de dem den denne der
        deres det dette din ditt du eller en enn er et ett etter for fordi fra før ha hadde
        han hans har hennes her hun hva hvem hver hvilke hvilken hvis hvor hvordan hvorfor
        i ikke ingen inn ja jeg kan kom kunne man mange med meg mellom men mer mot min mine
        mitt mye må ned nå noe noen når og også om opp oss over på sa samme seg selv sier siden
        sin sine sitt skal skulle slik som så sånn til ut uten var vi ville vil vår være
        vært år året to
        """,
    "sv": """
        alla allt att av blev bli blir blivit de dem den denna deras dess dessa det detta
        dig din dina ditt du där då efter ej eller en er era ett från för ha hade han hans
        har hennes henne hon honom hur här i icke ingen inom inte jag ju kan kunde man med
        mellan men mig min mina mitt mot mycket ni nu när någon något några och också om
        oss på sa sade samma sedan sig sin sina sitt skulle som så säger till under upp ut
        utan vad var vara varför varit varje vars vem vi vid vilka vilken vilket vår våra
        vårt än är åt över år året två
        """,
    "da": """
        ad af alle alt anden at blev blive bliver da de dem den denne der deres det dette
        dig din disse dog du efter eller en end er et for fra har havde have hende hendes
        her hos hun hvad hvis hvor i ikke ind jeg jer jo kan kunne man mange med meget men
        mig min mine mit mod ned noget nogle nu når og også om op os over sagde selv sig
        siger sin sine sit skal skulle som sådan på thi til ud under var vi vil ville vor være
        været år året to
        """,
    "es": """
        a al ante año años aquel aquella cada como con contra cual cuales cuando de del
        desde dice dijo donde durante e el ella ellas ellos en entre era eran es esa esas
        ese eso esos esta estaba estas este esto estos está están fue fueron ha había
        habían han hasta hay la las le les lo los más me menos mi mis mismo misma muy ni no
        nos nuestra nuestro o otra otras otro otros para pero por porque que quien quienes
        qué se sea ser si sido sin sino sobre su sus sí también tras tu tus u un una unas
        uno unos usted ya yo él
        """,
    "pt": """
        a ao aos ano anos após aquela aquele as até cada com como da das de desde disse diz
        do dos durante e ela elas ele eles em entre era eram essa esse esta estava este
        estão está eu foi foram há isso isto já mais mas mesmo muito na nas no nos não o
        onde os ou outra outras outro outros para pela pelas pelo pelos por quando que se
        sem ser seu seus sobre sua suas são também tem ter tinha todo toda todos todas têm
        um uma umas uns você à às é
        """,
    "nl": """
        aan al als andere bij dan dat de deze die dit door dus een en er geen had heeft
        hebben het hier hij hoe hun haar hem ik in is jaar jaren je kan kunnen maar meer
        met moet na naar niet nog nu of om omdat ook op over sinds te tegen toen tot u uit
        van veel volgens voor waar want was waren wat we wel werd welke wie wij wordt worden
        zal ze zegt zei zich zij zijn zo zou
        """,
    "it": """
        a agli ai al alla alle allo anche anni anno ancora avere aveva che chi ci come con
        contro cui da dagli dai dal dalla dalle dallo degli dei del della delle dello detto
        di dopo durante e ed era erano essere fra gli già ha hanno i il in io la le lei lo
        loro lui ma mi molto ne negli nei nel nella nelle nello noi non o per più prima
        quella quelle quelli quello questa queste questi questo se secondo si sono stata
        stati stato stesso su sua sue sui sul sulla sulle suo suoi ti tra tu tutta tutte
        tutti tutto un una uno vi voi è
        """,
}

_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# Latin letters NFKD leaves whole: without these, "søndag" would split into "s" + "ndag".
_WHOLE = {"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th"}
_LETTERS = str.maketrans(
    {**_WHOLE, **{k.upper(): v for k, v in _WHOLE.items()}, "ß": "ss", "ẞ": "ss", "ı": "i"}
)
_HAS_LETTERS = re.compile("[" + "".join(map(chr, _LETTERS)) + "]")
_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")


def fold(text: str) -> str:
    """Lower-case and strip accents (NFKD), so 'Zelenskyy' and 'ZELENSKYY' agree."""
    if text.isascii():
        return text.lower()
    if _HAS_LETTERS.search(text):  # rare: a C-speed scan spares the slow translate
        text = text.translate(_LETTERS)
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text)).lower()


def language_key(tag: str | None) -> str | None:
    """The language a document is matched by (`shared.languages.primary`)."""
    return primary(tag)


def stem(word: str) -> str:
    """A light, readable stemmer for English: possessives and plain plurals only."""
    for suffix in ("'s", "’s"):
        if word.endswith(suffix):
            word = word[: -len(suffix)]
    word = word.replace("’", "'").split("'")[0]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    return _plural_s(word)


def _plural_s(word: str) -> str:
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _elided(word: str) -> str:
    """French and Italian elision: "l'armée" -> "armée", "dell'anno" -> "anno"."""
    return word.replace("’", "'").rsplit("'", 1)[-1]


def _stem_romance(word: str) -> str:
    return _plural_s(_elided(word))


def _stem_none(word: str) -> str:
    return word.replace("’", "'").split("'")[0]


@dataclass
class _Lexicon:
    """How one language's words become terms: its function words and its light stemmer."""

    stopwords: frozenset[str]
    stem: Callable[[str], str]
    stems: dict[str, str] = field(default_factory=dict)  # raw word -> term, "" for none


def _lexicon(words: str | frozenset[str], stemmer: Callable[[str], str]) -> _Lexicon:
    listed = words.split() if isinstance(words, str) else words
    return _Lexicon(frozenset(fold(w) for w in listed), stemmer)


_STEMMERS: dict[str, Callable[[str], str]] = {
    "fr": _stem_romance,
    "it": _elided,
    "es": _plural_s,
    "pt": _plural_s,
}
_LEXICONS: dict[str | None, _Lexicon] = {
    "en": _lexicon(STOPWORDS, stem),
    **{
        lang: _lexicon(words, _STEMMERS.get(lang, _stem_none))
        for lang, words in _FUNCTION_WORDS.items()
    },
}
_LEXICONS[None] = _LEXICONS["en"]  # an unlabelled story is read as English (as it always was)
_OTHER = _lexicon(STOPWORDS, _stem_none)  # a language without a list: English quotes only
STOPWORDS_BY_LANGUAGE: dict[str, frozenset[str]] = {
    lang: lex.stopwords for lang, lex in _LEXICONS.items() if lang is not None
}


def tokenize(text: str, language: str | None = None) -> list[str]:
    """Content-word stems of a text, in order, with the function words of its language
    (`language_key(language)`) left out."""
    lexicon = _LEXICONS.get(language_key(language), _OTHER)
    known_stems = lexicon.stems
    words = _WORD.findall(fold(text))
    stems = list(map(known_stems.get, words))  # one C-level lookup per word
    if None in stems:
        for i, known in enumerate(stems):
            if known is None:
                stems[i] = _content_stem(words[i], lexicon)
    return [w for w in stems if w]


_MAX_STEMS = 262_144


def _content_stem(raw: str, lexicon: _Lexicon) -> str:
    word = lexicon.stem(raw)
    stop = lexicon.stopwords
    if not (len(word) > 1 and word not in stop and raw not in stop and not word.isdigit()):
        word = ""
    if len(lexicon.stems) >= _MAX_STEMS:  # bounded: start again rather than grow without end
        lexicon.stems.clear()
    lexicon.stems[raw] = word
    return word


# --- documents and parameters -------------------------------------------------


@dataclass(frozen=True)
class Doc:
    """What the index needs to know about one archive article."""

    uri: str
    slug: str
    headline: str
    body: str = ""
    subheadline: str = ""
    subjects: tuple[str, ...] = ()
    published: datetime | None = None
    visible_from: datetime | None = None
    killed: bool = False
    language: str | None = None  # as sent ("de-DE"); matched by `language_key`


@dataclass(frozen=True)
class Params:
    k1: float = 1.2
    b: float = 0.75
    headline_boost: int = 3  # a headline word counts as this many body words
    subheadline_boost: int = 2
    phrases: bool = False  # adjacent word pairs are terms too
    terms_per_doc: int = 150  # distinctive terms kept per indexed document
    query_terms: int = 40  # distinctive terms of the query that are looked up
    max_df_ratio: float = 0.1  # terms in more than this share of the archive are not looked up
    # The relevance floor: no link below it. Measured with `galley evaluate` on news_cluster
    # (top 5 links per article): 0.05 is the highest floor at which nothing a reader sees
    # gets worse (P@1 0.984, P@5 0.626, recall 0.978, no article with an earlier same-event
    # story left without a link) nor R-precision (0.961), while 123 fewer links are shown
    # than at 0.03, all to other events (1,893 -> 1,770, the same 983 to the same event):
    # precision of the links shown 0.519 -> 0.555. The same holds with subjects removed.
    # Its cost is deep in the ranking: the 10 same-event stories it cuts ranked 10th or
    # lower, so MAP over whole rankings goes 0.974 -> 0.971. Higher floors trade recall for
    # precision: 0.06 keeps the top 5 but R-precision falls to 0.956 and MAP to 0.966; 0.08
    # gives precision 0.692 for recall 0.970 and 13 articles without a link; 0.10 gives
    # 0.785 for 0.959.
    min_text_score: float = 0.05
    min_matched_terms: int = 2  # nor is one sharing fewer distinctive terms (3 is no better)
    rerank_depth: int = 50  # candidates re-ranked with subjects and recency
    subject_weight: float = 0.1
    recency_weight: float = 0.5
    recency_days: float = 5.0  # e-folding time of the recency bonus


DEFAULT = Params()


@dataclass(frozen=True)
class Scored:
    """One ranked candidate, with why it was chosen."""

    uri: str
    slug: str
    headline: str
    score: float
    text_score: float
    matched_terms: tuple[str, ...]


def with_phrases(tokens: list[str], phrases: bool) -> list[str]:
    """The tokens, plus each pair of adjacent tokens as a phrase term ("north korea")."""
    if not phrases:
        return tokens
    return tokens + [f"{a} {b}" for a, b in itertools.pairwise(tokens)]


def weighted_terms(doc: Doc, params: Params = DEFAULT) -> Counter[str]:
    """Term frequencies with the headline and subheadline boosted."""
    lang = doc.language
    counts: Counter[str] = Counter(with_phrases(tokenize(doc.body, lang), params.phrases))
    for term in with_phrases(tokenize(doc.headline, lang), params.phrases):
        counts[term] += params.headline_boost
    for term in with_phrases(tokenize(doc.subheadline, lang), params.phrases):
        counts[term] += params.subheadline_boost
    return counts


def _ts(moment: datetime | None) -> float:
    return moment.timestamp() if moment is not None else math.nan


# --- the index ----------------------------------------------------------------


@dataclass
class _Postings:
    slots: array = field(default_factory=lambda: array("i"))
    # BM25 term-frequency part tf*(k1+1)/(tf+k1*(1-b+b*len/avglen)), scaled to 0..255
    impacts: array = field(default_factory=lambda: array("B"))


class RelatedIndex:
    """An append-only BM25 index; replaced or killed documents are masked out."""

    def __init__(self, params: Params = DEFAULT) -> None:
        self.params = params
        self._vocab: dict[str, int] = {}
        self._terms: list[str] = []
        self._postings: list[_Postings] = []
        self._df: array = array("i")
        self._subject_ids: dict[str, int] = {}
        self._uris: list[str] = []
        self._slugs: list[str] = []
        self._headlines: list[str] = []
        self._subjects: list[frozenset[int]] = []
        self._language_ids: dict[str | None, int] = {}
        self._language = array("i")  # per slot: the id of its language_key
        self._length = array("f")
        self._published = array("d")
        self._visible_from = array("d")
        self._alive = bytearray()
        self._slot_of: dict[str, int] = {}
        self._total_length = 0.0
        self._live = 0
        self._memo: tuple[Doc, Counter[str]] | None = None

    def __len__(self) -> int:
        return self._live

    def __contains__(self, uri: str) -> bool:
        return uri in self._slot_of

    # -- writing ---------------------------------------------------------------

    def add(self, doc: Doc) -> None:
        """Insert or replace a document (a new version replaces the old one).

        A killed document only removes what was there: it can never be linked.
        """
        self.remove(doc.uri)
        if doc.killed:
            return
        counts = self._weighted_terms(doc)
        slot = len(self._uris)
        length = float(sum(counts.values()))
        self._total_length += length
        self._live += 1
        # Each posting keeps BM25's saturated tf, tf*(k1+1)/(tf + k1*(1-b+b*len/avglen)),
        # against the average length so far, scaled to 1..255 (see _Postings).
        p = self.params
        avg = self._total_length / max(self._live, 1)
        k1p1 = p.k1 + 1.0
        norm = p.k1 * (1.0 - p.b + p.b * length / avg)
        chosen = self._distinctive(counts, p.terms_per_doc)
        tf = np.array([count for _term, count in chosen])
        # the same float operations, in the same order, as one vector (rint: round half even)
        impacts = np.clip(np.rint(tf * k1p1 / (tf + norm) / k1p1 * 255.0), 1, 255)
        term_id, all_postings, df = self._term_id, self._postings, self._df
        for (term, _tf), impact in zip(chosen, impacts.astype(np.uint8).tolist(), strict=True):
            tid = term_id(term)
            postings = all_postings[tid]
            postings.slots.append(slot)
            postings.impacts.append(impact)
            df[tid] += 1
        self._uris.append(doc.uri)
        self._slugs.append(doc.slug)
        self._headlines.append(doc.headline)
        self._subjects.append(frozenset(self._subject_id(s) for s in doc.subjects))
        language = language_key(doc.language)
        self._language.append(self._language_ids.setdefault(language, len(self._language_ids)))
        self._length.append(length)
        self._published.append(_ts(doc.published))
        self._visible_from.append(_ts(doc.visible_from))
        self._alive.append(1)
        self._slot_of[doc.uri] = slot

    def remove(self, uri: str) -> None:
        slot = self._slot_of.pop(uri, None)
        if slot is None:
            return
        self._alive[slot] = 0
        self._total_length -= self._length[slot]
        self._live -= 1

    def _term_id(self, term: str) -> int:
        tid = self._vocab.get(term)
        if tid is None:
            tid = self._vocab[term] = len(self._terms)
            self._terms.append(term)
            self._postings.append(_Postings())
            self._df.append(0)
        return tid

    def _subject_id(self, subject: str) -> int:
        key = fold(subject).strip()
        return self._subject_ids.setdefault(key, len(self._subject_ids))

    def _distinctive(self, counts: Counter[str], limit: int) -> list[tuple[str, float]]:
        """The `limit` terms with the highest tf * idf (ties by term)."""
        vocab, df, log = self._vocab, self._df, math.log
        n = max(self._live, 1)
        known = [df[tid] if tid is not None else 0 for tid in map(vocab.get, counts)]
        weighted = [
            (tf * log(1.0 + (n - d + 0.5) / (d + 0.5)), term, tf)
            for (term, tf), d in zip(counts.items(), known, strict=True)
        ]
        # Terms are unique, so the tuples order by weight, then term, as the ranking wants.
        best = heapq.nlargest(limit, weighted)
        return [(term, float(tf)) for _w, term, tf in best]

    def _weighted_terms(self, doc: Doc) -> Counter[str]:
        """`weighted_terms`, remembered for the last document: enrichment searches with
        an article and then adds the same article, so it is tokenized once."""
        memo = self._memo
        if memo is not None and memo[0] == doc:
            return memo[1]
        counts = weighted_terms(doc, self.params)
        self._memo = (doc, counts)
        return counts

    # -- reading ---------------------------------------------------------------

    def get(self, uri: str) -> tuple[str, str] | None:
        """(slug, headline) of a live document."""
        slot = self._slot_of.get(uri)
        if slot is None or not self._alive[slot]:
            return None
        return self._slugs[slot], self._headlines[slot]

    def eligible(self, uri: str, now: datetime) -> bool:
        slot = self._slot_of.get(uri)
        if slot is None or not self._alive[slot]:
            return False
        visible = self._visible_from[slot]
        return math.isnan(visible) or visible <= now.timestamp()

    def search(
        self, query: Doc, *, now: datetime, k: int = 5, exclude: Iterable[str] = ()
    ) -> list[Scored]:
        """The top k related live, visible documents of the query's language (by
        `language_key`: None matches None only), never the query itself."""
        p = self.params
        language = self._language_ids.get(language_key(query.language))
        if language is None or self._live == 0 or k <= 0:
            return []
        terms = self._query_terms(query)
        if not terms:
            return []
        hits = self._bm25(terms)
        slots, text = hits.totals(p.min_matched_terms)
        keep = text >= p.min_text_score
        slots, text = slots[keep], text[keep]
        mask = self._eligible_mask(slots, now, {query.uri, *exclude}, language)
        slots, text = slots[mask], text[mask]
        if slots.size == 0:
            return []
        if slots.size > p.rerank_depth:
            top = np.argpartition(-text, p.rerank_depth - 1)[: p.rerank_depth]
            slots, text = slots[top], text[top]
        ranked = self._rerank(query, slots, text)
        ranked.sort(key=lambda r: (-r[0], self._uris[r[1]]))
        chosen = ranked[:k]
        why = hits.matched_terms([slot for _s, slot, _t in chosen], terms)
        return [
            Scored(
                uri=self._uris[slot],
                slug=self._slugs[slot],
                headline=self._headlines[slot],
                score=score,
                text_score=round(ts, 6),
                matched_terms=why[slot],
            )
            for score, slot, ts in chosen
        ]

    def _query_terms(self, query: Doc) -> list[tuple[str, float, float]]:
        """The query's most distinctive known terms (highest tf * idf, ties by term),
        leaving out those in more than `max_df_ratio` of the archive:
        (term, (1 + log tf) * idf, idf)."""
        counts = self._weighted_terms(query)
        limit = max(self.params.max_df_ratio * self._live, 50.0)
        vocab, df, log = self._vocab, self._df, math.log
        n = max(self._live, 1)
        weighted = []
        for term, tf in counts.items():  # one pass: known, not too common, weighed
            tid = vocab.get(term)
            if tid is None or (d := df[tid]) > limit:
                continue
            idf = log(1.0 + (n - d + 0.5) / (d + 0.5))
            weighted.append((tf * idf, term, tf, idf))
        best = heapq.nlargest(self.params.query_terms, weighted)
        return [(term, (1.0 + log(tf)) * idf, idf) for _w, term, tf, idf in best]

    def _bm25(self, terms: list[tuple[str, float, float]]) -> _Hits:
        """Every posting of the query terms, weighted query weight * idf * BM25 tf part."""
        postings = [self._postings[self._vocab[term]] for term, _q, _idf in terms]
        weights = [q * idf for _t, q, idf in terms]
        best = sum(weights) * 255.0
        slots = [np.frombuffer(post.slots, dtype=np.int32) for post in postings]
        lengths = [part.size for part in slots]
        impacts = np.concatenate([np.frombuffer(post.impacts, dtype=np.uint8) for post in postings])
        # impact * (w / best) + _COUNT, elementwise, each posting with its term's scale
        scale = np.repeat(np.array([w / best for w in weights]), lengths)
        return _Hits(slots, np.concatenate(slots), impacts * scale + _COUNT, len(self._uris))

    def _eligible_mask(
        self, slots: np.ndarray, now: datetime, exclude: set[str], language: int
    ) -> np.ndarray:
        alive = np.frombuffer(self._alive, dtype=np.uint8)[slots].astype(bool)
        alive &= np.frombuffer(self._language, dtype=np.int32)[slots] == language
        visible = np.frombuffer(self._visible_from, dtype=np.float64)[slots]
        with np.errstate(invalid="ignore"):
            shown = np.isnan(visible) | (visible <= now.timestamp())
        mask = alive & shown
        for uri in exclude:
            slot = self._slot_of.get(uri)
            if slot is not None:
                mask &= slots != slot
        return mask

    def _rerank(
        self, query: Doc, slots: np.ndarray, text: np.ndarray
    ) -> list[tuple[float, int, float]]:
        """(final score, slot, text score): text boosted by recency, plus subject overlap."""
        p = self.params
        folded = (fold(x).strip() for x in query.subjects)
        subjects = frozenset(self._subject_ids[s] for s in folded if s in self._subject_ids)
        when = _ts(query.published)
        out = []
        for slot, ts in zip(slots.tolist(), text.tolist(), strict=True):
            recency = _recency(when, self._published[slot], p.recency_days)
            overlap = _jaccard(subjects, self._subjects[slot])
            score = ts * (1.0 + p.recency_weight * recency) + p.subject_weight * overlap
            out.append((round(score, 6), slot, ts))
        return out


_COUNT = 1024.0  # added to each posting's contribution so one bincount also counts matches


@dataclass(frozen=True)
class _Hits:
    """The postings a query touched: per query term, and all of them with contributions.

    Each contribution is its share of the normalised score (all shares of a query
    sum to at most 1) plus `_COUNT`, so one bincount yields both the score and the
    number of matched terms.
    """

    per_term: list[np.ndarray]
    slots: np.ndarray
    contribution: np.ndarray
    size: int

    def totals(self, min_matched: int) -> tuple[np.ndarray, np.ndarray]:
        """(slots, normalised text score) of every hit matching at least `min_matched`
        query terms. Only those are unpacked: in a large archive most touched slots
        match one term."""
        summed = np.bincount(self.slots, weights=self.contribution, minlength=self.size)
        # A slot matching m terms sums to m * _COUNT plus its score, which is below 1.
        found = np.flatnonzero(summed >= max(min_matched, 1) * _COUNT - 0.5)
        packed = summed[found]
        return found, packed - np.floor(packed / _COUNT + 1e-9) * _COUNT

    def matched_terms(
        self, chosen: list[int], terms: list[tuple[str, float, float]], limit: int = 8
    ) -> dict[int, tuple[str, ...]]:
        """For each chosen slot, its matching query terms, heaviest query term first."""
        found: dict[int, list[str]] = {slot: [] for slot in chosen}
        if not chosen:
            return {}
        order = sorted(range(len(terms)), key=lambda i: (-terms[i][1], terms[i][0]))
        rank = {term: r for r, term in enumerate(order)}
        # One pass over all the postings: which (slot, query term) pairs hit a chosen slot
        # (a lookup table of the chosen slots, cheaper than np.isin's sort).
        chosen_lut = np.zeros(self.size, dtype=bool)
        chosen_lut[chosen] = True
        hit = chosen_lut[self.slots]
        term_of = np.repeat(np.arange(len(self.per_term)), [part.size for part in self.per_term])[
            hit
        ]
        pairs = sorted(
            zip(self.slots[hit].tolist(), term_of.tolist(), strict=True),
            key=lambda pair: rank[pair[1]],
        )
        for slot, i in pairs:
            if len(found[slot]) < limit:
                found[slot].append(terms[i][0])
        return {slot: tuple(hits) for slot, hits in found.items()}


def _recency(when: float, then: float, days: float) -> float:
    if math.isnan(when) or math.isnan(then):
        return 0.0
    return math.exp(-abs(when - then) / 86_400.0 / days)


def _jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def build(docs: Sequence[Doc], params: Params = DEFAULT) -> RelatedIndex:
    index = RelatedIndex(params)
    for doc in docs:
        index.add(doc)
    return index
