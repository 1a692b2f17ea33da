"""Decoding a ``Seq2Seq``: batched greedy search and beam search (GNMT length normalisation).

>>> m = Seq2Seq(12, 12, hidden=8, embed=4).eval()
>>> src, n = torch.tensor([[5, 6, 2]]), torch.tensor([3])
>>> beam_search(m, src, n, beam=1, max_steps=4)[0].ids == greedy(m, src, n, 4)[0].ids
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from rnnlab.data import pairs as P
from rnnlab.tasks.translate.model import Seq2Seq


def max_steps_for(n_src: int) -> int:
    """The longest output decoded for a source of ``n_src`` tokens."""
    return 2 * n_src + 10


def slot_budget(vocab: P.Vocab, slots: tuple[str, ...], sources: list[str]) -> Tensor | None:
    """(len(sources), V): each copy slot may be emitted as often as its source sentence has
    it (so "<copy0> vit à <copy0>." cannot drop <copy1>), other tokens without limit; None
    when the vocabulary has no slots."""
    ids = [(vocab.stoi[s], s) for s in slots if s in vocab.stoi]
    if not ids:
        return None
    b = torch.full((len(sources), len(vocab)), torch.inf)
    for r, text in enumerate(sources):
        for i, s in ids:
            b[r, i] = text.count(s)
    return b


@dataclass
class Hypothesis:
    ids: list[int]  # target ids, without <sos>, ending in <eos> when finished
    logp: float  # sum of log-probabilities
    attention: list[list[float]] = field(default_factory=list)  # per output step, over source

    def score(self, alpha: float) -> float:
        """GNMT length-normalised score: logp / ((5 + |y|) / 6) ** alpha."""
        return self.logp / ((5 + len(self.ids)) / 6) ** alpha


@torch.no_grad()
def greedy(
    model: Seq2Seq, src: Tensor, src_len: Tensor, max_steps: int, budget: Tensor | None = None
) -> list[Hypothesis]:
    """Batched greedy decoding: the most likely word at every step. ``budget`` (B, V): how
    often each sentence may emit each token (``slot_budget``: a copy slot as often as its
    source has it)."""
    enc = model.encode(src, src_len)
    state = model.init_state(enc)
    B = src.shape[0]
    y = torch.full((B,), P.SOS_ID, dtype=torch.long, device=src.device)
    hyps = [Hypothesis([], 0.0) for _ in range(B)]
    done = torch.zeros(B, dtype=torch.bool, device=src.device)
    used = None if budget is None else torch.zeros_like(budget)
    for _ in range(max_steps):
        lg, state, w = model.step(y, state, enc)
        logp = torch.log_softmax(lg, -1)
        if budget is not None:
            logp = logp.masked_fill(used >= budget, -torch.inf)
        y = logp.argmax(-1)
        if budget is not None:
            used[torch.arange(B), y] += 1
        for b in (~done).nonzero().flatten().tolist():
            hyps[b].ids.append(int(y[b]))
            hyps[b].logp += float(logp[b, y[b]])
            if w is not None:
                hyps[b].attention.append(w[b].tolist())
        done |= y == P.EOS_ID
        if done.all():
            break
    return hyps


@torch.no_grad()
def beam_search(
    model: Seq2Seq,
    src: Tensor,
    src_len: Tensor,
    beam: int,
    max_steps: int,
    alpha: float = 0.6,
    budget: Tensor | None = None,
) -> list[Hypothesis]:
    """Beam search for one sentence (``src`` of shape (1, S)); hypotheses best first by the
    length-normalised score. ``beam=1`` gives the greedy translation; ``budget`` (1, V) as
    in ``greedy``."""
    enc1 = model.encode(src, src_len)
    live = [Hypothesis([], 0.0)]
    state = model.init_state(enc1)
    finished: list[Hypothesis] = []
    # per live hypothesis, how often it has emitted each token (rows follow the beam)
    used = None if budget is None else torch.zeros_like(budget)
    for t in range(max_steps):
        enc = enc1.repeat(len(live))
        y = torch.tensor([h.ids[-1] if h.ids else P.SOS_ID for h in live], device=src.device)
        lg, state, w = model.step(y, state, enc)
        logp = torch.log_softmax(lg, -1)
        if budget is not None:
            logp = logp.masked_fill(used >= budget, -torch.inf)
        total = torch.tensor([h.logp for h in live], device=src.device)[:, None] + logp
        # the best 2k continuations: at most k of them end, so k stay alive
        top_v, top_i = total.flatten().topk(min(2 * beam, total.numel()))
        V = logp.shape[1]
        keep_rows, new_live = [], []
        for rank, (v, i) in enumerate(zip(top_v.tolist(), top_i.tolist())):
            row, tok = divmod(i, V)
            prev = live[row]
            # attention rows stay tensors (views) until the end: cheap to copy between beams
            h = Hypothesis(
                prev.ids + [tok], v, prev.attention + ([w[row]] if w is not None else [])
            )
            if tok == P.EOS_ID or t == max_steps - 1:
                if rank < beam:  # an ending outside the top k would have been pruned
                    finished.append(h)
            else:
                new_live.append(h)
                keep_rows.append(row)
                if len(new_live) == beam:
                    break
        if not new_live:
            break
        # stop when the best finished hypothesis beats every live one at its current length;
        # exact for alpha = 0 (log-probs only fall), the usual heuristic otherwise
        if finished and len(finished) >= beam:
            best = max(h.score(alpha) for h in finished)
            if all(h.score(alpha) < best for h in new_live):
                break
        live = new_live
        idx = torch.tensor(keep_rows, device=src.device)
        if used is not None:
            used = used[idx]
            used[torch.arange(len(live)), [h.ids[-1] for h in live]] += 1
        state = state[idx] if isinstance(state, Tensor) else tuple(s[idx] for s in state)
    out = sorted(finished or live, key=lambda h: h.score(alpha), reverse=True)
    for h in out:
        h.attention = [a.tolist() if isinstance(a, Tensor) else a for a in h.attention]
    return out
