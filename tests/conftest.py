"""Shared test helpers."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import pytest
import torch

# Two cores run two test workers: one thread each keeps them from fighting.
torch.set_num_threads(1)


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run ``rnnlab ARGS...`` in-process through the real entry point (``rnnlab.cli.main``),
    returning exit code, stdout and stderr: fast enough for property tests."""
    from rnnlab.cli import main

    def run(*args: str) -> CliResult:
        monkeypatch.setattr(sys, "argv", ["rnnlab", *map(str, args)])
        code = 0
        try:
            main()
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture(scope="session", autouse=True)
def fused_kernels():
    """Build (or load from the cache) the fused C++ kernels once per test run, before any
    test moves ``$RNNLAB_HOME``; None where they are unavailable or ``RNNLAB_NO_EXT`` is set
    (every test then runs the Python loop)."""
    from rnnlab.core import kernels

    return kernels.get()
