"""Shared by the translate tests: a tiny untrained model, and one small trained run."""

from __future__ import annotations

import pytest
import torch

from rnnlab.tasks.translate.model import Seq2Seq
from rnnlab.tasks.translate.train import train_translate


@pytest.fixture
def tiny():
    def make(attention: bool = True, cell: str = "gru", V: int = 9) -> Seq2Seq:
        torch.manual_seed(0)
        m = Seq2Seq(11, V, cell=cell, embed=6, hidden=8, dropout=0.0, attention=attention)
        return m.eval()

    return make


@pytest.fixture(scope="package")
def run_dir(tmp_path_factory):
    """One small model trained on the built-in numbers (shared by the CLI and view tests)."""
    out = tmp_path_factory.mktemp("tr") / "num"
    res = train_translate(
        None, out, hidden=48, embed=24, batch=32, steps=150, lr=1e-2, eval_every=75, progress=False
    )
    assert res["steps"] == 150
    return out
