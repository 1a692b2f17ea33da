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
