"""Reports in chat: `/report` on demand, the weekly summary and the quarterly classification.

`/report` is for managers and admins; anyone else gets the catalog's not-allowed answer.
    /report                    this month so far
    /report 2026-Q3            a quarter, month (2026-11), ISO week (2026-W47) or day
    /report faults [period]    the fault classification (default: the last full quarter)
    /report [period] 二号园区   one site (a manager: one of theirs); `all`: every site
Scheduled runs go through `Desk.run_job` with an origin naming the period, so every replica
produces the same outbox keys and each manager gets each summary once.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from handlers.core.context import Ctx
from handlers.core.messages import FileRef
from handlers.core.router import Router
from handlers.flows.jobs import sites
from handlers.flows.reporting import charts, classify, figures, period, render
from handlers.flows.reporting.rates import Targets
from storage import people
from storage import sites as storage_sites
from storage.models import Person, Role

router = Router("reporting")
ALLOWED = (Role.MANAGER, Role.ADMIN)
FAULT_WORDS = frozenset({"faults", "fault", "classification", "分类", "故障"})
WEEKLY_CHARTS = ("weekly", "sla")
PERIOD_WORD = re.compile(r"\d{4}(?:-|$)")  # 2026-11, 2026-Q3, 2026-W47, 2026-11-23


def labels(ctx: Ctx, lang: str) -> render.Labels:
    return render.Labels(ctx.texts, lang, ctx.config.company_name)


def summary_text(fig: figures.Figures, lb: render.Labels, title: str | None = None) -> str:
    head = render.title(fig, lb)
    if title is not None:
        head[0] = title
    return "\n".join([*head, "", *(f"{k}：{v}" if lb.lang == "zh" else f"{k}: {v}"
                                   for k, v in render.rows(fig, lb))])


def classification_text(c: classify.Classification, lb: render.Labels) -> str:
    none = lb("q_none")
    sections = [
        ("q_causes", [lb("q_cause_line", count=n, fault_type=lb.name("fault_type", ft),
                         cause=cause) for ft, cause, n in c.top_causes]),
        ("q_devices", [lb("q_device_line", count=n, site=s, device=d)
                       for s, d, n in c.repeat_devices]),
        ("q_sites", [lb("q_site_line", count=n, site=s) for s, n in c.sites]),
        ("q_used", [lb("q_used_line", count=n, article=a) for a, n in c.articles_used]),
        ("q_missing", [lb("q_missing_line", count=n, category=lb.name("category", cat))
                       for cat, n in c.articles_missing]),
    ]
    lines = [lb("quarterly_title", period=c.period.label), f"{lb('tickets')}: {c.tickets}"]
    for key, body in sections:
        lines += ["", lb(key), *(body or [none])]
    return "\n".join(lines)


@router.command("report", roles=ALLOWED)
async def report_command(ctx: Ctx, arg: str) -> None:
    """`/report [faults] [period] [site]` — managers and admins only; a manager's own sites
    unless a site (one of theirs) or `all` is named."""
    words = arg.split()
    faults = bool(words) and words[0].lower() in FAULT_WORDS
    arg = " ".join(words[1:] if faults else words)
    if arg.lower() in ("help", "?", "帮助"):
        await ctx.reply("reporting.usage")
        return
    when, where = _period_and_site(arg)
    guessed = bool(where) and not when and not await sites.names_a_site(ctx, where)
    if guessed:  # neither a period's year nor a site: most likely a period mistyped
        when, where = where, ""
    try:
        span = _chosen(ctx, when, faults)
    except period.PeriodError:
        hint = "\n" + ctx.t("sites.or_site", sites=sites.listing(
            sites.scope_of(ctx.person) or await storage_sites.known(ctx.tx))) if guessed else ""
        await ctx.reply_text(ctx.t("reporting.bad_period", text=when[:40]) + hint)
        return
    chosen = await sites.chosen(ctx, where)
    lb, head = labels(ctx, ctx.lang), sites.heading(ctx, ctx.lang, chosen)
    if faults:
        result = await classify.classify(ctx.tx, span, chosen)
        await ctx.reply_text(head + classification_text(result, lb))
    else:
        fig = await figures.compute(ctx.tx, span, ctx.now, Targets.of(ctx.config), chosen)
        await ctx.reply_text(head + summary_text(fig, lb))


def _period_and_site(arg: str) -> tuple[str, str]:
    """`2026-11 二号园区`, `二号园区 2026-11`, or either alone: (the period, the site). A
    word starting with a year is the period (a wrong one is answered as a period)."""
    words = arg.split()
    for at in (0, -1):
        if words and PERIOD_WORD.match(words[at]):
            period_word = words.pop(at)
            return period_word, " ".join(words)
    return "", " ".join(words)


def _chosen(ctx: Ctx, arg: str, faults: bool) -> period.Period:
    zone = ctx.config.timezone
    if arg:
        return period.parse(arg, zone)
    if faults:
        return period.previous_quarter(ctx.now, zone)
    return period.month_to_date(ctx.now, zone)


async def weekly_summary(ctx: Ctx) -> None:
    """Last week's figures (and two charts) to every service manager, of their sites."""
    span = period.previous_week(ctx.now, ctx.config.timezone)
    made: dict[tuple[str, ...], tuple[figures.Figures, tuple[FileRef, ...]]] = {}
    for manager in await people.people_with_roles(ctx.tx, (Role.MANAGER,)):
        mine = sites.scope_of(manager)
        if mine not in made:  # one computation per distinct scope
            fig = await figures.compute(ctx.tx, span, ctx.now, Targets.of(ctx.config), mine)
            made[mine] = fig, await _chart_files(ctx, fig)
        fig, files = made[mine]
        await _push(ctx, manager, _weekly_text(ctx, fig, mine), files)


