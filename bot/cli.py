"""The `frontline` command line: run, demo, db, people, tickets, kb."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import signal
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy.exc import DBAPIError

from bot import cli_database, logs, people_scope, people_sites, ticket_text
from bot.bootstrap import Frontline, build, load_kb, make_database, make_desk
from bot.settings import Settings, SettingsError, from_args, load
from handlers.core.escape import visible
from handlers.flows import admission
from storage import migrate, parts, people, tickets
from storage.sites import ScopeError
from storage.uow import Database

log = logging.getLogger("frontline")


def _async(fn: Callable[[argparse.Namespace], Coroutine[Any, Any, int]]) -> Callable[..., int]:
    return lambda args: asyncio.run(fn(args))


def _settings(args: argparse.Namespace, **overrides: Any) -> Settings:
    """The environment's settings with this command's flags on top (checked again)."""
    values = {k: v for k, v in overrides.items() if v is not None}
    for name in ("host", "port", "channel"):
        value = getattr(args, name, None)
        if value is not None:
            values["channels" if name == "channel" else name] = value
    return load(**values) if values else from_args(args)


async def serve(fl: Frontline) -> None:
    """Serve the web app until SIGINT/SIGTERM, then stop taking updates and flush."""
    await fl.start()
    # What start-up built (the knowledge base's tokenizer dictionaries: millions of objects)
    # lives as long as the process: kept out of the cyclic GC, whose full passes over it
    # otherwise stall every update in flight for tens of milliseconds.
    gc.freeze()
    runner = web.AppRunner(fl.web_app)
    await runner.setup()
    site = web.TCPSite(runner, fl.settings.host, fl.settings.port)
    await site.start()
    log.info("frontline serving on http://%s:%s (channels: %s)", fl.settings.host,
             fl.settings.port, ", ".join(fl.adapters) or "none")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    reloads: set[asyncio.Task[int]] = set()

    def reload() -> None:
        task = asyncio.create_task(fl.reload_kb())
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    loop.add_signal_handler(signal.SIGHUP, reload)
    pid_file = Path(fl.settings.pid_file)
    pid_file.write_text(str(os.getpid()))  # noqa: ASYNC240 (once, at start)
    try:
        await stop.wait()
    finally:
        pid_file.unlink(missing_ok=True)  # noqa: ASYNC240
    log.info("shutting down: no new updates; finishing current ones and the outbox")
    await runner.cleanup()  # the web app (web chat, webhooks) stops taking requests
    await fl.stop()


@_async
async def cmd_run(args: argparse.Namespace) -> int:
    await serve(await build(_settings(args)))
    return 0


@_async
async def cmd_demo(args: argparse.Namespace) -> int:
    from bot import demo

    db_url = f"sqlite+aiosqlite:///{Path(args.demo_db).absolute()}"  # noqa: ASYNC240
    settings = _settings(args, database_url=db_url, webchat_demo=True, channels="web")
    fl = await build(settings)
    await migrate.upgrade(fl.db.engine)
    added = await demo.seed(fl.db, fl.clock)
    print(f"demo people ready ({added} added); open http://{settings.host}:{settings.port}")
    await serve(fl)
    return 0


@_async
async def cmd_db_upgrade(args: argparse.Namespace) -> int:
    db = _db(args)
    await migrate.upgrade(db.engine)
    print(f"database at revision {await migrate.current(db.engine)}")
    await db.dispose()
    return 0


def cmd_db_backup(args: argparse.Namespace) -> int:
    return _backup_step(args, "backup", Path(args.dest), f"backup written to {args.dest}")


def cmd_db_restore(args: argparse.Namespace) -> int:
    return _backup_step(args, "restore", Path(args.src),
                        f"restored from {args.src}; start the bot")


def _backup_step(args: argparse.Namespace, action: str, path: Path, done: str) -> int:
    from storage import backup

    try:
        getattr(backup, action)(from_args(args).database_url, path)
    except (RuntimeError, ValueError, OSError) as exc:
        print(f"{action} failed: {exc}", file=sys.stderr)
        return 1
    print(done)
    return 0


def _db(args: argparse.Namespace) -> Database:
    return make_database(from_args(args))


@_async
async def cmd_people_add(args: argparse.Namespace) -> int:
    from handlers.core.clock import SystemClock

    ids = {ch: v for ch, v in (("telegram", args.telegram), ("wecom", args.wecom),
                               ("web", args.web)) if v}
    try:
        at = people_sites.placement(args.role, args.site or [])
    except ScopeError as exc:
        print(visible(f"frontline people add: --site: {exc}"), file=sys.stderr)
        return 2
    db = _db(args)
    await migrate.upgrade(db.engine)
    async with db.transaction() as tx:
        new = await people_sites.unheard_of(tx, at.scope or ([at.site] if at.site else []))
        person = await people.add_person(
            tx, name=args.name, role=at.role, site=at.site, scope=at.scope, title=at.title,
            skills=[s.strip() for s in (args.skills or "").split(",") if s.strip()],
            phone=args.phone or "", language=args.lang, now=SystemClock().now(), identities=ids,
        )
    print(visible(f"added person {person.id}: {person.name} ({people_sites.shown_role(person)}"
                  f"; {people_sites.shown_sites(person)})"))
    for site in new:  # allowed (a site may start with its manager), but often a typo
        print(visible(f"note: no one and nothing is at site {site!r} yet; check the spelling"),
              file=sys.stderr)
    await db.dispose()
    return 0


@_async
async def cmd_people_invite(args: argparse.Namespace) -> int:
    """An invitation code for one site; on Telegram also a link that sends it."""
    from handlers.core.clock import SystemClock

    site = admission.valid_invitation(args.site, args.uses, args.days)
    if site is None:
        print(f"need a site (one line, at most {admission.MAX_SITE} characters), --uses 1–"
              f"{admission.MAX_USES} and --days 1–{admission.MAX_DAYS}", file=sys.stderr)
        return 2
    settings = args.settings
    db = _db(args)
    await migrate.upgrade(db.engine)
    async with db.transaction() as tx:
        code, made = await admission.invite(tx, SystemClock().now(), site, uses=args.uses,
                                            days=args.days)
    await db.dispose()
    until = made.expires_at.astimezone(settings.zone)
    print(f"invitation for {site}: {admission.shown(code)} ({args.uses} uses, valid until "
          f"{until:%Y-%m-%d %H:%M})")
    token = settings.telegram_bot_token.get_secret_value()
    if token:
        from bot.telegram import bot_username, chat_link

        link = chat_link(await bot_username(settings.telegram_api_base_url, token), code)
        if link:
            print(f"Telegram: {link}")
    return 0


@_async
async def cmd_people_list(args: argparse.Namespace) -> int:
    db = _db(args)
    async with db.transaction() as tx:
        everyone = await people.people(tx)
        rows = [(p, await people.identities_of(tx, p.id or 0)) for p in everyone]
    for p, idents in rows:  # names, sites and ids are people's text: no terminal escapes
        where = ", ".join(f"{i.channel}:{i.external_user_id}" for i in idents) or "-"
        skills = ",".join(p.skills) or "-"
        print(visible(f"{p.id:>4}  {p.name:<10} {people_sites.shown_role(p):<11} "
                      f"{people_sites.shown_sites(p):<10} {skills:<30} {where}"))
    await db.dispose()
    return 0


@_async
async def cmd_tickets_list(args: argparse.Namespace) -> int:
    zone = args.settings.zone
    db = _db(args)
    async with db.transaction() as tx:
        rows = await tickets.listing(tx, status=args.status, limit=args.limit)
    await db.dispose()
    print(f"times in {zone.key}")
    print(f"{'number':<10} {'pri':<3} {'status':<20} {'site':<10} {'created':<16}  description")
    for t in rows:  # the site and description are people's text: no terminal escapes
        print(visible(f"{tickets.number(t.id or 0):<10} {t.priority:<3} {t.status:<20} "
                      f"{t.site or '-':<10} {ticket_text.local(t.created_at, zone):<16}  "
                      f"{t.description[:40]}"))
    return 0


@_async
async def cmd_tickets_show(args: argparse.Namespace) -> int:
    ticket_id = tickets.parse_number(args.number)
    db = _db(args)
    async with db.transaction() as tx:
        t = await tickets.get(tx, ticket_id) if ticket_id else None
        events = await tickets.events(tx, ticket_id) if t and ticket_id else []
        names = {p.id: p.name for p in await people.people(tx)}
        used = parts.totals(await parts.of_ticket(tx, ticket_id)) if t and ticket_id else []
    await db.dispose()
    if t is None:
        print(f"no ticket {visible(args.number)}", file=sys.stderr)
        return 1
    print(ticket_text.show(t, events, names, args.settings.zone, used))
    return 0


@_async
async def cmd_tickets_report(args: argparse.Namespace) -> int:
    """Print the fault report (故障处理报告) of one ticket in Markdown; `--pdf FILE` also
    writes it as the PDF the managers get."""
    from handlers.core.clock import SystemClock
    from handlers.flows.records import fault_report, report_doc, report_pdf

    ticket_id = tickets.parse_number(args.number)
    db = _db(args)
    desk = make_desk(from_args(args), db, SystemClock())
    lang = args.lang or desk.texts.default
    out: list[Any] = []

    async def job(ctx: Any) -> None:
        t = await tickets.get(ctx.tx, ticket_id) if ticket_id else None
        if t is not None:
            out.append(await fault_report.build(ctx, t, lang))

    await desk.run_job("cli:report", job)
    await db.dispose()
    if not out:
        print(f"no ticket {visible(args.number)}", file=sys.stderr)
        return 1
    print("\n".join(visible(line) for line in report_doc.markdown(out[0]).split("\n")))
    if args.pdf:
        data = await report_pdf.render_async(out[0], lang)
        await asyncio.to_thread(Path(args.pdf).write_bytes, data)
        print(f"PDF written to {args.pdf}", file=sys.stderr)
    return 0


@_async
async def cmd_kb_export(args: argparse.Namespace) -> int:
    """Write approved knowledge-base drafts as article files (the KB's own format)."""
    from sqlalchemy import select
    from sqlmodel import col

    from handlers.flows.knowledge import to_article
    from storage.models import DraftState, KbDraft

    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (a CLI, nothing else runs)
    db = _db(args)
    async with db.transaction() as tx:
        drafts = await tx.scalars(
            select(KbDraft).where(col(KbDraft.state) == DraftState.APPROVED))
    await db.dispose()
    for draft in drafts:
        article = to_article(draft)
        (folder / f"{article.id}.md").write_text(article.to_markdown(), encoding="utf-8")
    print(f"{len(drafts)} articles written to {folder}")
    return 0


def cmd_kb_reload(args: argparse.Namespace) -> int:
    """Ask the running bot (its pid file) to re-read the knowledge base: SIGHUP."""
    pid_file = Path(from_args(args).pid_file)
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, signal.SIGHUP)
    except (OSError, ValueError) as exc:
        print(f"no running frontline to reload ({pid_file}): {exc}", file=sys.stderr)
        return 1
    print(f"asked process {pid} to reload the knowledge base")
    return 0


