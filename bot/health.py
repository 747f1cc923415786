"""/healthz: is the database reachable, is the scheduler alive, how are the channels."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web
from sqlalchemy import text

from storage import outbox

if TYPE_CHECKING:
    from bot.bootstrap import Frontline


def add_health_routes(app: web.Application, fl: Frontline) -> None:
    async def healthz(_request: web.Request) -> web.Response:
        report, healthy = await health(fl)
        return web.json_response(report, status=200 if healthy else 503)

    app.router.add_get("/healthz", healthz)


async def health(fl: Frontline) -> tuple[dict[str, Any], bool]:
    report: dict[str, Any] = {"channels": {n: a.status() for n, a in fl.adapters.items()}}
    try:
        async with fl.db.transaction() as tx:
            await tx.execute(text("SELECT 1"))
            backlog, oldest = await outbox.backlog(tx)
        report["database"] = "ok"
        report["outbox_backlog"] = backlog
        report["outbox_oldest"] = oldest.isoformat() if oldest else None
    except Exception as exc:
        report["database"] = f"error: {type(exc).__name__}"
    report["scheduler"] = "ok" if fl.scheduler.running else "stopped"
    try:
        from bot.metrics import health_fields

        report.update(await health_fields(fl))
    except Exception as exc:  # the figures are extras: never make /healthz itself fail
        report["timers"] = f"error: {type(exc).__name__}"
    healthy = report["database"] == "ok" and report["scheduler"] == "ok"
    return report, healthy
