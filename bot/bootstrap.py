"""The one composition root: settings in, a running desk out. Tests call it with fakes.

`build` wires the whole process; the smaller builders (`make_database`, `make_texts`,
`make_desk`, `load_kb`) are what the command line uses for one-off work, so a desk is put
together the same way everywhere. The modules wired here (health, metrics, dashboard, web
chat, the scheduled jobs) take only the pieces they use, never the `Frontline` object.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy.exc import IntegrityError

from bot.alerts import AlarmSources
from bot.channels import Adapter, Channel, Receive
from bot.dashboard import Dashboard, attach_dashboard
from bot.delivery import DeliveryWorker, RetryPolicy
from bot.files import FileStore
from bot.health import Health, add_health_routes
from bot.metrics import attach_metrics, health_fields
from bot.security import add_security_headers
from bot.settings import Settings
from handlers import flows
from handlers.core.clock import Clock, OffsetClock, SystemClock
from handlers.core.context import Ctx
from handlers.core.dispatch import Desk, TimerRunner
from handlers.core.flood import FloodGuard
from handlers.core.messages import Incoming
from handlers.core.texts import Texts
from handlers.flows import knowledge
from handlers.flows.alarms import registry
from handlers.flows.inspections import runs as inspection_runs
from handlers.rules import devices
from scheduler.jobs import Jobs, Retention, table
from scheduler.sweep import Scheduler, Sweeper
from storage import migrate
from storage.engine import make_engine
from storage.uow import Database

log = logging.getLogger(__name__)


@dataclass
class Frontline:
    settings: Settings
    clock: Clock
    db: Database
    desk: Desk
    delivery: DeliveryWorker
    sweeper: Sweeper
    scheduler: Scheduler
    jobs: Jobs
    texts: Texts
    kb: Any
    files: FileStore
    web_app: web.Application
    channels: dict[str, Channel] = field(default_factory=dict)
    adapters: dict[str, Adapter] = field(default_factory=dict)
    alarms: AlarmSources | None = None  # monitoring's webhooks and MQTT

    async def receive(self, inc: Incoming) -> None:
        """What every adapter calls with an update. Its replies are handed to the delivery
        worker when the step commits (`Database.claimant`); only the replies a failed step
        could not queue are sent here."""
        for out in await self.desk.handle(inc):
            await self.delivery.send_direct(out)

    async def reload_kb(self) -> int:
        """Re-read the article folders (SIGHUP, `frontline kb reload`) and keep the approved
        drafts; searches carry on against the old index until the new one is swapped in."""
        if self.kb is None or not hasattr(self.kb, "reload"):
            return 0
        problems = await asyncio.to_thread(self.kb.reload)
        for problem in problems:
            log.warning("knowledge base: %s:%s: %s", problem.path, problem.line, problem.message)
        async with self.db.transaction() as tx:
            await knowledge.load_approved(tx, self.kb)
        log.info("knowledge base reloaded: %s articles", len(self.kb))
        return len(self.kb)

    async def daily_digest(self) -> None:
        """Today's SLA digest now, as its scheduled run would send it (once a day)."""
        await self.jobs.run("digest")

    async def start(self, *, schedule: bool = True) -> None:
        await migrate.upgrade(self.db.engine)
        if self.kb is not None and hasattr(self.kb, "add"):
            async with self.db.transaction() as tx:
                await knowledge.load_approved(tx, self.kb)
        await self.load_devices()
        await self.schedule_inspections()
        for adapter in self.adapters.values():
            await adapter.start()
        if self.alarms is not None:
            await self.alarms.start()
        if schedule:
            self.scheduler.start()
            await self.sweeper.run_once()  # timers missed while down fire now, once

    async def schedule_inspections(self) -> int:
        """Every inspection plan of `inspections_file` gets its next occurrence's timer
        (replicas starting together race on the timer's key: the loser's step runs again and
        finds it)."""
        if self.settings.inspections_file is None:
            return 0
        count: list[int] = []

        async def ensure(ctx: Ctx) -> None:
            count.append(await inspection_runs.ensure_timers(ctx))

        try:
            await self.desk.run_job(f"inspections:{self.clock.now():%Y%m%d%H%M%S}", ensure)
        except IntegrityError:
            await self.desk.run_job(f"inspections:{self.clock.now():%Y%m%d%H%M%S}:2", ensure)
        log.info("inspections: %s plans scheduled", count[-1])
        return count[-1]

    async def load_devices(self) -> int:
        """The device registry of `devices_file` (if set) into the database; a bad file stops
        the start with its problems (file, line, reason)."""
        path = self.settings.devices_file
        if path is None:
            return 0
        rows = await asyncio.to_thread(devices.read, path)
        async def store(ctx: Ctx) -> None:
            await registry.store(ctx, rows)

        try:
            await self.desk.run_job(f"devices:{self.clock.now():%Y%m%d%H%M%S}", store)
        except IntegrityError:  # another replica starting added the same devices first
            await self.desk.run_job(f"devices:{self.clock.now():%Y%m%d%H%M%S}:2", store)
        log.info("device registry: %s devices from %s", len(rows), path.name)
        return len(rows)

    async def stop(self) -> None:
        """Graceful: stop taking updates, let current ones finish, flush the outbox."""
        if self.alarms is not None:
            await self.alarms.stop()
        await self.scheduler.finish()  # a sweep cut off half-way would strand its claims
        for adapter in self.adapters.values():
            stop_receiving = getattr(adapter, "stop_receiving", None)  # e.g. long polling
            if stop_receiving is not None:
                await stop_receiving()
        await self.desk.quiesce()
        await self.delivery.drain()
        try:
            await self.delivery.run_once()  # what the last steps queued goes out now
        except Exception:
            log.exception("outbox flush at shutdown failed; it is sent at the next start")
        for adapter in self.adapters.values():
            try:
                await adapter.stop()
            except Exception:
                log.exception("adapter %s did not stop cleanly", adapter.name)
        await self.db.dispose()


