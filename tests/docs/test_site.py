"""The documentation site builds with warnings as errors (broken links, missing pages, bad
references in docstrings), and its generated pages say what the code says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_cli_reference_lists_every_command_and_option():
    import typer

    from rnnlab.cli import app
    from rnnlab.cli.docs import reference

    md = reference()
    root = typer.main.get_command(app)
    for group, cmd in root.commands.items():
        subs = getattr(cmd, "commands", None)
        pairs = [(f"{group} {n}", s) for n, s in subs.items()] if subs else [(group, cmd)]
        for path, sub in pairs:
            assert f"## rnnlab {path}\n" in md, path
            for p in sub.params:
                for opt in getattr(p, "opts", []):
                    if opt.startswith("--"):
                        assert f"`{opt}`" in md, (path, opt)


def test_doctest_examples_become_code_blocks():
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        from griffe_doctest import fence_examples
    finally:
        sys.path.pop(0)
    text = "Run it.\n\n>>> tr.grad_h[0][0].shape\ntorch.Size([2])\n\nAfter."
    assert fence_examples(text) == (
        "Run it.\n\n```pycon\n>>> tr.grad_h[0][0].shape\ntorch.Size([2])\n```\n\nAfter."
    )


def test_site_builds_strict(tmp_path):
    pytest.importorskip("mkdocs", reason="the dev extra (mkdocs) is not installed")
    pytest.importorskip("mkdocstrings_handlers.python", reason="mkdocstrings-python missing")
    pytest.importorskip("mkdocs_jupyter", reason="mkdocs-jupyter is not installed")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(ROOT)}
    r = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    site = tmp_path / "site"
    cli = (site / "cli" / "index.html").read_text()
    assert "rnnlab-lm-train" in cli and "--time-budget" in cli
    engine = (site / "engine" / "index.html").read_text()
    assert "make_rnn" in engine
    assert engine.count("<math") >= 8 and "\\tanh" not in engine  # every equation drawn
    assert "<math" in (site / "tutorials" / "03_bptt" / "index.html").read_text()
    assert "Engine: explicit BPTT" in (site / "benchmarks" / "index.html").read_text()
    for nb in (ROOT / "docs" / "tutorials").glob("*.ipynb"):
        assert (site / "tutorials" / nb.stem / "index.html").is_file(), nb.name