def _weekly_text(ctx: Ctx, fig: figures.Figures, mine: tuple[str, ...]) -> Callable[[str], str]:
    return lambda lang: sites.heading(ctx, lang, mine) + summary_text(
        fig, labels(ctx, lang), labels(ctx, lang)("weekly_title", period=fig.period.label))


async def quarterly_classification(ctx: Ctx) -> None:
    """Last quarter's fault classification to every service manager, of their sites."""
    span = period.previous_quarter(ctx.now, ctx.config.timezone)
    made: dict[tuple[str, ...], classify.Classification] = {}
    for manager in await people.people_with_roles(ctx.tx, (Role.MANAGER,)):
        mine = sites.scope_of(manager)
        if mine not in made:
            made[mine] = await classify.classify(ctx.tx, span, mine)
        await _push(ctx, manager, _quarterly_text(ctx, made[mine], mine))


def _quarterly_text(ctx: Ctx, result: classify.Classification,
                    mine: tuple[str, ...]) -> Callable[[str], str]:
    return lambda lang: sites.heading(ctx, lang, mine) + classification_text(
        result, labels(ctx, lang))


async def _chart_files(ctx: Ctx, fig: figures.Figures) -> tuple[FileRef, ...]:
    """Charts kept in the file store so every channel can attach them; none without one."""
    if ctx.files is None or render.is_empty(fig):
        return ()
    lb = labels(ctx, ctx.texts.default)
    refs = [await ctx.files.save(await charts.png_async(fig, lb, name),
                                 f"{fig.period.label}-{name}.png", "image/png")
            for name in WEEKLY_CHARTS]
    return tuple(refs)


async def _push(
    ctx: Ctx, person: Person, text: Callable[[str], str], files: tuple[FileRef, ...] = ()
) -> None:
    ident = await ctx.reachable_identity(person)
    if ident is None:
        return
    lang = ctx.texts.lang(person.language)
    await ctx.send_text(ident.channel, ident.chat_id, lang, text(lang), files=files)