def make_database(settings: Settings) -> Database:
    return Database(make_engine(settings.database_url))


def make_texts(settings: Settings) -> Texts:
    return Texts.for_config(settings)


def make_desk(settings: Settings, db: Database, clock: Clock, *, kb: Any = None,
              files: FileStore | None = None, texts: Texts | None = None) -> Desk:
    """The desk over `db`; the settings are its configuration (`ctx.config`) as they are."""
    texts = texts if texts is not None else make_texts(settings)
    flood = FloodGuard(settings.flood_rate_per_second, settings.flood_burst)
    return Desk(db, clock, settings, texts, flows.routes(), kb, files, flood,
                alarm_lanes=settings.alarm_lanes)


def load_kb(settings: Settings) -> Any:
    from kb import KnowledgeBase, default_articles_dir

    extra = [Path(p.strip()) for p in settings.kb_dirs.split(",") if p.strip()]
    hybrid = settings.kb_engine == "hybrid"
    kb = KnowledgeBase.load(
        [default_articles_dir(), *extra], embedder="default" if hybrid else None,
        cache_dir=settings.kb_cache_dir or settings.files_dir / "kb-vectors",
    )
    for problem in kb.problems:
        log.warning("knowledge base: %s:%s: %s", problem.path, problem.line, problem.message)
    return kb


