"""The knowledge base: load articles, search them, add approved ones.

A query is normalised (kb.normalise: width, case, t2s, noise, variants, homophones),
multi-word synonyms are rewritten, jieba segments it (kb.tokens, precise mode), each
word is mapped to its synonym group's head (kb.synonyms), and kb.scoring turns the
words into 0-100 confidences over an immutable snapshot (kb.index). Articles go through
the same steps, in jieba's search mode so their words' parts are indexed too.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path

from kb.article import Article, Hit, LintProblem
from kb.index import Prepared, Snapshot, prepare
from kb.loader import load_articles
from kb.normalise import normalise
from kb.scoring import Query, Tuning, score, select
from kb.synonyms import Synonyms
from kb.tokens import Tokenizer, stem

_DATA = Path(__file__).parent / "data"
# A query longer than this is a pasted log or a story; its first part carries the
# fault, and cutting it keeps the latency budget for any input.
MAX_QUERY_CHARS = 200
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


def default_articles_dir() -> Path:
    """The knowledge base shipped inside the package."""
    return Path(__file__).parent / "articles"


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
    ) -> None:
        tuning = tuning or Tuning()
        if threshold is not None:
            tuning = replace(tuning, threshold=threshold)
        self.tuning = tuning
        self.problems: list[LintProblem] = []
        self.sources: tuple[Path, ...] = ()
        self._synonyms = Synonyms.from_file(synonyms_path, normalise, stem)
        self._tokenizer = Tokenizer(user_dict, words=self._synonyms.words)
        self._lock = threading.Lock()
        items = list(articles)
        self._snapshot = self._build(items)

    @classmethod
    def load(cls, paths: Iterable[Path | str], **options: object) -> KnowledgeBase:
        """Load every article in the folders; bad files are skipped into `problems`."""
        sources = tuple(Path(p) for p in paths)
        articles, problems = load_articles(sources)
        kb = cls(articles, **options)  # type: ignore[arg-type]
        kb.problems, kb.sources = problems, sources
        return kb

    def reload(self) -> list[LintProblem]:
        """Re-read the folders given to `load` and swap in the new index atomically."""
        articles, problems = load_articles(self.sources)
        snapshot = self._build(articles)
        with self._lock:
            self._snapshot, self.problems = snapshot, problems
        return problems

    def add(self, article: Article) -> None:
        """Index one more article now; an article with the same id is replaced."""
        prepared = self._prepare(article)
        with self._lock:
            self._snapshot = self._snapshot.with_article(article, prepared)

    def get(self, article_id: str) -> Article | None:
        """The article with this id, if loaded."""
        snapshot = self._snapshot
        index = snapshot.by_id.get(article_id)
        return None if index is None else snapshot.articles[index]

    def __len__(self) -> int:
        return len(self._snapshot.articles)

    def __iter__(self) -> Iterator[Article]:
        return iter(self._snapshot.articles)

    def tokens(self, text: str) -> list[str]:
        """The search tokens of a text (normalised, synonyms rewritten, segmented)."""
        return self.analyse(text)[1]

    def analyse(self, text: str) -> tuple[list[str], list[str]]:
        """(whole words, words plus their parts) of a text, synonyms mapped to heads."""
        words, tokens = self._tokenizer.analyse(self._synonyms.rewrite(normalise(text)))
        canonical = self._synonyms.canonical
        return [canonical(w) for w in words], [canonical(t) for t in tokens]

    def search(self, query: str, limit: int = 3, lang: str | None = None) -> list[Hit]:
        """Up to `limit` confident hits, best first; [] when nothing answers well."""
        snapshot = self._snapshot  # one read: an add() meanwhile does not affect us
        words = self.query_words(query[:MAX_QUERY_CHARS])
        if not words or limit <= 0 or not snapshot.articles:
            return []
        scored = score(snapshot, self._query_terms(snapshot, words), self.tuning)
        return select(snapshot, scored, self.tuning, limit, lang or query_lang(query))

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

    def _build(self, articles: list[Article]) -> Snapshot:
        prepared = [self._prepare(a) for a in articles]
        return Snapshot.build(articles, prepared, self.tuning.field_weights())

    def _prepare(self, article: Article) -> Prepared:
        return prepare(article, self.analyse)
