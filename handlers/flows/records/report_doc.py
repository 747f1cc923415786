"""A report as a document: a title, a note, sections of lines and paragraphs, written out as
Markdown (the CLI, files) or plain text (chat). The PDF is drawn from the same document
(report_pdf.py), so the three never say different things.

Every string may hold people's text: Markdown escapes all of it; plain text is sent as it is
and each channel adapter makes it inert for its own markup.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers.core import escape


@dataclass(frozen=True)
class Section:
    heading: str = ""  # "" for the facts under the title
    items: tuple[str, ...] = ()  # one line each: facts, deadlines, timeline steps, files
    text: str = ""  # a paragraph someone wrote (description, cause …); shown as written


@dataclass(frozen=True)
class Report:
    title: str
    note: str  # which time zone the times are in
    sections: tuple[Section, ...]


def markdown(doc: Report) -> str:
    md = escape.markdown
    out = [f"# {md(doc.title, inline=True)}", "", md(doc.note, inline=True)]
    for s in doc.sections:
        out.append("")
        if s.heading:
            out += [f"## {md(s.heading, inline=True)}"]
        if s.text:
            out.append(md(s.text))
        out += [f"- {md(item, inline=True)}" for item in s.items]
    return "\n".join(out) + "\n"


def plain(doc: Report) -> str:
    out = [doc.title, doc.note]
    for s in doc.sections:
        out.append("")
        if s.heading:
            out.append(f"【{s.heading}】")
        if s.text:
            out.append(s.text)
        out += list(s.items)
    return "\n".join(out)


def fit(text: str, limit: int, cut: str) -> str:
    """At most `limit` characters, cut after a whole line and marked with `cut` (a chat
    message has a size limit; the file carries the rest)."""
    if len(text) <= limit:
        return text
    head = text[: max(limit - len(cut) - 1, 0)]
    return head[: head.rfind("\n") + 1] + cut if "\n" in head else head + cut
