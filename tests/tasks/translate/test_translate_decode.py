"""Beam search against exhaustive search, and <unk> copying."""

from __future__ import annotations

import itertools
import math

import torch

from rnnlab.data import pairs as P
from rnnlab.tasks.translate.decode import Hypothesis, beam_search, greedy
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
