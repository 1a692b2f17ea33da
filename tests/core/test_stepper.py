"""The one-token stepper: fused kernels and int8 weights against the model's forward, and
the cell equations it shares with the explicit engine."""

from __future__ import annotations

import pytest
import torch

from rnnlab.core import cells
from rnnlab.core.stepper import Stepper
from rnnlab.data.tokenize import CharTokenizer
from rnnlab.tasks.lm.model import LanguageModel

TEXT = "the cat sat on the mat.\nthe dog sat on the log.\n"


def tiny_model(cell: str):
    torch.manual_seed(0)
    return LanguageModel(CharTokenizer.fit(TEXT), cell=cell, embed=8, hidden=16, layers=2).eval()


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn", "rnn_relu", "mingru"])
def test_stepper_matches_forward(cell):
    m = tiny_model(cell)
    ids = torch.tensor([m.tokenizer.encode("the ca"), m.tokenizer.encode("on the")])
    with torch.no_grad():
        full, _ = m(ids)
        _, state = m(ids[:, :3])
        step = Stepper(m)
        for t in range(3, 6):
            logits, state = step(ids[:, t], state)
            assert torch.allclose(logits, full[:, t], atol=1e-5), t
        if cell != "mingru":  # int8 weights: close, not equal
            _, state = m(ids[:, :3])
            q = Stepper(m, quantize=True)
            assert q.quantize
            for t in range(3, 6):
                logits, state = q(ids[:, t], state)
                assert (logits - full[:, t]).abs().max() < 0.05, t


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn_tanh", "rnn_relu"])
def test_from_projections_is_the_step_of_the_explicit_engine(cell):
    """The int8 stepper's equations are the engine's: same numbers from the same projections."""
    torch.manual_seed(1)
    B, H = 3, 5
    G = cells.CHUNKS[cell] * H
    x, h, c = torch.randn(B, G), torch.randn(B, H), torch.randn(B, H)
    w_hh, b_ih, b_hh = torch.randn(G, H), torch.randn(G), torch.randn(G)
    gh = h @ w_hh.t() + b_hh
    got_h, got_c = cells.from_projections(cell, x + b_ih, gh, h, c if cell == "lstm" else None)
    if cell == "gru":  # the engine folds b_hh's r/z part into gi, keeps its n part per step
        gi = x + b_ih + torch.cat([b_hh[: 2 * H], torch.zeros(H)])
        want_h, want_c = cells.gru_step(
            gi, h, None, w_hh, torch.cat([torch.zeros(2 * H), b_hh[2 * H :]])
        )
    else:
        want_h, want_c = cells.STEPS[cell](x + b_ih + b_hh, h, c, w_hh, None)
    assert torch.allclose(got_h, want_h, atol=1e-6)
    if cell == "lstm":
        assert torch.allclose(got_c, want_c, atol=1e-6)