async def build(
    settings: Settings,
    *,
    clock: Clock | None = None,
    channels: Mapping[str, Channel] | None = None,
    kb: Any = None,
) -> Frontline:
    """Wire everything from settings. `channels` adds extra (fake) channels for tests."""
    # The demo's time control moves an offset clock; nothing else ever moves the desk's time.
    clock = clock or (OffsetClock() if settings.webchat_demo else SystemClock())
    texts = make_texts(settings)
    db = make_database(settings)
    kb = kb if kb is not None else await asyncio.to_thread(load_kb, settings)
    files = FileStore(settings.files_dir, settings.max_photo_bytes)
    desk = make_desk(settings, db, clock, kb=kb, files=files, texts=texts)
    all_channels: dict[str, Channel] = dict(channels or {})
    policy = RetryPolicy(settings.outbox_max_attempts, settings.outbox_retry_base_seconds,
                         settings.outbox_retry_max_seconds)
    lease = timedelta(seconds=settings.claim_lease_seconds)
    delivery = DeliveryWorker(db, clock, all_channels, policy, on_unreachable=desk.unreachable,
                              lease=lease)
    db.claimant = delivery.claimant()
    sweeper = Sweeper(db, clock, TimerRunner(desk), after=delivery.flush, lease=lease)
    scheduler = Scheduler(sweeper, settings.sweep_interval_seconds)
    retention = Retention(settings.seen_update_retention_days, settings.visitor_retention_days)
    scheduled = Jobs(desk, table(settings.timezone, settings.sla_digest_time,
                                 settings.weekly_report_cron, settings.prune_time, retention),
                     after=delivery.kick)
    scheduled.schedule(scheduler.apscheduler)
    app = web.Application(client_max_size=1024 * 1024)
    add_security_headers(app)
    fl = Frontline(
        settings=settings, clock=clock, db=db, desk=desk, delivery=delivery, sweeper=sweeper,
        scheduler=scheduler, jobs=scheduled, texts=texts, kb=kb, files=files, web_app=app,
        channels=all_channels,
    )
    for name in settings.channel_names():
        adapter = _make_adapter(name, settings, db=db, receive=fl.receive, files=files,
                                texts=texts, clock=clock, sweep=sweeper.run_once)
        adapter.attach(app)
        fl.adapters[name] = adapter
        all_channels[name] = adapter
    monitor_token = settings.metrics_token.get_secret_value()
    add_health_routes(app, Health(
        db, channels=lambda: {n: a.status() for n, a in fl.adapters.items()},
        scheduler_running=lambda: scheduler.running,
        extras=partial(health_fields, db, clock, sweeper),
    ), token=monitor_token)
    attach_dashboard(app, Dashboard(db, clock, texts, settings, settings.files_dir,
                                    secure=settings.secure_cookies,
                                    session_hours=settings.dashboard_session_hours))
    metrics = attach_metrics(app, db, clock, sweeper, token=monitor_token,
                             cache_seconds=settings.metrics_cache_seconds)
    fl.alarms = AlarmSources.from_settings(settings, desk.alarm, clock, registry=metrics)
    fl.alarms.attach(app)
    return fl


def _make_adapter(name: str, settings: Settings, *, db: Database, receive: Receive,
                  files: FileStore, texts: Texts, clock: Clock,
                  sweep: Callable[[], Awaitable[int]]) -> Adapter:
    if name == "web":
        from bot.webchat_wiring import make_webchat

        return make_webchat(
            db, receive=receive, texts=texts, demo=settings.webchat_demo,
            cookie_secret=settings.webchat_cookie_secret.get_secret_value(),
            database_url=settings.database_url, files_dir=settings.files_dir,
            allowed_origins=settings.web_origins, secure_cookies=settings.secure_cookies,
            identities_per_hour=settings.webchat_identities_per_hour,
            trusted_proxies=settings.trusted_proxies, clock=clock, photos=files, sweep=sweep,
        )
    if name == "telegram":
        from bot.telegram import TelegramAdapter

        return TelegramAdapter.from_settings(settings, receive=receive, files=files, texts=texts)
    if name == "wecom":
        from bot.wecom import WeComAdapter

        return WeComAdapter.from_settings(settings, receive=receive, files=files)
    raise ValueError(f"unknown channel {name!r}: use web, telegram or wecom")
