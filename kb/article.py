"""The knowledge-base article, a search hit and a lint problem.

An article is one Markdown file with YAML front matter (see docs/design.md, "Contracts
others rely on"). `Article.to_markdown()` writes exactly the form `kb.loader` reads, so an
approved draft can be saved as a file and loaded again unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

CATEGORIES: tuple[str, ...] = (
    "sensor",
    "weather",
    "irrigation",
    "fertigation",
    "valve",
    "pump",
    "filter",
    "camera",
    "network",
    "power",
    "pest",
    "platform",
    "general",
)
LANGS: tuple[str, ...] = ("zh", "en")


@dataclass(frozen=True, slots=True)
class Article:
    """One self-service article; immutable so a search snapshot can share it freely."""

    id: str
    title: str
    lang: str
    category: str
    devices: tuple[str, ...] = ()
    symptoms: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    body: str = ""
    path: str | None = None

    @property
    def steps(self) -> str:
        """The self-service steps: the Markdown body."""
        return self.body

    def to_markdown(self) -> str:
        """Front matter plus body, in the form the loader reads back to an equal article."""
        meta: dict[str, object] = {
            "id": self.id,
            "title": self.title,
            "lang": self.lang,
            "category": self.category,
            "devices": list(self.devices),
            "symptoms": list(self.symptoms),
        }
        if self.tags:
            meta["tags"] = list(self.tags)
        front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1000)
        return f"---\n{front}---\n\n{self.body.strip()}\n"


@dataclass(frozen=True, slots=True)
class Hit:
    """A search result: the article and a confidence score from 0 to 100."""

    article: Article
    score: float


@dataclass(frozen=True, slots=True)
class LintProblem:
    """Why an article file was not loaded; `line` is 1-based, None when no line applies."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.message}"
