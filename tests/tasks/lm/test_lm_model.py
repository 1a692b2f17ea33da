"""The language model: stateful forward in pieces, no bidirectional model, the loader."""

from __future__ import annotations

import pytest
import torch
from lm_helpers import EMPTY, TEXT, tiny_model

from rnnlab.data.tokenize import CharTokenizer
from rnnlab.errors import CheckpointError, InputError
from rnnlab.serve.contract import ExplorableModel
from rnnlab.tasks.lm.model import LanguageModel, load_lm
from rnnlab.train.checkpoint import save_run


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn"])
def test_forward_pieces_and_carried_state(cell):
    m = tiny_model(cell)
    ids = torch.tensor([m.tokenizer.encode(TEXT[:30]), m.tokenizer.encode(TEXT[30:60])])
    with torch.no_grad():
        full, _ = m(ids)
        # the explorer's path: embed -> rnn -> head gives the same logits
        assert torch.allclose(m.head(m.rnn(m.embed(ids))[0]), full, atol=1e-6)
        # truncated BPTT relies on this: two windows with the state carried == one pass
        a, s = m(ids[:, :13])
        b, _ = m(ids[:, 13:], s)
    assert torch.allclose(torch.cat([a, b], 1), full, atol=1e-5)


def test_bidirectional_refused():
    with pytest.raises(InputError, match="bidirectional no"):
        LanguageModel(CharTokenizer.fit("ab"), bidirectional=True)


def test_load_lm_refuses_other_task(tmp_path):
    save_run(tmp_path / "f", {"w": torch.zeros(1)}, {"task": "forecast", **EMPTY})
    with pytest.raises(CheckpointError, match="forecast"):
        load_lm(tmp_path / "f")
    with pytest.raises(CheckpointError, match="does not exist"):
        load_lm(tmp_path / "missing")


def test_spec_or_fields_and_the_contract():
    from rnnlab.tasks.lm.config import LMModel

    tok = CharTokenizer.fit(TEXT)
    a = LanguageModel(tok, LMModel(cell="lstm", hidden=12, layers=1))
    b = LanguageModel(tok, cell="lstm", hidden=12, layers=1)
    assert a.config == b.config and a.config["model"]["hidden"] == 12
    assert set(a.config) == {"task", "model", "data", "train", "metrics"}
    assert isinstance(a, ExplorableModel) and a.causal
    out, _ = a.rnn(a.embed(torch.tensor([tok.encode("the")])))
    assert torch.equal(a.logits_from_output(out), a.head(out))  # eval mode: no dropout


@pytest.mark.parametrize("hidden", [8, 12])  # equal to the embedding, and projected
def test_tied_head_is_the_embedding(tmp_path, hidden):
    from rnnlab.data.tokenize import WordTokenizer
    from rnnlab.tasks.lm.train import train_lm

    tok = WordTokenizer.fit("the cat sat on the mat\n")
    m = LanguageModel(tok, cell="gru", embed=8, hidden=hidden, layers=1, tie=True)
    h = torch.randn(3, hidden)
    proj = m.head.proj(h)
    assert torch.allclose(m.head(h), proj @ m.emb.weight.T + m.head.bias, atol=1e-6)
    assert not any(k.startswith("head.") and "emb" in k for k in m.state_dict())
    # the output loss trains the embedding itself
    m.head(h).sum().backward()
    assert m.emb.weight.grad is not None and m.emb.weight.grad.abs().sum() > 0
    # and a trained tied run loads back with the same logits
    out = tmp_path / "tied"
    train_lm("the cat sat on the mat\n" * 40, out, level="word", cell="gru", embed=8,
             hidden=hidden, layers=1, tie=True, steps=3, seq_len=8, batch=2, progress=False)  # fmt: skip
    a, b = load_lm(out), load_lm(out)
    ids = torch.tensor([tok.encode("the cat sat")])
    assert a.spec.tie and torch.equal(a(ids)[0], b(ids)[0])
    assert a.head._emb is a.emb
