"""A report document as a PDF (fpdf2), with Chinese set in Noto Sans CJK SC.

The font ships in the `noto-cjk-sans-otc` package (no download, no system font needed) and
is embedded as a subset, so any viewer shows the glyphs, not boxes. Drawing takes a few
tenths of a second of CPU: call `render_async` from the desk.
"""

from __future__ import annotations

import asyncio
import logging
import unicodedata
from functools import cache
from pathlib import Path

import noto_cjk_sans_otc
from fontTools.ttLib import TTCollection, TTLibError
from fpdf import FPDF
from fpdf.enums import Align, WrapMode, XPos, YPos
from fpdf.errors import FPDFException

from handlers.flows.records.report_doc import Report

FONT = "NotoSansCJK"
SIMPLIFIED = "Noto Sans CJK SC"  # the collection also holds JP, KR, TC, HK faces
# what drawing can raise: the font file missing or unreadable, a page fpdf2 cannot lay out, a
# file store that refuses the result (too big)
FAILURES = (FPDFException, TTLibError, OSError, ValueError)
GREY, INK, RULE = (110, 110, 110), (20, 20, 20), (190, 190, 190)


@cache
def _face(path: Path) -> int:
    """Which face of the collection is Simplified Chinese (found by name, not assumed)."""
    names = [font["name"].getDebugName(4) for font in TTCollection(str(path)).fonts]
    return names.index(SIMPLIFIED)


def render(doc: Report, lang: str) -> bytes:
    """The PDF's bytes. Chinese lines wrap between any two characters; English between words."""
    # fontTools logs each subset's glyph list at INFO, fpdf2 the characters the font lacks at
    # WARNING: noise in the desk's log, and the latter quotes what people wrote
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    logging.getLogger("fpdf").setLevel(logging.ERROR)
    path = Path(noto_cjk_sans_otc.FONT_PATH)
    pdf = FPDF(format="A4")
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(True, margin=16)
    pdf.set_title(_clean(doc.title))
    pdf.add_font(FONT, fname=path, collection_font_number=_face(path))
    pdf.add_page()
    wrap = WrapMode.CHAR if lang == "zh" else WrapMode.WORD

    def lines(text: str, size: float, color: tuple[int, int, int] = INK) -> None:
        pdf.set_font(FONT, size=size)
        pdf.set_text_color(*color)
        pdf.multi_cell(0, size * 0.55, _clean(text), align=Align.L, wrapmode=wrap,
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    lines(doc.title, 16)
    lines(doc.note, 9, GREY)
    for section in doc.sections:
        pdf.ln(3)
        if section.heading:
            lines(section.heading, 12.5)
            pdf.set_draw_color(*RULE)
            pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
            pdf.ln(1.5)
        if section.text:
            lines(section.text, 10.5)
        for item in section.items:
            lines(item, 10.5)
    return bytes(pdf.output())


async def render_async(doc: Report, lang: str) -> bytes:
    return await asyncio.to_thread(render, doc, lang)


def _clean(text: str) -> str:
    """People's text without control or format characters (ESC, bidi overrides …): a PDF has
    no use for them and the font has no glyphs for them. Line breaks stay."""
    return "".join(c for c in text if c == "\n" or unicodedata.category(c) not in ("Cc", "Cf"))