@_async
async def cmd_kb_stats(args: argparse.Namespace) -> int:
    """Articles per category and language; how often each was shown and marked solved."""
    from collections import Counter

    from sqlalchemy import select

    from handlers.flows.knowledge import load_approved
    from storage.models import SelfServiceAttempt

    kb = await asyncio.to_thread(load_kb, from_args(args))
    db = _db(args)
    async with db.transaction() as tx:
        attempts = await tx.scalars(select(SelfServiceAttempt))
        cases = await load_approved(tx, kb)  # approved knowledge drafts count as articles
    await db.dispose()
    shown, solved = Counter[str](), Counter[str]()
    for a in attempts:
        shown.update(a.article_ids)
        if a.outcome == "solved" and a.solved_article:  # only the article that solved it
            solved[a.solved_article] += 1
    per_group = Counter((art.category, art.lang) for art in kb)
    print(f"{len(kb)} articles ({cases} from approved knowledge drafts)")
    for (category, lang), n in sorted(per_group.items()):
        print(f"  {category:<12} {lang}  {n}")
    print(f"self-service: {len(attempts)} offers, "
          f"{sum(1 for a in attempts if a.outcome == 'solved')} solved")
    print(f"{'article':<34} {'shown':>6} {'solved':>6}")
    for art in sorted(kb, key=lambda a: (-shown[a.id], a.id)):
        if shown[art.id] or args.all:
            print(f"{art.id:<34} {shown[art.id]:>6} {solved[art.id]:>6}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="frontline", description="chat-first service desk")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the bot (web app, channels, scheduler)")
    run.add_argument("--channel", help="comma-separated: web, telegram, wecom")
    run.add_argument("--host")
    run.add_argument("--port", type=int)
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser("demo", help="demo: SQLite, demo people, web chat with a switcher")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8080)
    # not `args.db`: that names how a command opens the database (`_database`)
    demo.add_argument("--db", dest="demo_db", default="frontline-demo.db", help="SQLite file")
    demo.set_defaults(func=cmd_demo)

    db = sub.add_parser("db", help="database").add_subparsers(dest="db_command", required=True)
    upgrade = db.add_parser("upgrade", help="apply migrations")
    upgrade.set_defaults(func=cmd_db_upgrade, db="own")
    backup = db.add_parser("backup", help="SQLite online backup, or pg_dump for PostgreSQL")
    backup.add_argument("dest")
    backup.set_defaults(func=cmd_db_backup, db="own")
    restore = db.add_parser("restore", help="restore a backup (stop the bot first)")
    restore.add_argument("src")
    restore.set_defaults(func=cmd_db_restore, db="own")

    from bot import devices_cli, inspections_cli, report_cli

    report_cli.add_commands(sub)
    devices_cli.add_commands(sub)
    inspections_cli.add_commands(sub)
    _people_commands(sub)
    _ticket_commands(sub)
    _kb_commands(sub)
    return p


