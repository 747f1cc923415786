"""Read article files and report what is wrong with them, file and line.

A broken file never stops the others: `load_articles` returns the good articles and a
list of `LintProblem`s for the skipped ones (the same list `frontline kb lint` prints).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import yaml

from kb.article import CATEGORIES, LANGS, Article, LintProblem

_FENCE = "---"
_KEY_LINE = re.compile(r"^([A-Za-z_][\w-]*)\s*:")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_LIST_FIELDS = ("devices", "symptoms", "tags")


class _Invalid(Exception):
    """One reason to skip a file; carries the 1-based line when known."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _split_front_matter(text: str) -> tuple[str, str, int]:
    """Return (front matter, body, line number where the body starts)."""
    lines = text.lstrip("\ufeff").split("\n")
    if not lines or lines[0].strip() != _FENCE:
        raise _Invalid(1, "missing front matter: the file must start with a '---' line")
    for index in range(1, len(lines)):
        if lines[index].strip() == _FENCE:
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1 :]), index + 2
    raise _Invalid(1, "front matter is not closed by a '---' line")


def _parse_yaml(front: str) -> dict[str, object]:
    try:
        meta = yaml.safe_load(front)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1  # +1 for 1-based, +1 for the fence
        problem = getattr(exc, "problem", None) or str(exc).split("\n")[0]
        raise _Invalid(line, f"bad YAML: {problem}") from exc
    if not isinstance(meta, dict):
        raise _Invalid(2, "front matter must be a YAML mapping of fields")
    return {str(key): value for key, value in meta.items()}


def _key_lines(front: str) -> dict[str, int]:
    """Map top-level keys to their file line, so problems can point at the field."""
    lines: dict[str, int] = {}
    for offset, raw in enumerate(front.split("\n")):
        match = _KEY_LINE.match(raw)
        if match:
            lines.setdefault(match.group(1), offset + 2)
    return lines


def _text_field(meta: dict[str, object], key: str, line: int) -> str:
    value = meta.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise _Invalid(line, f"missing {key}")
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise _Invalid(line, f"{key} must be text")
    return str(value).strip()


def _list_field(meta: dict[str, object], key: str, line: int) -> tuple[str, ...]:
    value = meta.get(key)
    if value is None:
        return ()
    if isinstance(value, str):  # `devices: pump` is a common slip; one item is what was meant
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
        raise _Invalid(line, f"{key} must be a list of text items")
    return tuple(str(v).strip() for v in value if str(v).strip())


# Another orchard's own categories, mapped to ours when the meaning is plain; any other
# unknown category loads as `unknown_category` ("general" by default), with a note.
CATEGORY_SYNONYMS: dict[str, str] = {
    "gateway": "network", "router": "network", "lora": "network", "4g": "network",
    "wifi": "network", "dtu": "network", "modem": "network", "communication": "network",
    "drone": "general", "other": "general", "misc": "general",
    "solar": "power", "battery": "power", "electric": "power", "electrical": "power",
    "cctv": "camera", "video": "camera", "nvr": "camera",
    "soil": "sensor", "meteo": "weather", "rain": "weather",
    "drip": "irrigation", "sprinkler": "irrigation", "fertilizer": "fertigation",
    "insect": "pest", "trap": "pest", "app": "platform", "software": "platform",
    "account": "platform",
}


def _build(meta: dict[str, object], body: str, body_line: int, lines: dict[str, int],
           path: str, unknown_category: str | None = "general",
           notes: list[LintProblem] | None = None) -> Article:
    line = lines.get
    article_id = _text_field(meta, "id", line("id", 1))
    if not _SLUG.match(article_id):
        raise _Invalid(line("id"), f"id {article_id!r} is not a slug (a-z, 0-9, '-', '_', '.')")
    lang = _text_field(meta, "lang", line("lang", 1))
    if lang not in LANGS:
        raise _Invalid(line("lang"), f"unknown lang {lang!r} (expected one of {', '.join(LANGS)})")
    category = _text_field(meta, "category", line("category", 1))
    if category not in CATEGORIES and unknown_category is not None:
        mapped = CATEGORY_SYNONYMS.get(category.strip().lower(), unknown_category)
        if notes is not None:
            notes.append(LintProblem(path, line("category"), f"unknown category {category!r}, "
                                     f"loaded as {mapped!r}"))
        category = mapped
    if category not in CATEGORIES:
        raise _Invalid(line("category"), f"unknown category {category!r}")
    if not body.strip():
        raise _Invalid(body_line, "empty body: the self-service steps are missing")
    lists = {key: _list_field(meta, key, line(key, 1)) for key in _LIST_FIELDS}
    return Article(
        id=article_id, title=_text_field(meta, "title", line("title", 1)), lang=lang,
        category=category, devices=lists["devices"], symptoms=lists["symptoms"],
        tags=lists["tags"], body=body.strip(), path=path,
    )


def parse_article(
    text: str, path: str, unknown_category: str | None = "general"
) -> tuple[Article | None, LintProblem | None]:
    """Parse one article's text: (article, None), (None, problem) or (article, note).

    An article whose category is not one of CATEGORIES (another orchard's own, such as
    "gateway") is loaded under its CATEGORY_SYNONYMS entry, else `unknown_category`,
    and the pair's second item is a non-fatal note saying so. `unknown_category=None`
    rejects it instead (the strict behaviour before issue 15).
    """
    notes: list[LintProblem] = []
    try:
        front, body, body_line = _split_front_matter(text)
        article = _build(_parse_yaml(front), body, body_line, _key_lines(front), path,
                         unknown_category, notes)
    except _Invalid as invalid:
        return None, LintProblem(path, invalid.line, invalid.message)
    return article, (notes[0] if notes else None)


def _id_line(article: Article) -> int | None:
    text = Path(article.path).read_text(encoding="utf-8") if article.path else ""
    return _key_lines(text.split("\n", 1)[-1]).get("id")


def _files(source: Path) -> tuple[list[Path], LintProblem | None]:
    if source.is_file():
        return [source], None
    if source.is_dir():
        return sorted(source.glob("*.md")), None
    return [], LintProblem(str(source), None, "no such file or directory")


def read_article_file(
    path: Path, unknown_category: str | None = "general"
) -> tuple[Article | None, LintProblem | None]:
    """Read and parse one file; an unreadable file is a problem, not an exception."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, LintProblem(str(path), None, f"cannot read: {exc}")
    return parse_article(text, str(path), unknown_category)


def load_articles(
    sources: Iterable[Path | str], unknown_category: str | None = "general"
) -> tuple[list[Article], list[LintProblem]]:
    """Load every `*.md` in the given folders (or files), first id wins on duplicates.

    Problems hold the files skipped and non-fatal notes (an unknown category mapped).
    """
    articles: dict[str, Article] = {}
    problems: list[LintProblem] = []
    for source in sources:
        files, missing = _files(Path(source))
        problems.extend([missing] if missing else [])
        for file in files:
            article, problem = read_article_file(file, unknown_category)
            if problem is not None:
                problems.append(problem)
            if article is None:
                continue
            if article is not None and article.id in articles:
                first = articles[article.id].path
                message = f"duplicate id {article.id!r} (first defined in {first})"
                problems.append(LintProblem(str(file), _id_line(article), message))
            elif article is not None:
                articles[article.id] = article
    return list(articles.values()), problems
