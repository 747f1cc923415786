"""Reports that cannot wait, told by their words alone: the whole system down, or people and
equipment at risk. Such a report skips the self-service articles and the form: its ticket is
opened at once as P1 (triage's matrix gives P1 to both whatever else is said).

"System down" needs three things in the words: a system (系统, 果园, 平台 …), all of it (整个,
全部, 所有 …) and stopped (停了, 瘫痪, 不能用 …). "东区全部停了" names no system, so it is an
area (asked as usual); "平台打不开" is not all of it.
"""

from __future__ import annotations

from handlers.rules import triage
from handlers.rules.triage import Impact

SYSTEM_WORDS = ("系统", "果园", "园区", "全园", "全场", "平台", "system", "orchard", "platform")
WHOLE_WORDS = ("整个", "整套", "全部", "全都", "所有", "全园", "全场", "whole", "entire", "all ")
DOWN_WORDS = ("停了", "停机", "停止", "停摆", "瘫痪", "崩溃", "不能用", "用不了", "不工作",
              "没反应", "down", "stopped", "not working", "crashed", "dead")
COLLAPSE_WORDS = ("瘫痪", "崩溃", "system down", "system is down", "system crashed")


def system_down(text: str) -> bool:
    low = text.lower()
    if not any(w in low for w in SYSTEM_WORDS):
        return False
    whole = any(w in low for w in WHOLE_WORDS) or any(w in low for w in COLLAPSE_WORDS)
    return whole and any(w in low for w in DOWN_WORDS)


def at_once(text: str) -> Impact | None:
    """The impact a report that must become a P1 ticket now has (the whole system, or the one
    device at risk); None when it can go through self-service and the form as usual."""
    if system_down(text):
        return Impact.WHOLE
    _, safety = triage.signals(text)
    return Impact.SINGLE if safety else None
