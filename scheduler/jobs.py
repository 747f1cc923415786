"""Every scheduled job in one table: what runs, when (from settings, in site time) and how
each run is named.

- `digest`: daily at `sla_digest_time` (08:00) → `manager.daily_digest`;
  runs named `cron:digest:<day>`
- `weekly`: at `weekly_report_cron` (mon 08:00) → `reporting.chat.weekly_summary`;
  `cron:report:weekly:<day>`
- `quarterly`: 1 Jan/Apr/Jul/Oct at the weekly time → `reporting.chat.quarterly_classification`;
  `cron:report:quarterly:<day>`
- `prune`: daily at `prune_time` (03:30) → `storage.pruning.prune`: idempotency records past
  their retention, conversations of people who never registered idle past theirs;
  `cron:prune:<day>` (it sends nothing; running it twice deletes nothing more)

A run goes through `Desk.run_job` (one transaction, like a message would) and then kicks
delivery. Its origin names the run by the site-time day, so replicas that all fire it produce
the same outbox keys and each message is queued once. A run missed while the bot was down is
coalesced into one and still runs within the job's grace time. An empty setting turns a job's
trigger off; the job can still be run by hand (`Jobs.run`). Retention is not here: it is a
durable timer per ticket, fired by the sweep (scheduler/sweep.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.base import BaseTrigger

from handlers.core.context import Ctx
from handlers.core.dispatch import Desk
from handlers.flows import manager
from handlers.flows.reporting import chat, period
from scheduler import cron
from storage import pruning

log = logging.getLogger(__name__)
Handler = Callable[[Ctx], Awaitable[None]]
DIGEST_GRACE = 6 * 3600  # a digest hours late is stale: the next morning's replaces it
REPORT_GRACE = 12 * 3600  # a report a few hours late is still worth sending
PRUNE_GRACE = 20 * 3600  # late pruning is still pruning


@dataclass(frozen=True)
class Retention:
    """How long the `prune` job keeps what only grows (days)."""

    seen_update_days: float = 7
    visitor_days: float = 30


def pruner(keep: Retention) -> Handler:
    """The `prune` job's step: storage/pruning.py with these retentions."""

    async def prune(ctx: Ctx) -> None:
        done = await pruning.prune(
            ctx.tx, updates_before=ctx.now - timedelta(days=keep.seen_update_days),
            idle_before=ctx.now - timedelta(days=keep.visitor_days))
        log.info("pruned %s idempotency records and %s conversations of unknown people",
                 done.updates, done.conversations)

    return prune


@dataclass(frozen=True)
class Job:
    handler: Handler
    origin: str  # the run's origin is `<origin>:<site-time day>`
    trigger: BaseTrigger | None  # None: not scheduled (its setting is empty)
    grace_seconds: int


def table(timezone: str, digest_time: str, weekly_cron: str, prune_time: str = "",
          retention: Retention | None = None) -> dict[str, Job]:
    """The jobs, their triggers from the settings (site time; "" = off)."""
    return {
        "prune": Job(pruner(retention or Retention()), "cron:prune",
                     cron.daily(prune_time, timezone) if prune_time else None, PRUNE_GRACE),
        "digest": Job(manager.daily_digest, "cron:digest",
                      cron.daily(digest_time, timezone) if digest_time else None,
                      DIGEST_GRACE),
        "weekly": Job(chat.weekly_summary, "cron:report:weekly",
                      cron.weekly(weekly_cron, timezone) if weekly_cron else None,
                      REPORT_GRACE),
        "quarterly": Job(chat.quarterly_classification, "cron:report:quarterly",
                         cron.quarterly(weekly_cron, timezone) if weekly_cron else None,
                         REPORT_GRACE),
    }


def schedule(scheduler: BaseScheduler, jobs: Mapping[str, Job],
             run: Callable[[str], Awaitable[None]]) -> None:
    """Add every job that has a trigger; APScheduler calls `run(name)`."""
    for name, job in jobs.items():
        if job.trigger is None:
            continue
        scheduler.add_job(
            run, job.trigger, args=[name], id=name, replace_existing=True,
            coalesce=True, misfire_grace_time=job.grace_seconds, max_instances=1,
        )


class Jobs:
    """Runs the table's jobs through the desk, then pushes what they queued."""

    def __init__(self, desk: Desk, jobs: Mapping[str, Job],
                 after: Callable[[], object] | None = None) -> None:
        self.desk, self.jobs, self.after = desk, dict(jobs), after

    async def run(self, name: str) -> None:
        """Run job `name` once for today (site time); a second run today queues nothing new."""
        job = self.jobs[name]
        day = period.local_day(self.desk.clock.now(), self.desk.config.timezone)
        await self.desk.run_job(f"{job.origin}:{day}", job.handler)
        if self.after is not None:
            self.after()

    def schedule(self, scheduler: BaseScheduler) -> None:
        schedule(scheduler, self.jobs, self.run)