def _people_commands(sub: Any) -> None:
    ps = sub.add_parser("people", help="people").add_subparsers(dest="people_cmd", required=True)
    add = ps.add_parser("add", help="add a person")
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=people_sites.ROLES)
    add.add_argument("--site", action="append", help="where they work; a manager's or "
                     "coordinator's sites: repeat it, or A,B; `all` = every site (default)")
    add.add_argument("--skills", help="comma-separated categories, e.g. valve,pump")
    add.add_argument("--phone")
    add.add_argument("--lang", default="zh", choices=["zh", "en"])
    add.add_argument("--telegram", help="Telegram user id")
    add.add_argument("--wecom", help="WeCom userid")
    add.add_argument("--web", help="web chat id")
    add.set_defaults(func=cmd_people_add, db="write")
    ps.add_parser("list", help="list people").set_defaults(func=cmd_people_list, db="read")
    invite = ps.add_parser("invite", help="an invitation code (and Telegram link) for a site")
    invite.add_argument("--site", required=True)
    invite.add_argument("--uses", type=int, default=admission.DEFAULT_USES,
                        help=f"how many people (default {admission.DEFAULT_USES})")
    invite.add_argument("--days", type=int, default=admission.DEFAULT_DAYS,
                        help=f"valid for (default {admission.DEFAULT_DAYS} days)")
    invite.set_defaults(func=cmd_people_invite, db="write")
    people_scope.add_command(ps)


