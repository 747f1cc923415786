#!/usr/bin/env python3
"""Checker for the frozen unseen evaluation set.

Verifies article front matter / body shape and that every expected id in
queries.tsv exists; prints counts per language and per query kind.
Usage: python3 bench/unseen/check.py   (exit status 1 on any problem)
"""
import collections
import pathlib
import re
import sys

HERE = pathlib.Path(__file__).resolve().parent
ART = HERE / "articles"
QUERIES = HERE / "queries.tsv"

CATEGORIES = {"sensor", "irrigation", "valve", "pump", "fertigation", "camera", "network",
              "power", "platform", "weather", "pest", "gateway", "general"}
KINDS = ["plain", "typo", "homophone", "traditional", "english", "cross", "short",
         "long", "noisy", "negative"]
REQUIRED = ["id", "title", "lang", "category", "devices", "symptoms"]
ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

problems = []


def parse_front_matter(text, name):
    if not text.startswith("---\n"):
        problems.append(f"{name}: does not start with ---")
        return None, ""
    end = text.find("\n---\n", 4)
    if end < 0:
        problems.append(f"{name}: front matter not closed")
        return None, ""
    fm_text, body = text[4:end], text[end + 5:]
    fm, key = {}, None
    for line in fm_text.split("\n"):
        if not line.strip():
            continue
        m = re.match(r"^([a-z_]+):\s*(.*)$", line)
        if m:
            key, val = m.group(1), m.group(2).strip()
            if val.startswith("[") and val.endswith("]"):
                fm[key] = [v.strip() for v in val[1:-1].split(",") if v.strip()]
            elif val == "":
                fm[key] = []
            else:
                fm[key] = val
        elif line.startswith("  - ") and key is not None and isinstance(fm.get(key), list):
            fm[key].append(line[4:].strip())
        else:
            problems.append(f"{name}: unparsed front matter line: {line!r}")
    return fm, body


ids, langs, cats = {}, collections.Counter(), collections.Counter()
for path in sorted(ART.glob("*.md")):
    text = path.read_text(encoding="utf-8")
    fm, body = parse_front_matter(text, path.name)
    if fm is None:
        continue
    for k in REQUIRED:
        if k not in fm or fm[k] in ("", []):
            problems.append(f"{path.name}: missing key {k}")
    aid = fm.get("id", "")
    if not ID_RE.match(aid):
        problems.append(f"{path.name}: bad id {aid!r}")
    if path.stem != aid:
        problems.append(f"{path.name}: file name does not match id {aid!r}")
    if aid in ids:
        problems.append(f"{path.name}: duplicate id {aid}")
    if fm.get("lang") not in ("zh", "en"):
        problems.append(f"{path.name}: bad lang {fm.get('lang')!r}")
    if fm.get("category") not in CATEGORIES:
        problems.append(f"{path.name}: bad category {fm.get('category')!r}")
    if not isinstance(fm.get("devices"), list):
        problems.append(f"{path.name}: devices is not a list")
    sy = fm.get("symptoms")
    if not isinstance(sy, list) or not 2 <= len(sy) <= 5:
        problems.append(f"{path.name}: symptoms must be a list of 2-5 items")
    steps = re.findall(r"^(\d+)\. ", body, flags=re.M)
    if not 4 <= len(steps) <= 8 or steps != [str(i) for i in range(1, len(steps) + 1)]:
        problems.append(f"{path.name}: numbered steps must be 1..n with 4<=n<=8, got {steps}")
    first = body.strip().split("\n")[0]
    if re.match(r"^\d+\. ", first):
        problems.append(f"{path.name}: body must start with context before the steps")
    ids[aid] = fm.get("lang")
    langs[fm.get("lang")] += 1
    cats[fm.get("category")] += 1

kinds = collections.Counter()
seen_q = set()
used_ids = collections.Counter()
n_lines = 0
for ln, line in enumerate(QUERIES.read_text(encoding="utf-8").split("\n"), 1):
    if not line.strip() or line.startswith("#"):
        continue
    n_lines += 1
    parts = line.split("\t")
    if len(parts) != 3:
        problems.append(f"queries.tsv:{ln}: expected 3 tab-separated fields, got {len(parts)}")
        continue
    q, exp, kind = parts
    if kind not in KINDS:
        problems.append(f"queries.tsv:{ln}: unknown kind {kind!r}")
    if q in seen_q:
        problems.append(f"queries.tsv:{ln}: duplicate query {q!r}")
    seen_q.add(q)
    if exp == "-":
        if kind != "negative":
            problems.append(f"queries.tsv:{ln}: '-' expected but kind is {kind}")
    else:
        if kind == "negative":
            problems.append(f"queries.tsv:{ln}: negative query has expected ids")
        for e in exp.split(","):
            if e not in ids:
                problems.append(f"queries.tsv:{ln}: unknown id {e!r}")
            used_ids[e] += 1
    if kind == "short" and not 1 <= len(q) <= 4:
        problems.append(f"queries.tsv:{ln}: short query has {len(q)} chars")
    if kind == "long" and not 60 <= len(q) <= 200:
        problems.append(f"queries.tsv:{ln}: long query has {len(q)} chars")
    if kind == "cross" and exp != "-":
        q_en = not re.search(r"[\u4e00-\u9fff]", q)
        if not any((ids.get(e) == "zh") == q_en for e in exp.split(",")):
            problems.append(f"queries.tsv:{ln}: cross query has no article in the other language")
    kinds[kind] += 1

MIN = {"plain": 45, "typo+homophone": 15, "traditional": 12, "english": 12, "cross": 8,
       "short": 10, "long": 15, "noisy": 8, "negative": 45}
have = dict(kinds)
have["typo+homophone"] = kinds["typo"] + kinds["homophone"]
for k, m in MIN.items():
    if have.get(k, 0) < m:
        problems.append(f"too few {k} queries: {have.get(k, 0)} < {m}")
if len(ids) < 34:
    problems.append(f"too few articles: {len(ids)} < 34")
if n_lines < 170:
    problems.append(f"too few queries: {n_lines} < 170")

print(f"articles: {len(ids)} (zh {langs['zh']}, en {langs['en']})")
print("categories: " + ", ".join(f"{c} {n}" for c, n in sorted(cats.items())))
print(f"queries: {n_lines}")
for k in KINDS:
    print(f"  {k:<12} {kinds[k]}")
unused = sorted(set(ids) - set(used_ids))
print("articles never expected by any query: " + (", ".join(unused) if unused else "none"))
if problems:
    print(f"PROBLEMS ({len(problems)}):")
    for p in problems:
        print("  " + p)
    sys.exit(1)
print("OK: all expected ids exist, all articles well-formed")
