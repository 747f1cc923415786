"""The shape of handlers/: one-way imports, no cycles, no imports hidden in functions, no
button strings spelt out by hand."""

from __future__ import annotations

import ast
import gc
from pathlib import Path

ROOT = Path(__file__).parents[2]
HANDLERS = ROOT / "handlers"
OURS = ("handlers", "storage", "kb", "bot", "scheduler")


def _parse_all() -> dict[str, ast.Module]:
    found = {}
    # Parsed once, at collection, with the collector paused: CPython 3.11's ast.parse can fail
    # ("AST constructor recursion depth mismatch") when a finaliser runs in the middle of it.
    gc.disable()
    try:
        for path in HANDLERS.rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts).removesuffix(".__init__")
            found[name] = ast.parse(path.read_text("utf-8"), str(path))
    finally:
        gc.enable()
    return found


PARSED = _parse_all()


def _modules() -> dict[str, ast.Module]:
    return PARSED


def _imported(module: str, node: ast.ImportFrom | ast.Import) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    base = node.module or ""
    if node.level:  # relative: not used in this project, but resolve it anyway
        base = ".".join(module.split(".")[: -node.level] + ([base] if base else []))
    return [base] + [f"{base}.{a.name}" for a in node.names]


def _top_level_imports(name: str, tree: ast.Module) -> set[str]:
    """Our modules imported when `name` is imported (TYPE_CHECKING blocks left out)."""
    out: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            out |= {m for m in _imported(name, node) if m.split(".")[0] in OURS}
    return out


def test_handlers_import_nothing_above_them():
    for name, tree in _modules().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for mod in _imported(name, node):
                    top = mod.split(".")[0]
                    assert top not in ("bot", "scheduler", "telegram", "aiohttp"), (name, mod)


def test_no_module_of_ours_is_imported_inside_a_function():
    for name, tree in _modules().items():
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    ours = [m for m in _imported(name, node) if m.split(".")[0] in OURS]
                    assert not ours, f"{name}.{fn.name} imports {ours}"


def test_the_handlers_modules_import_each_other_without_a_cycle():
    modules = _modules()
    graph = {n: {m for m in _top_level_imports(n, t) if m in modules} for n, t in modules.items()}
    done: set[str] = set()

    def visit(node: str, path: tuple[str, ...]) -> None:
        assert node not in path, " → ".join((*path, node))
        if node in done:
            return
        for nxt in graph[node]:
            if nxt != node and not node.startswith(nxt + "."):  # a package's own __init__
                visit(nxt, (*path, node))
        done.add(node)

    for name in graph:
        visit(name, ())


def test_only_the_core_spells_button_tokens():
    """Flows build tokens from their own enums through handlers.core.tokens; a literal
    "t:…:" in a flow would be another flow's key spelt out by hand."""
    for name, tree in _modules().items():
        if name.startswith("handlers.core"):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert node.value[:2] not in ("t:", "i:", "d:", "k:"), (name, node.value)
