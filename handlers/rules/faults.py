"""The service plan's five fault types, in its diagnosis order, and the device categories."""

from __future__ import annotations

FAULT_TYPES = ("hardware", "config", "operator", "software_bug", "improvement")

CATEGORIES = (
    "sensor", "weather", "irrigation", "fertigation", "valve", "pump", "filter", "camera",
    "network", "power", "pest", "platform", "general",
)

# Words that name a category when the knowledge base found nothing (issue 4 refines this).
CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "valve": ("电磁阀", "阀", "valve"),
    "pump": ("水泵", "泵", "pump"),
    "fertigation": ("水肥", "施肥", "fertigation"),
    "irrigation": ("灌溉", "滴灌", "喷灌", "irrigation", "drip"),
    "filter": ("过滤", "filter"),
    "camera": ("摄像", "监控", "录像", "camera", "nvr"),
    "network": ("网关", "4g", "信号", "离线", "掉线", "gateway", "offline", "sim"),
    "power": ("电池", "太阳能", "供电", "断电", "battery", "solar", "power"),
    "weather": ("气象", "雨量", "风速", "weather"),
    "sensor": ("传感器", "墒情", "土壤", "sensor", "soil"),
    "pest": ("杀虫灯", "虫情", "孢子", "insect", "pest", "spore"),
    "platform": ("平台", "app", "登录", "密码", "验证码", "账号", "login", "password"),
}


def guess_category(text: str) -> str:
    low = text.lower()
    for category, words in CATEGORY_WORDS.items():
        if any(w in low for w in words):
            return category
    return "general"
