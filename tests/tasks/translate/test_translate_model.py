"""Seq2seq with attention: padding invariance, attention over real tokens, teacher forcing."""

from __future__ import annotations

import pytest
import torch

from rnnlab.data import pairs as P
from rnnlab.tasks.translate.config import TranslateModel
from rnnlab.tasks.translate.decode import greedy
from rnnlab.tasks.translate.model import build_model


@pytest.mark.parametrize("attention, cell", [(True, "gru"), (True, "lstm"), (False, "gru")])
def test_padding_does_not_change_a_sentence(tiny, attention, cell):
    """A sentence padded into a batch with a longer one gets the logits it gets alone: the
    encoder honours lengths and attention never looks at padding."""
    m = tiny(attention, cell)
    short, long_ = [5, 6, 2], [7, 8, 9, 10, 4, 2]
    tgt = [[4, 5], [6, 7, 8, 5]]
    b = P.make_batch([short, long_], tgt)
    alone = P.make_batch([short], tgt[:1])
    with torch.no_grad():
        both = m(b.src, b.src_len, b.tgt_in)
        one = m(alone.src, alone.src_len, alone.tgt_in)
    torch.testing.assert_close(both[0, :3], one[0], atol=1e-5, rtol=1e-5)


def test_attention_is_a_distribution_over_real_tokens_only(tiny):
    m = tiny()
    b = P.make_batch([[5, 2], [7, 8, 9, 2]], [[4], [6]])
    with torch.no_grad():
        enc = m.encode(b.src, b.src_len)
        _, w = m.attend(m.init_state(enc), enc)
    torch.testing.assert_close(w.sum(-1), torch.ones(2))
    assert torch.all(w[0, 2:] == 0) and torch.all(w[0, :2] > 0)


def test_teacher_forcing_ratio_one_and_zero(tiny):
    """ratio 1 feeds the reference words (= a hand-written step loop); ratio 0 feeds the
    model's own argmax (= greedy decoding)."""
    m = tiny()
    src, src_len = torch.tensor([[5, 6, 7, 2]]), torch.tensor([4])
    tgt_in = torch.tensor([[P.SOS_ID, 4, 5, 6, 7]])
    with torch.no_grad():
        forced = m(src, src_len, tgt_in, teacher_ratio=1.0)
        enc = m.encode(src, src_len)
        state, manual = m.init_state(enc), []
        for t in range(tgt_in.shape[1]):
            lg, state, _ = m.step(tgt_in[:, t], state, enc)
            manual.append(lg)
        free = m(src, src_len, tgt_in, teacher_ratio=0.0)
    torch.testing.assert_close(forced, torch.stack(manual, 1))
    g = greedy(m, src, src_len, max_steps=5)[0]
    n = len(g.ids)
    assert free[0, :n].argmax(-1).tolist() == g.ids


def test_build_model_follows_the_settings():
    m = build_model(TranslateModel(cell="lstm", hidden=12, embed=5, attention=False), 20, 30)
    assert m.cell_kind == "lstm" and m.hidden == 12 and not m.attention
    assert m.src_emb.weight.shape == (20, 5) and m.out.out_features == 30
