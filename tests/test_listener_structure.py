"""Listeners by feature: no listener module (one with `register`) imports another, and the
durable inbox imports none; shared steps live in modules that register nothing."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LISTENERS = ROOT / "bot" / "listeners"
# The admin package's __init__ assembles its own feature modules (and /campaign's table).
ASSEMBLERS = {"bot.listeners.admin"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def _registers(tree: ast.Module) -> bool:
    return any(isinstance(n, ast.FunctionDef) and n.name == "register" for n in tree.body)


MODULES = {_module_name(p): _tree(p) for p in sorted(LISTENERS.rglob("*.py"))}
LISTENER_MODULES = {name for name, tree in MODULES.items() if _registers(tree)}


def _imported_modules(tree: ast.Module) -> set[str]:
    """Every bot.listeners module an import names (`from a import b` may name module a.b)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if name in MODULES}


@pytest.mark.parametrize("module", sorted(LISTENER_MODULES - ASSEMBLERS))
def test_no_listener_module_imports_another(module: str) -> None:
    imported = _imported_modules(MODULES[module]) & LISTENER_MODULES
    assert imported == set(), f"{module} imports listener modules {sorted(imported)}"


def test_the_inbox_imports_no_listener_module() -> None:
    imported = _imported_modules(_tree(ROOT / "bot" / "inbox.py")) & LISTENER_MODULES
    assert imported == set()


def test_the_texter_features_are_listener_modules() -> None:
    for feature in ("joining", "first_texts", "send_card", "threads", "conversations", "home"):
        assert f"bot.listeners.{feature}" in LISTENER_MODULES
    assert {"bot.listeners.common", "bot.listeners.steps"}.isdisjoint(LISTENER_MODULES)
