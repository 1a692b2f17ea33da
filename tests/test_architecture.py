"""The layering of docs/ARCHITECTURE.md, checked on the source: nothing imports upward,
the CLI is the only typer user, files stay small, and the CLI starts without torch."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "rnnlab"
MAX_LINES = 450

# what each layer may NOT import (rnnlab.<layer>...); io/errors/config are the ground floor
FORBIDDEN = {
    "io": ("core", "data", "train", "tasks", "serve", "cli"),
    "errors": ("core", "data", "train", "tasks", "serve", "cli"),
    "config": ("core", "data", "train", "tasks", "serve", "cli"),
    "core": ("data", "train", "tasks", "serve", "cli"),
    "data": ("train", "tasks", "serve", "cli"),
    "train": ("tasks", "serve", "cli"),
    "tasks": ("serve", "cli"),
    "serve": ("train", "cli"),
    # rnnlab/inspect.py: the public face of rnnlab.tasks.inspect (re-exports, loaded lazily)
    "inspect": ("train", "serve", "cli"),
}


def _layer(path: Path) -> str:
    return path.relative_to(PKG).parts[0].removesuffix(".py")


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every module a file imports (top level and inside functions)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.append((node.lineno, node.module))
            # `from rnnlab import train` names a layer too
            out += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return out


SOURCES = sorted(PKG.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PKG)))
def test_nothing_imports_upward(path: Path) -> None:
    banned = FORBIDDEN.get(_layer(path), ())
    bad = [
        f"line {n}: {mod}"
        for n, mod in _imports(path)
        if mod.startswith("rnnlab.") and mod.split(".")[1] in banned
    ]
    assert not bad, f"{path.relative_to(PKG)} imports a higher layer: {bad}"


def test_typer_only_in_the_cli() -> None:
    users = [
        str(p.relative_to(PKG))
        for p in SOURCES
        if _layer(p) != "cli" and any(m.split(".")[0] == "typer" for _, m in _imports(p))
    ]
    assert not users, f"typer imported outside rnnlab/cli: {users}"


def test_no_file_is_too_long() -> None:
    long = {
        str(p.relative_to(PKG)): n
        for p in [*SOURCES, *PKG.rglob("*.js")]
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"files over {MAX_LINES} lines (split them by role): {long}"


def test_the_cli_and_the_settings_load_without_torch() -> None:
    # `rnnlab --help` stays fast: the commands import their task inside their bodies
    mods = ["rnnlab.cli"] + [
        f"rnnlab.tasks.{p.parent.name}.config" for p in sorted(PKG.glob("tasks/*/config.py"))
    ]
    code = f"import sys; import {', '.join(mods)}; print('torch' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False", "importing the CLI imported torch"
