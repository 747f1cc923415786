"""The report as a terminal table, Markdown, CSV and JSON, and its charts as PNG files."""

from __future__ import annotations

import csv
import io
import json

from handlers.core.config import DeskConfig
from handlers.core.texts import Texts
from handlers.flows.reporting import charts, figures, period, render
from tests.reporting.conftest import NOW


def zh() -> render.Labels:
    return render.Labels(Texts.for_config(DeskConfig()), "zh", "荔枝智慧果园")


def en() -> render.Labels:
    return render.Labels(Texts.for_config(DeskConfig()), "en", "Lychee Orchard")


def test_the_table_lines_up_labels_and_values(october):
    text = render.table(october, zh())
    lines = text.splitlines()
    assert lines[0] == "服务报表 2026-10（荔枝智慧果园）"
    assert lines[1] == "2026-10-01 至 2026-10-31（Asia/Shanghai）"
    row = next(line for line in lines if line.startswith("服务及时率"))
    assert row.endswith("75%（6/8，目标 98%）✗ 未达标")
    assert any(line.endswith("80%（8/10，目标 80%）✓ 达标") for line in lines)


def test_markdown_is_a_table_with_chart_links(october):
    md = render.markdown(october, en(), {"weekly": "weekly.png", "sla": "sla.png"})
    assert md.startswith("# Service report 2026-10 (Lychee Orchard)\n")
    assert "| Figure | Value |\n|---|---|\n" in md
    assert "| Resolution rate (resolved within SLA) | 62.5% (5/8, target 95%) ✗ below target |" \
        in md
    assert "| Average score | 3.8 of 5 |" in md
    assert "![Tickets per week by priority](weekly.png)" in md
    assert "![SLA compliance trend](sla.png)" in md


def test_csv_has_one_figure_a_row(october):
    rows = list(csv.reader(io.StringIO(render.as_csv(october))))
    assert rows[0] == ["section", "key", "value"]
    assert ["tickets", "", "10"] in rows
    assert ["response", "percent", "75.0"] in rows
    assert ["satisfied", "met", "3"] in rows and ["satisfied", "total", "5"] in rows
    assert ["by_priority", "P3", "4"] in rows
    assert ["time_to_respond", "p90_minutes", "600.0"] in rows


def test_json_spells_out_shares_and_targets(october):
    data = json.loads(render.as_json(october))
    assert data["period"]["label"] == "2026-10"
    assert data["period"]["start"] == "2026-09-30T16:00:00+00:00"
    assert data["response"] == {"met": 6, "total": 8, "target": 0.98, "share": 0.75,
                                "percent": 75.0, "on_target": False}
    assert data["remote"]["on_target"] is True
    assert data["scores"] == {"1": 0, "2": 1, "3": 1, "4": 1, "5": 2}
    assert data["escalations"] == {"2": 1, "3": 1}


async def test_an_empty_period_says_so_plainly(app):
    async with app.db.transaction() as tx:
        empty = await figures.compute(tx, period.parse("2025-01", "Asia/Shanghai"), NOW)
    text = render.table(empty, zh())
    assert "本期没有工单、自助解决记录或投诉。" in text
    assert "无数据（0 件）" in text and "None" not in text
    assert json.loads(render.as_json(empty))["response"]["percent"] is None
    assert ["response", "percent", ""] in list(csv.reader(io.StringIO(render.as_csv(empty))))


async def test_charts_are_written_as_png_files(october, tmp_path):
    written = await charts.write_async(october, zh(), tmp_path / "charts")
    assert set(written) == {"weekly", "sla", "satisfaction", "fault_types"}
    for path in written.values():
        assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and path.stat().st_size > 5000


async def test_charts_of_an_empty_period_still_draw(app, tmp_path):
    async with app.db.transaction() as tx:
        empty = await figures.compute(tx, period.parse("2025-01", "Asia/Shanghai"), NOW)
    written = await charts.write_async(empty, en(), tmp_path)
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in written.values())
