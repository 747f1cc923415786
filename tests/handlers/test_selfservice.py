"""Self-service as a worker on a phone sees it: short cards, the whole article on request, and
the article that solved it credited."""

from __future__ import annotations

from sqlalchemy import select

from handlers.core import tokens
from handlers.flows.intake import cards
from storage.models import SelfServiceAttempt
from tests.support.chat import labels
from tests.support.fakes import FakeArticle

LONG = """Grit or a dead coil are the usual causes.

1. In the app, check the valve status: it must show **"open"**. "Offline" means check the
   controller first.
2. Read the main-line pressure gauge: drip needs at least about 0.1 MPa (1 bar), \
and the gauge must be read at the valve box itself, not at the pump house.
3. Turn the manual knob a quarter turn.
4. **Stop and report**: burnt coil or a cracked body. See [the manual](http://example.org/m).
"""


def test_a_card_is_the_first_two_steps_without_markdown():
    text = cards.card(LONG)
    assert text.splitlines()[0] == '1. In the app, check the valve status: it must show "open".'
    assert text.splitlines()[1].startswith("2. Read the main-line pressure gauge")
    assert text.endswith("…") and len(text.splitlines()[1]) <= cards.CARD_STEP_COLUMNS + 3
    assert "**" not in text and "3." not in text


def test_the_whole_article_keeps_every_step_as_plain_text():
    text = cards.full(LONG)
    assert "4. Stop and report: burnt coil or a cracked body. See the manual." in text
    assert "**" not in text and "http" not in text and text.startswith("Grit or a dead coil")


def test_an_article_without_numbered_steps_shows_its_first_sentence():
    assert cards.card("Just call the hotline.\n\nMore text.") == "Just call the hotline."


def _two_articles(app) -> None:
    app.kb.add(FakeArticle("valve-coil", "电磁阀线圈烧坏",
                           "1. 闻一下有没有焦味。\n2. 用万用表测线圈电阻。\n3. 更换线圈。"),
               "电磁阀")


async def test_each_article_is_a_card_with_its_own_solved_and_read_buttons(app, reporter):
    _two_articles(app)
    await reporter.says("3号地块电磁阀打不开")

    offer = reporter.last()
    assert "①《电磁阀打不开》\n1. 检查控制器指示灯。\n2. 测量线圈电压 24V。" in offer.text
    assert "②《电磁阀线圈烧坏》\n1. 闻一下有没有焦味。\n2. 用万用表测线圈电阻。" in offer.text
    assert "3. 更换线圈" not in offer.text  # a card shows the first steps only
    assert labels(offer) == ["① 已解决", "① 全文", "② 已解决", "② 全文", "没解决，报修"]


async def test_reading_the_whole_article_and_solving_credits_that_article(app, reporter):
    _two_articles(app)
    await reporter.says("3号地块电磁阀打不开")
    await reporter.presses("② 全文")
    assert reporter.last().text == ("《电磁阀线圈烧坏》\n1. 闻一下有没有焦味。\n"
                                    "2. 用万用表测线圈电阻。\n3. 更换线圈。")

    await reporter.presses("已解决")

    assert "太好了" in reporter.last().text
    async with app.db.transaction() as tx:
        attempt = (await tx.scalars(select(SelfServiceAttempt)))[0]
    assert (attempt.outcome, attempt.solved_article) == ("solved", "valve-coil")


async def test_a_solved_button_sent_before_articles_had_their_own_still_counts(app, reporter):
    await reporter.says("电磁阀打不开")
    nonce = tokens.parse(reporter.button("已解决")).ref

    await reporter.presses_data(f"i:{nonce}:kb_ok")

    async with app.db.transaction() as tx:
        attempt = (await tx.scalars(select(SelfServiceAttempt)))[0]
    assert (attempt.outcome, attempt.solved_article) == ("solved", "")


async def test_a_solved_button_for_an_article_that_was_not_offered_is_stale(app, reporter):
    await reporter.says("电磁阀打不开")
    nonce = tokens.parse(reporter.button("已解决")).ref

    await reporter.presses_data(f"i:{nonce}:solved:3")

    assert "这个按钮" in reporter.last().text
    async with app.db.transaction() as tx:
        attempt = (await tx.scalars(select(SelfServiceAttempt)))[0]
    assert attempt.outcome == ""
