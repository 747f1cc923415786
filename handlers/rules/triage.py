"""Triage: impact (asked with buttons) and urgency words in the text → priority P1–P4.

The matrix (docs/design.md shows it too):

    impact \\ urgency      none   urgent word   safety word
    whole system          P1     P1            P1
    an area / a class     P2     P1            P1
    a single device       P3     P2            P1
    only a question       P4     P4            P1

Urgent words say the work is blocked (停了, 全部, 无法灌溉, 漏水 …); safety words say people
or equipment are at risk (冒烟, 着火, 漏电 …) and always make it P1.
"""

from __future__ import annotations

from enum import StrEnum


class Impact(StrEnum):
    WHOLE = "whole"
    AREA = "area"
    SINGLE = "single"
    QUESTION = "question"


BASE = {Impact.WHOLE: 1, Impact.AREA: 2, Impact.SINGLE: 3, Impact.QUESTION: 4}

URGENT_WORDS = (
    "停了", "全部", "全都", "都不", "无法灌溉", "不能灌溉", "浇不了", "漏水", "爆管", "停机",
    "瘫痪", "紧急", "急", "all down", "urgent", "leak", "flood", "stopped", "cannot irrigate",
)
SAFETY_WORDS = (
    "冒烟", "着火", "起火", "火花", "漏电", "触电", "烧焦", "焦味", "smoke", "fire", "spark",
    "electric shock", "burning",
)


# Saying it is not urgent is not urgent: 急 inside 不急 must not raise the priority.
NOT_URGENT = ("不急", "不着急", "不紧急", "不太急", "不是很急", "没那么急", "不用急",
              "not urgent", "no rush", "no hurry", "not in a hurry")


def signals(text: str) -> tuple[bool, bool]:
    """(urgent, safety) as found in the reporter's words."""
    low = text.lower()
    calm = any(w in low for w in NOT_URGENT)
    return not calm and any(w in low for w in URGENT_WORDS), any(w in low for w in SAFETY_WORDS)


def priority(impact: Impact, text: str) -> str:
    urgent, safety = signals(text)
    if safety:
        return "P1"
    level = BASE[impact]
    if urgent and impact is not Impact.QUESTION:
        level = max(1, level - 1)
    return f"P{level}"
