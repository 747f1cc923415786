"""Tokens for search: jieba words for Chinese, light-stemmed words for English.

jieba runs as a private `jieba.Tokenizer` (the global one is shared with anything else in
the process) that is initialised lazily, once, under a lock: loading its dictionary
takes most of a second, which a bot should pay on the first search, not at import.
Search mode (`cut_for_search`) also yields the parts of long words (电磁阀 -> 电磁,
电磁阀), so a query that says only 电磁 still meets the article's 电磁阀.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from pathlib import Path

import jieba

# Words that carry no meaning about the fault. Negations (不, 没, no, not) stay: 不出水
# and 没信号 are the fault.
STOP_WORDS: frozenset[str] = frozenset(
    """
    的 了 吗 呢 啊 吧 呀 哦 嘛 哈 啦 喔 么 嗯 诶 哎 唉 哇 着 过
    好 好的 收到 出来 一起 是不是 好多 很 太 老 非常 特别 比较 完 一天
    几天 东西 弄 搞 看 看看 来 去 说 知道 觉得 应该 可能 估计 不知道
    咋整 怎么弄 怎么搞 又是 还有 再 呗 哟 嘿 喂
    得 地 之 和 与 及 或 跟 还 又 也 都 就 才 在 是 有 个 这 那
    这个 那个 这边 那边 这里 那里 我 你 他 她 它 我们 你们 他们 咱们
    大家 自己 怎么 怎么办 怎么回事 怎么样 怎样 如何 咋 咋办 咋回事 啥
    什么 为什么 为啥 一下 一直 好像 感觉 请问 请 帮 帮忙 帮我 麻烦 谢谢
    多谢 你好 您好 老师 师傅 一个 一些 有点 有些 现在 刚才 刚刚 今天
    昨天 明天 早上 上午 中午 下午 晚上 昨晚 已经 还是 可以 能 会 要 想
    把 被 给 让 对 从 到 向 里 上 下 中 后 前 时候 的话 然后 但是
    可是 所以 因为 如果 突然 老是 总是 就是 那么 这么 问题 情况 a an
    the is are was were be been am i me my we our you your it its this that these those to
    of in on at for from with by and or but so if then please help hi hello hey thanks thank
    how what why when where which who do does did can could would should will just there
    here have has had get got im ive any some about ok okay yes yeah hmm
    """.split()
)
_ASCII_WORD = re.compile(r"^[a-z]+$")
_SHORT_NUMBER = re.compile(r"^\d{1,2}$")


def stem(word: str) -> str:
    """Strip the commonest English endings so valves/valve and clogged/clog meet."""
    if not _ASCII_WORD.match(word) or len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    for suffix, min_len in (("ing", 6), ("ed", 5)):
        if word.endswith(suffix) and len(word) >= min_len:
            root = word[: -len(suffix)]
            return root[:-1] if root[-1] == root[-2] and root[-1] not in "ls" else root
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _keep(token: str) -> bool:
    return bool(token.strip()) and token not in STOP_WORDS and not _SHORT_NUMBER.match(token)


class Tokenizer:
    """Segments normalised text; thread-safe after the lazy initialisation."""

    def __init__(
        self, user_dict: Path | None = None, words: Iterable[str] = (), search_mode: bool = True
    ) -> None:
        self._user_dict = user_dict
        self._words = tuple(w for w in words if w.strip())
        self._search_mode = search_mode
        self._jieba: jieba.Tokenizer | None = None
        self._lock = threading.Lock()

    def _segmenter(self) -> jieba.Tokenizer:
        segmenter = self._jieba
        if segmenter is not None:
            return segmenter
        with self._lock:
            if self._jieba is None:
                self._jieba = self._build()
            return self._jieba

    def _build(self) -> jieba.Tokenizer:
        logging.getLogger("jieba").setLevel(logging.WARNING)  # it prints load timings
        segmenter = jieba.Tokenizer()
        segmenter.initialize()
        if self._user_dict is not None and self._user_dict.is_file():
            segmenter.load_userdict(str(self._user_dict))
        for word in self._words:
            if " " not in word:  # jieba cannot hold a word with a space in it
                segmenter.add_word(word)
        return segmenter

    def tokens(self, normalised: str) -> list[str]:
        """Search-mode tokens (words and their dictionary parts) of normalised text."""
        return self.analyse(normalised)[1]

    def words(self, normalised: str) -> list[str]:
        """Precise-mode tokens: each word once, not split into its parts."""
        return self.analyse(normalised)[0]

    def analyse(self, normalised: str) -> tuple[list[str], list[str]]:
        """(words, words plus their parts) from one jieba pass.

        The parts are what `cut_for_search` adds (dictionary 2- and 3-grams inside a
        longer word); computing them here saves a second segmentation of the text.
        """
        words: list[str] = []
        tokens: list[str] = []
        for raw in self._segmenter().lcut(normalised, HMM=False):
            if not _keep(raw):
                continue
            word = stem(raw)
            words.append(word)
            if self._search_mode:
                tokens += self.parts(raw)
            tokens.append(word)
        return words, tokens

    def parts(self, word: str) -> list[str]:
        """Dictionary words inside a longer Chinese word (电瓶车 -> 电瓶), without the word."""
        if len(word) <= 2 or word.isascii():
            return []
        freq = self._segmenter().FREQ
        grams = [word[i : i + n] for n in (2, 3) for i in range(len(word) - n + 1)]
        return [g for g in grams if g != word and freq.get(g) and _keep(g)]
