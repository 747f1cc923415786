"""The periodic sweep: claim due timers and run them, then push the outbox along.

APScheduler only ticks; the timers themselves are database rows (a job store cannot be
shared between processes), claimed so that each fires exactly once across replicas. Timers
that came due while the bot was down fire on the first sweep after start.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from handlers.core.clock import Clock
from handlers.core.dispatch import TimerRunner
from storage import timers
from storage.uow import Database

log = logging.getLogger(__name__)


class Sweeper:
    def __init__(
        self, db: Database, clock: Clock, runner: TimerRunner,
        after: Callable[[], Awaitable[object]] | None = None,
        worker_id: str | None = None, lease: timedelta = timedelta(seconds=120),
    ) -> None:
        self.db, self.clock, self.runner, self.after = db, clock, runner, after
        self.worker_id = worker_id or f"{socket.gethostname()}:{id(self):x}"
        self.lease = lease
        self.last_run: datetime | None = None

    async def run_once(self) -> int:
        """Fire every due timer once; returns how many fired."""
        fired = 0
        while True:
            async with self.db.transaction() as tx:
                ids = await timers.claim_due(tx, self.clock.now(), self.worker_id, self.lease)
            if ids:
                try:
                    fired += await self.runner.run_batch(ids, self.worker_id)
                except Exception:  # the leases expire and a later sweep tries again
                    log.exception("timers %s failed", ids)
            if not ids:
                break
        self.last_run = self.clock.now()
        if self.after is not None:
            await self.after()
        return fired


class RunningJobs:
    """How many scheduler jobs (the sweep, digests, reports) are running, from APScheduler's own
    events. Stopping APScheduler cancels a running coroutine job wherever it is — a sweep
    between claiming outbox rows or timers and recording them leaves them claimed until the
    lease runs out (sent or fired late, after the next start) — so shutdown pauses the
    scheduler and lets the job in progress finish first."""

    def __init__(self, scheduler: Any) -> None:
        from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_SUBMITTED

        self._submitted = EVENT_JOB_SUBMITTED
        self.running, self._idle = 0, asyncio.Event()
        self._idle.set()
        scheduler.add_listener(self._on_event,
                               EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)

    def _on_event(self, event: Any) -> None:
        self.running = self.running + 1 if event.code == self._submitted \
            else max(0, self.running - 1)
        if self.running:
            self._idle.clear()
        else:
            self._idle.set()

    async def finish(self, limit: float = 30.0) -> None:
        if self.running:
            log.info("shutdown: letting %s scheduled job(s) finish", self.running)
        try:
            await asyncio.wait_for(self._idle.wait(), limit)
        except TimeoutError:
            log.warning("shutdown: a scheduled job still running after %ss is cancelled", limit)


class Scheduler:
    """APScheduler set-up: one interval job that runs the sweep; the cron jobs are added from
    scheduler/jobs.py (`Jobs.schedule(scheduler.apscheduler)`)."""

    def __init__(self, sweeper: Sweeper, interval_seconds: float) -> None:
        self.sweeper = sweeper
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._jobs = RunningJobs(self._scheduler)
        self._scheduler.add_job(
            self._tick, "interval", seconds=interval_seconds, id="sweep",
            max_instances=1, coalesce=True, misfire_grace_time=None,
        )

    async def _tick(self) -> None:
        try:
            await self.sweeper.run_once()
        except Exception:  # database down: report on /healthz, try again next tick
            log.exception("sweep failed")

    @property
    def apscheduler(self) -> AsyncIOScheduler:
        return self._scheduler

    def start(self) -> None:
        self._scheduler.start()

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    async def finish(self, limit: float = 30.0) -> None:
        """Shutdown: no new runs; the job under way (up to `limit` seconds) ends first."""
        if self._scheduler.running:
            self._scheduler.pause()
            await self._jobs.finish(limit)
        self.stop()

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)
