from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest

from kb import cli

from .conftest import ARTICLES


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="frontline")
    cli.add_commands(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["kb", *argv])


def run(*argv: str, stdin: str = "") -> tuple[int, str]:
    args = parse(*argv)
    out = io.StringIO()
    if args.func is cli.run_search:
        code = cli.run_search(args, out=out, stdin=io.StringIO(stdin))
    else:
        code = args.func(args, out=out)
    return code, out.getvalue()


def test_lint_of_a_clean_folder_exits_0_and_prints_nothing() -> None:
    assert run("lint", str(ARTICLES)) == (0, "")


def test_lint_prints_path_line_message_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "bad.md").write_text("---\nid: x\ntitle: t\nlang: de\n---\nbody\n", "utf-8")
    code, out = run("lint", str(ARTICLES), str(tmp_path))
    assert code == 1
    assert out == f"{tmp_path / 'bad.md'}:4: unknown lang 'de' (expected one of zh, en)\n"


def test_search_prints_json_per_query_with_an_empty_list_for_no_match() -> None:
    code, out = run("search", "--kb", str(ARTICLES), "--limit", "2", "--format", "json",
                    "电磁阀打不开", "你好")
    assert code == 0
    result = json.loads(out)
    assert [r["query"] for r in result] == ["电磁阀打不开", "你好"]
    first = result[0]["hits"][0]
    assert first["id"] == "valve-wont-open" and first["title"] == "电磁阀打不开，不出水"
    assert 0 < first["score"] <= 100
    assert len(result[0]["hits"]) <= 2
    assert result[1]["hits"] == []


def test_search_reads_queries_from_stdin_with_a_dash() -> None:
    code, out = run("search", "--kb", str(ARTICLES), "--format", "json", "-",
                    stdin="摄像头黑屏\n\n验证码收不到\n")
    assert code == 0
    assert [r["hits"][0]["id"] for r in json.loads(out)] == ["camera-offline", "sms-code"]


def test_search_as_text_names_the_article() -> None:
    code, out = run("search", "--kb", str(ARTICLES), "验证码收不到")
    assert code == 0 and "sms-code" in out


def test_search_with_no_articles_exits_2(tmp_path: Path) -> None:
    assert run("search", "--kb", str(tmp_path), "anything")[0] == 2


def test_search_requires_a_query() -> None:
    with pytest.raises(SystemExit):
        parse("search", "--kb", str(ARTICLES))


def test_search_engine_defaults_to_the_product_default_and_can_be_chosen(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FRONTLINE_KB_ENGINE", raising=False)
    assert parse("search", "x").engine == cli.DEFAULT_ENGINE == "hybrid"
    monkeypatch.setenv("FRONTLINE_KB_ENGINE", "lexical")  # the desk's setting, if set
    assert parse("search", "x").engine == "lexical"
    assert parse("search", "--engine", "hybrid", "x").engine == "hybrid"
    with pytest.raises(SystemExit):
        parse("search", "--engine", "magic", "x")


def test_search_with_the_hybrid_engine_keeps_the_json_interface(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRONTLINE_KB_CACHE", str(tmp_path))
    code, out = run("search", "--engine", "hybrid", "--kb", str(ARTICLES), "--limit", "3",
                    "--format", "json", "-", stdin="电磁阀打不开\n谢谢\n")
    assert code == 0
    result = json.loads(out)
    assert [r["query"] for r in result] == ["电磁阀打不开", "谢谢"]
    assert result[0]["hits"][0]["id"] == "valve-wont-open"
    assert result[1]["hits"] == []
    assert all(set(h) == {"id", "score", "title"} for r in result for h in r["hits"])
