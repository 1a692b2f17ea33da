"""Beam search against exhaustive search, and <unk> copying."""

from __future__ import annotations

import itertools
import math

import torch

from rnnlab.data import pairs as P
from rnnlab.tasks.translate.decode import Hypothesis, beam_search, greedy, slot_budget
from rnnlab.tasks.translate.infer import Translator, _finish
from rnnlab.tasks.translate.model import Seq2Seq


def _seq_logp(m: Seq2Seq, src, src_len, ids: list[int]) -> float:
    enc = m.encode(src, src_len)
    state, y, total = m.init_state(enc), torch.tensor([P.SOS_ID]), 0.0
    for tok in ids:
        lg, state, _ = m.step(y, state, enc)
        total += float(torch.log_softmax(lg, -1)[0, tok])
        y = torch.tensor([tok])
    return total


def test_beam_search_with_a_wide_beam_finds_the_exhaustive_optimum(tiny):
    """Every output of at most 3 tokens (ending in <eos>, or cut at 3) scored by brute force:
    a beam wide enough to keep everything must return the best of them, and beam 1 = greedy."""
    V, steps = 6, 3
    m = tiny(V=V)
    src, src_len = torch.tensor([[5, 9, 2]]), torch.tensor([3])
    cands = []
    for n in range(1, steps + 1):
        for seq in itertools.product(range(V), repeat=n):
            ended = seq[-1] == P.EOS_ID and P.EOS_ID not in seq[:-1]
            if ended or (n == steps and P.EOS_ID not in seq):
                cands.append(list(seq))
    with torch.no_grad():
        scored = {tuple(c): _seq_logp(m, src, src_len, c) for c in cands}
        best = max(scored, key=scored.get)
        hyps = beam_search(m, src, src_len, beam=V**steps, max_steps=steps, alpha=0.0)
        assert tuple(hyps[0].ids) == best
        assert math.isclose(hyps[0].logp, scored[best], abs_tol=1e-4)
        # with length normalisation the ranking is by logp / ((5 + n) / 6) ** alpha
        norm = {c: s / ((5 + len(c)) / 6) ** 1.0 for c, s in scored.items()}
        hyps = beam_search(m, src, src_len, beam=V**steps, max_steps=steps, alpha=1.0)
        assert tuple(hyps[0].ids) == max(norm, key=norm.get)
        g = greedy(m, src, src_len, steps)[0]
        assert beam_search(m, src, src_len, beam=1, max_steps=steps)[0].ids == g.ids


def test_unknown_output_word_copies_the_attended_source_word(tiny):
    tr = Translator(tiny(), P.Vocab(list(P.SPECIALS) + ["x"]), P.Vocab(list(P.SPECIALS)), {})
    hyp = Hypothesis([P.UNK_ID, P.EOS_ID], -1.0, [[0.1, 0.8, 0.1], [0.3, 0.3, 0.4]])
    assert _finish(tr, hyp, ["le", "zorglub→<unk>", "<eos>"], 0.6) == ["zorglub", "<eos>"]


def test_a_copy_slot_is_emitted_only_as_often_as_the_source_has_it():
    """A decoder that loves token 5 (a slot) repeats it; with a budget of one it writes it
    once, and a slot the source lacks (6) never; with no limit the budget changes nothing."""
    torch.manual_seed(0)
    m = Seq2Seq(10, 10, hidden=8, embed=4).eval()
    with torch.no_grad():
        m.out.bias[5] += 50.0  # 5 wins every step unless banned
        m.out.bias[6] += 40.0  # then 6
    src, n = torch.tensor([[4, 7, 2], [4, 7, 2]]), torch.tensor([3, 3])
    free = greedy(m, src, n, 6)
    assert free[0].ids.count(5) == 6  # the failure the budget is for: "marie a 3 3"
    vocab = P.Vocab(list(P.SPECIALS) + [f"w{i}" for i in range(4, 10)])
    vocab.stoi["<copy0>"], vocab.stoi["<copy1>"] = 5, 6  # as if they were pieces 5 and 6
    budget = slot_budget(vocab, ("<copy0>", "<copy1>"), ["<copy0> x", "<copy0> <copy0>"])
    got = greedy(m, src, n, 6, budget)
    assert got[0].ids.count(5) == 1 and got[1].ids.count(5) == 2
    assert 6 not in got[0].ids + got[1].ids
    beam = beam_search(m, src[:1], n[:1], 3, 6, budget=budget[:1])[0]
    assert beam.ids.count(5) == 1 and 6 not in beam.ids
    unlimited = torch.full_like(budget, torch.inf)
    assert [h.ids for h in greedy(m, src, n, 6, unlimited)] == [h.ids for h in free]
    assert slot_budget(vocab, ("<copy9>",), ["x"]) is None  # a vocabulary without slots
