"""The seq2seq model: bidirectional encoder, attentive decoder (one cell stepped by hand).

Encoder: embeddings → bidirectional GRU/LSTM (``rnnlab.core.make_rnn``, ``lengths=`` for the
padding). Decoder: one GRU/LSTM cell that at each step attends over the encoder states with
``v·tanh(W_k h_j + W_q s_{t-1})`` (padding masked out), reads ``[embedding; context]`` and
predicts the next word from ``[state; context; embedding]``. Without attention the context is
the encoder's final states at every step (the Cho et al. 2014 model), for the comparison.

>>> m = build_model(TranslateModel(hidden=16, embed=8), 20, 30)
>>> m(torch.tensor([[5, 6, 2]]), torch.tensor([3]), torch.tensor([[1, 7]])).shape
torch.Size([1, 2, 30])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from rnnlab.core import make_rnn
from rnnlab.data import pairs as P
from rnnlab.errors import InputError
from rnnlab.tasks.translate.config import CELLS, TranslateModel


@dataclass
class Encoded:
    """What the decoder reads: encoder states, attention keys, padding mask, summary."""

    memory: Tensor  # (B, S, 2H)
    keys: Tensor | None  # (B, S, A) precomputed W_k h_j (None without attention)
    mask: Tensor  # (B, S) True on real tokens
    summary: Tensor  # (B, 2H) last forward state ‖ first backward state

    def repeat(self, k: int) -> Encoded:
        """The same encoding for ``k`` beam hypotheses (batch of 1 → k)."""
        rep = lambda t: None if t is None else t.expand(k, *t.shape[1:])  # noqa: E731
        return Encoded(rep(self.memory), rep(self.keys), rep(self.mask), rep(self.summary))


class Seq2Seq(nn.Module):
    """Bidirectional encoder + attentive decoder.

    >>> m = Seq2Seq(20, 30, hidden=16, embed=8)
    >>> logits = m(torch.tensor([[5, 6, 2]]), torch.tensor([3]), torch.tensor([[1, 7]]))
    >>> logits.shape
    torch.Size([1, 2, 30])
    """

    def __init__(
        self,
        src_vocab: int,
        tgt_vocab: int,
        *,
        cell: str = "gru",
        embed: int = 64,
        hidden: int = 128,
        layers: int = 1,
        dropout: float = 0.2,
        attention: bool = True,
        attn_dim: int | None = None,
    ):
        super().__init__()
        if cell not in CELLS:
            raise InputError(f"--cell must be gru or lstm for translation, got {cell!r}")
        self.cell_kind, self.attention, self.hidden = cell, attention, hidden
        H, E, A = hidden, embed, attn_dim or hidden
        self.src_emb = nn.Embedding(src_vocab, E, padding_idx=P.PAD_ID)
        self.tgt_emb = nn.Embedding(tgt_vocab, E, padding_idx=P.PAD_ID)
        self.encoder = make_rnn(cell, E, H, layers, dropout=dropout, bidirectional=True)
        self.bridge = nn.Linear(2 * H, H)  # decoder's first state from the encoder summary
        if attention:
            self.att_key = nn.Linear(2 * H, A, bias=False)
            self.att_query = nn.Linear(H, A)
            self.att_v = nn.Linear(A, 1, bias=False)
        # a cell, not a layer: attention needs the state of step t-1 before step t runs
        self.decoder = (nn.GRUCell if cell == "gru" else nn.LSTMCell)(E + 2 * H, H)
        self.pre_out = nn.Linear(H + 2 * H + E, H)
        self.out = nn.Linear(H, tgt_vocab)
        self.drop = nn.Dropout(dropout)

    # -- encoder --
    def encode(self, src: Tensor, src_len: Tensor) -> Encoded:
        x = self.drop(self.src_emb(src))
        memory, h_n = self.encoder(x, lengths=src_len)
        h = h_n[0] if isinstance(h_n, tuple) else h_n  # LSTM: (h, c)
        summary = torch.cat([h[-2], h[-1]], dim=-1)  # last layer: forward ‖ backward
        mask = torch.arange(src.shape[1], device=src.device)[None] < src_len.to(src.device)[:, None]
        keys = self.att_key(memory) if self.attention else None
        return Encoded(memory, keys, mask, summary)

    def init_state(self, enc: Encoded) -> Any:
        h = torch.tanh(self.bridge(enc.summary))
        return h if self.cell_kind == "gru" else (h, torch.zeros_like(h))

    # -- decoder --
    def attend(self, h_prev: Tensor, enc: Encoded) -> tuple[Tensor, Tensor | None]:
        """Context vector (B, 2H) and attention weights (B, S) (None without attention)."""
        if not self.attention:
            return enc.summary, None
        scores = self.att_v(torch.tanh(enc.keys + self.att_query(h_prev)[:, None])).squeeze(-1)
        weights = torch.softmax(scores.masked_fill(~enc.mask, float("-inf")), dim=-1)
        return torch.bmm(weights[:, None], enc.memory).squeeze(1), weights

    def step(self, y_prev: Tensor, state: Any, enc: Encoded) -> tuple[Tensor, Any, Tensor | None]:
        """One decoder step: previous token ids (B,) → logits (B, V), new state, attention."""
        e = self.drop(self.tgt_emb(y_prev))
        h_prev = state if self.cell_kind == "gru" else state[0]
        ctx, weights = self.attend(h_prev, enc)
        state = self.decoder(torch.cat([e, ctx], dim=-1), state)
        h = state if self.cell_kind == "gru" else state[0]
        o = torch.tanh(self.pre_out(self.drop(torch.cat([h, ctx, e], dim=-1))))
        return self.out(self.drop(o)), state, weights

    def forward(
        self, src: Tensor, src_len: Tensor, tgt_in: Tensor, teacher_ratio: float = 1.0
    ) -> Tensor:
        """Logits (B, T, V) for ``tgt_in`` (``<sos> y1 … yn``). With ``teacher_ratio`` < 1 each
        step after the first feeds, per sentence with probability 1 - ratio, the model's own
        previous prediction instead of the reference word (scheduled sampling)."""
        enc = self.encode(src, src_len)
        state = self.init_state(enc)
        y, logits = tgt_in[:, 0], []
        for t in range(tgt_in.shape[1]):
            lg, state, _ = self.step(y, state, enc)
            logits.append(lg)
            if t + 1 < tgt_in.shape[1]:
                y = tgt_in[:, t + 1]
                if teacher_ratio < 1.0:
                    own = torch.rand(y.shape[0], device=y.device) >= teacher_ratio
                    y = torch.where(own, lg.detach().argmax(-1), y)
        return torch.stack(logits, dim=1)


def seq_loss(logits: Tensor, target: Tensor, smoothing: float = 0.0) -> Tensor:
    """Mean cross-entropy over the real (non-padding) target tokens."""
    return nn.functional.cross_entropy(
        logits.flatten(0, 1), target.flatten(), ignore_index=P.PAD_ID, label_smoothing=smoothing
    )


def build_model(spec: TranslateModel, n_src: int, n_tgt: int) -> Seq2Seq:
    """The model ``spec`` describes, for vocabularies of ``n_src`` and ``n_tgt`` words."""
    return Seq2Seq(
        n_src,
        n_tgt,
        cell=spec.cell,
        embed=spec.embed,
        hidden=spec.hidden,
        layers=spec.layers,
        dropout=spec.dropout,
        attention=spec.attention,
    )