def _ticket_commands(sub: Any) -> None:
    ts = sub.add_parser("tickets", help="tickets").add_subparsers(dest="tickets_cmd",
                                                                  required=True)
    ls = ts.add_parser("list", help="latest tickets")
    ls.add_argument("--status")
    ls.add_argument("--limit", type=int, default=50)
    ls.set_defaults(func=cmd_tickets_list, db="read")
    show = ts.add_parser("show", help="one ticket with its history")
    show.add_argument("number")
    show.set_defaults(func=cmd_tickets_show, db="read")
    report = ts.add_parser("report", help="the fault report (故障处理报告) of a ticket")
    report.add_argument("number")
    report.add_argument("--lang", choices=["zh", "en"])
    report.add_argument("--pdf", metavar="FILE", help="also write the report as a PDF")
    report.set_defaults(func=cmd_tickets_report, db="read")


def _kb_commands(sub: Any) -> None:
    from kb import cli as kb_cli

    kb_cli.add_commands(sub)
    # export, stats and reload need the database or the running bot, which kb/ must not
    # know about: they are added here.
    kb_sub = next(a for a in sub.choices["kb"]._actions
                  if isinstance(a, argparse._SubParsersAction))
    export = kb_sub.add_parser("export", help="write approved drafts as article files")
    export.add_argument("dir", metavar="DIR")
    export.set_defaults(func=cmd_kb_export, db="read")
    stats = kb_sub.add_parser("stats", help="articles per category; shown and solved counts")
    stats.add_argument("--all", action="store_true", help="list articles never shown too")
    stats.set_defaults(func=cmd_kb_stats, db="read")
    kb_sub.add_parser("reload", help="make the running bot re-read its articles (SIGHUP)") \
        .set_defaults(func=cmd_kb_reload)


def main(argv: list[str] | None = None) -> int:
    """Run one command. Settings that cannot be used stop it before anything starts: one
    line per problem on stderr (`FRONTLINE_TELEGRAM_MODE: 'pigeon' is not one of polling,
    webhook`) and exit code 2, like a wrong command-line flag."""
    args = parser().parse_args(argv)
    try:
        args.settings = settings = load()
        logs.configure(settings.log_format, settings.log_level)
        if getattr(args, "db", None):
            args.settings = settings = _database(settings, args.db)
        return int(args.func(args) or 0)
    except SettingsError as exc:  # also from a command's own flags (`run --channel fax`)
        for line in exc.problems:
            print(line, file=sys.stderr)
        return 2
    except cli_database.NoDatabase as exc:
        print(exc, file=sys.stderr)
        return 1
    except (DBAPIError, ConnectionError) as exc:  # tables missing, server down: one line
        cause = exc.orig if isinstance(exc, DBAPIError) else exc
        reason = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        print(f"frontline: the database {cli_database.shown(settings.database_url)} could not "
              f"be read ({visible(reason)}); run `frontline db upgrade`, or set "
              "FRONTLINE_DATABASE_URL to choose another", file=sys.stderr)
        return 1


def _database(settings: Settings, mode: str) -> Settings:
    """The settings with the database this command opens, named on stderr (cli_database)."""
    choice = cli_database.choose(settings.database_url, mode=mode,
                                 configured="database_url" in settings.model_fields_set)
    print(choice.line(), file=sys.stderr)
    return settings.model_copy(update={"database_url": choice.url})


if __name__ == "__main__":
    sys.exit(main())
