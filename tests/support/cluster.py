"""Frontline replicas as child processes behind a round-robin forwarder (tests and bench)."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
from aiohttp import web

from storage import migrate, people
from storage.engine import make_engine
from storage.models import Role
from storage.uow import Database

SECRET = "replica-secret"
ROOT = Path(__file__).parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def seed(url: str, reporters: int) -> None:
    """Reporters 5000… and engineers 7001 (valve) and 7002 on Telegram, in a fresh schema."""
    db = Database(make_engine(url))
    await migrate.upgrade(db.engine)
    from handlers.core.clock import SystemClock

    async with db.transaction() as tx:
        now = SystemClock().now()
        for r in range(reporters):
            await people.add_person(tx, name=f"r{r}", role=Role.REPORTER, now=now,
                                    identities={"telegram": str(5000 + r)})
        for e, skills in ((1, ["valve"]), (2, [])):
            await people.add_person(tx, name=f"e{e}", role=Role.ENGINEER, now=now,
                                    skills=skills, identities={"telegram": str(7000 + e)})
    await db.dispose()


async def forwarder(backends: list[str]) -> tuple[web.AppRunner, str]:
    """The test's own round-robin load balancer on loopback."""
    turn = itertools.cycle(backends)
    session = aiohttp.ClientSession()

    async def forward(request: web.Request) -> web.Response:
        headers = {k: v for k, v in request.headers.items()
                   if k.lower().startswith(("content-type", "x-tele"))}
        try:
            async with session.post(f"{next(turn)}{request.path}", data=await request.read(),
                                    headers=headers) as r:
                return web.Response(status=r.status, body=await r.read())
        except aiohttp.ClientError:  # a dead replica: the platform will retry
            return web.Response(status=502)

    app = web.Application()
    app.router.add_post("/{tail:.*}", forward)
    app.on_cleanup.append(lambda _: session.close())
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


class Cluster:
    """The replicas as child processes, each on its own port, all on one PostgreSQL."""

    def __init__(self, api_url: str, token: str, tmp_path: Path, *, url: str, replicas: int,
                 policy: str = "", **extra_env: str) -> None:
        self.tmp = tmp_path
        self.ports = [free_port() for _ in range(replicas)]
        self.backends = [f"http://127.0.0.1:{p}" for p in self.ports]
        self.env = {**os.environ, "FRONTLINE_DATABASE_URL": url,
                    "FRONTLINE_CHANNELS": "telegram", "FRONTLINE_TELEGRAM_MODE": "webhook",
                    "TELEGRAM_API_BASE_URL": api_url, "TELEGRAM_BOT_TOKEN": token,
                    "TELEGRAM_WEBHOOK_SECRET": SECRET,
                    "FRONTLINE_FILES_DIR": str(tmp_path / "files"),
                    "FRONTLINE_SWEEP_INTERVAL_SECONDS": "0.5",
                    "FRONTLINE_SLA_DIGEST_TIME": "", "FRONTLINE_WEEKLY_REPORT_CRON": "",
                    "FRONTLINE_TELEGRAM_MAX_RATE": "10000", **extra_env}
        if policy:
            (tmp_path / "policy.toml").write_text(policy)
            self.env["FRONTLINE_SLA_POLICY_FILE"] = str(tmp_path / "policy.toml")
        self.procs: list[subprocess.Popen[bytes] | None] = [None] * replicas

    def start(self, i: int, *, nice: int = 0, **extra_env: str) -> None:
        env = {**self.env, "FRONTLINE_PORT": str(self.ports[i]),
               "FRONTLINE_PID_FILE": str(self.tmp / f"{i}.pid"), **extra_env}
        log = (self.tmp / f"replica{i}.log").open("a")
        prefix = ["nice", "-n", str(nice)] if nice else []
        self.procs[i] = subprocess.Popen(
            [*prefix, sys.executable, "-m", "bot.cli", "run"], cwd=ROOT, env=env,
            stdout=log, stderr=subprocess.STDOUT)

    def kill(self, i: int) -> None:
        proc = self.procs[i]
        assert proc is not None
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    def stop_all(self) -> None:
        for p in self.procs:
            if p is not None and p.poll() is None:
                p.terminate()
        for p in self.procs:
            if p is None:
                continue
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


async def wait_healthy(backends: list[str], procs: list, tmp_path: Path) -> None:  # type: ignore[type-arg]
    async with aiohttp.ClientSession() as s:
        for _ in range(240):
            up = 0
            for url in backends:
                try:
                    async with s.get(f"{url}/healthz") as r:
                        up += r.status in (200, 503)
                except aiohttp.ClientError:
                    pass
            if up == len(backends):
                return
            if any(p.poll() is not None for p in procs):
                break
            await asyncio.sleep(0.25)
    found = sorted(tmp_path.glob("replica*.log"))  # noqa: ASYNC240 (the failure report)
    logs = "\n".join(p.read_text()[-1500:] for p in found)
    raise AssertionError(f"replicas did not come up:\n{logs}")


