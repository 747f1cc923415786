"""Data for `kb.normalise`: variant characters, domain homophones and typos.

Each map is phrase -> replacement, applied to text that is already NFKC, lower-case and
simplified (OpenCC t2s), longest phrase first. Keep entries as phrases with context
(电池阀, not 电池) so a correct word elsewhere is never rewritten: "电池" alone is a real
battery in a solar-powered orchard.
"""

from __future__ import annotations

# OpenCC t2s leaves some traditional or older forms that differ from the usual
# simplified spelling (帳號 -> 帐号, but people and articles write 账号).
VARIANTS: dict[str, str] = {
    "帐号": "账号",
    "帐户": "账户",
    "帐密": "账密",
    "纔": "才",
    "綫": "线",
    "麽": "么",
    "甚么": "什么",
    "噐": "器",
    "裡": "里",
    "週": "周",
}

# Homophones and near-shape typos of the orchard's device words, as staff type them on
# a pinyin keyboard. Only phrases whose corrected form is a device or symptom word.
HOMOPHONES: dict[str, str] = {
    # 电磁阀 (solenoid valve)
    "电池阀": "电磁阀",
    "电池伐": "电磁阀",
    "电磁伐": "电磁阀",
    "电子阀": "电磁阀",
    "点磁阀": "电磁阀",
    "电磁发": "电磁阀",
    "伐门": "阀门",
    "球伐": "球阀",
    "闸伐": "闸阀",
    "减压伐": "减压阀",
    "排气伐": "排气阀",
    # 水肥 (fertigation)
    "肥水一体": "水肥一体",
    "肥水机": "水肥机",
    "水肥一休机": "水肥一体机",
    "施肥几": "施肥机",
    # pumps, filters, drip lines
    "水彭": "水泵",
    "水崩": "水泵",
    "过虑器": "过滤器",
    "过滤噐": "过滤器",
    "叠片过虑": "叠片过滤",
    "低灌": "滴灌",
    "滴管带": "滴灌带",
    # sensors, gateway, power
    "传感起": "传感器",
    "传敢器": "传感器",
    "温湿渡": "温湿度",
    "土壤商情": "土壤墒情",
    "伤情": "墒情",
    "网观": "网关",
    "网官": "网关",
    "型号不好": "信号不好",
    "没型号": "没信号",
    "太阳能版": "太阳能板",
    "太阳能办": "太阳能板",
    "蓄点池": "蓄电池",
    "续电池": "蓄电池",
    "断录器": "断路器",
    "空开跳了": "空开跳闸",
    # cameras, pests
    "摄象头": "摄像头",
    "摄像投": "摄像头",
    "摄相头": "摄像头",
    "摄影头": "摄像头",
    "录象机": "录像机",
    "杀虫等": "杀虫灯",
    "诱虫等": "诱虫灯",
    "测报等": "测报灯",
    "孢子扑捉": "孢子捕捉",
    "抱子": "孢子",
    # the platform app
    "登陆": "登录",
    "等录": "登录",
    "验证吗": "验证码",
    "验正码": "验证码",
    "效验码": "校验码",
    "密吗": "密码",
    "蜜码": "密码",
    "导出来": "导出",
    "报敬": "报警",
    "告敬": "告警",
}
