"""Related links: a pure, in-memory ranking index over the article archive.

Text similarity is BM25 over headline (boosted), subheadline and body, with
each document reduced to its most distinctive terms so the index stays small.
The text score is normalised to [0, 1) by the best score the query could get,
so a fixed threshold can keep unrelated stories out. Candidates above the
threshold are re-ranked with subject overlap and recency. Everything here is
synchronous and deterministic: ties are broken by uri, the clock is passed in.

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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

# --- tokenizing ---------------------------------------------------------------

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

_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")


def fold(text: str) -> str:
    """Lower-case and strip accents (NFKD), so 'Zelenskyy' and 'ZELENSKYY' agree."""
    if text.isascii():
        return text.lower()
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text)).lower()


def stem(word: str) -> str:
    """A light, readable stemmer: possessives and plain plurals only."""
    for suffix in ("'s", "’s"):
        if word.endswith(suffix):
            word = word[: -len(suffix)]
    word = word.replace("’", "'").split("'")[0]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Content-word stems of a text, in order."""
    words = _WORD.findall(fold(text))
    stems = list(map(_STEMS.get, words))  # one C-level lookup per word
    if None in stems:
        for i, known in enumerate(stems):
            if known is None:
                stems[i] = _content_stem(words[i])
    return [w for w in stems if w]


_STEMS: dict[str, str] = {}  # raw word -> content stem, "" for a word that is not one
_MAX_STEMS = 262_144


def _content_stem(raw: str) -> str:
    word = stem(raw)
    if not (len(word) > 1 and word not in STOPWORDS and not word.isdigit()):
        word = ""
    if len(_STEMS) >= _MAX_STEMS:  # bounded: start again rather than grow without end
        _STEMS.clear()
    _STEMS[raw] = word
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
    min_text_score: float = 0.03  # below this, a story is not related at all
    min_matched_terms: int = 2  # nor is one sharing fewer distinctive terms
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
    counts: Counter[str] = Counter(with_phrases(tokenize(doc.body), params.phrases))
    for term in with_phrases(tokenize(doc.headline), params.phrases):
        counts[term] += params.headline_boost
    for term in with_phrases(tokenize(doc.subheadline), params.phrases):
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
        weighted = [(tf * log(1.0 + (n - d + 0.5) / (d + 0.5)), term, tf)
                    for (term, tf), d in zip(counts.items(), known, strict=True)]
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
        """The top k related live, visible documents, never the query itself."""
        p = self.params
        terms = self._query_terms(query)
        if not terms or self._live == 0 or k <= 0:
            return []
        hits = self._bm25(terms)
        slots, text = hits.totals(p.min_matched_terms)
        keep = text >= p.min_text_score
        slots, text = slots[keep], text[keep]
        mask = self._eligible_mask(slots, now, {query.uri, *exclude})
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
            Scored(uri=self._uris[slot], slug=self._slugs[slot], headline=self._headlines[slot],
                   score=score, text_score=round(ts, 6), matched_terms=why[slot])
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

    def _eligible_mask(self, slots: np.ndarray, now: datetime, exclude: set[str]) -> np.ndarray:
        alive = np.frombuffer(self._alive, dtype=np.uint8)[slots].astype(bool)
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
        term_of = np.repeat(np.arange(len(self.per_term)),
                            [part.size for part in self.per_term])[hit]
        pairs = sorted(zip(self.slots[hit].tolist(), term_of.tolist(), strict=True),
                       key=lambda pair: rank[pair[1]])
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
