"""/healthz: is the database reachable, is the scheduler alive, how are the channels.

With a monitoring token set (FRONTLINE_METRICS_TOKEN), anyone gets only the verdict
(`{"status": "ok"}`, 200 or 503, what a load balancer needs); the details (channels, backlog,
timer lag) need `Authorization: Bearer <token>`. Without a token, everyone gets the details
(a process on loopback).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy import text

from bot.security import bearer_ok
from storage import outbox
from storage.uow import Database


@dataclass(frozen=True)
class Health:
    """What /healthz looks at; bootstrap fills it in."""

    db: Database
    channels: Callable[[], Mapping[str, str]]  # channel name → its adapter's status word
    scheduler_running: Callable[[], bool]
    extras: Callable[[], Awaitable[dict[str, Any]]] | None = None  # timer lag, last sweep

    async def report(self) -> tuple[dict[str, Any], bool]:
        """The report and whether the process is healthy (database and scheduler up)."""
        report: dict[str, Any] = {"channels": dict(self.channels())}
        try:
            async with self.db.transaction() as tx:
                await tx.execute(text("SELECT 1"))
                backlog, oldest = await outbox.backlog(tx)
            report["database"] = "ok"
            report["outbox_backlog"] = backlog
            report["outbox_oldest"] = oldest.isoformat() if oldest else None
        except Exception as exc:
            report["database"] = f"error: {type(exc).__name__}"
        report["scheduler"] = "ok" if self.scheduler_running() else "stopped"
        if self.extras is not None:
            try:
                report.update(await self.extras())
            except Exception as exc:  # the figures are extras: never make /healthz itself fail
                report["timers"] = f"error: {type(exc).__name__}"
        healthy = report["database"] == "ok" and report["scheduler"] == "ok"
        return report, healthy


def add_health_routes(app: web.Application, health: Health, token: str = "") -> None:
    async def healthz(request: web.Request) -> web.Response:
        report, healthy = await health.report()
        status = 200 if healthy else 503
        if token and not bearer_ok(request, token):
            return web.json_response({"status": "ok" if healthy else "unhealthy"},
                                     status=status)
        return web.json_response(report, status=status)

    app.router.add_get("/healthz", healthz)
