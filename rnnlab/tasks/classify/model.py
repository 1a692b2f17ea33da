"""The classifier: embedding (token ids) or raw features → recurrent layer → pooling → linear.

>>> m = SequenceClassifier(3, n_features=2, cell="gru", hidden=8, pool="mean")
>>> m(torch.randn(4, 7, 2), torch.tensor([7, 3, 5, 1])).shape
torch.Size([4, 3])
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnlab.core import make_rnn
from rnnlab.errors import InputError
from rnnlab.tasks.classify.config import POOLS, ClassifyModel


class SequenceClassifier(nn.Module):
    """Embedding (token ids) or raw features → recurrent layer → pooling → dropout → linear.

    ``SequenceClassifier(**ClassifyModel(...).to_dict())`` builds the model a run describes
    (``from_spec``).
    """

    def __init__(
        self,
        n_classes: int,
        *,
        vocab_size: int | None = None,
        n_features: int | None = None,
        embed: int = 64,
        cell: str = "gru",
        hidden: int = 128,
        layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        pool: str = "last",
    ):
        super().__init__()
        if pool not in POOLS:
            raise InputError(f"unknown pooling {pool!r}: choose {', '.join(POOLS)}")
        if (vocab_size is None) == (n_features is None):
            raise ValueError("give exactly one of vocab_size (tokens) or n_features")
        self.pool = pool
        self.embed = nn.Embedding(vocab_size, embed) if vocab_size else None
        size_in = embed if vocab_size else n_features
        self.rnn = make_rnn(
            cell, size_in, hidden, layers, dropout=dropout, bidirectional=bidirectional
        )
        self.dirs = 2 if bidirectional else 1
        width = hidden * self.dirs
        if pool == "attention":  # additive attention: score_t = v · tanh(W o_t + b)
            self.att_proj = nn.Linear(width, width)
            self.att_v = nn.Linear(width, 1, bias=False)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(width, n_classes)

    @classmethod
    def from_spec(cls, spec: ClassifyModel) -> SequenceClassifier:
        return cls(**spec.to_dict())

    def inputs(self, x: Tensor) -> Tensor:
        return self.embed(x) if self.embed is not None else x

    def pooled(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor | None]:
        """(B, width) sequence vectors, and the attention weights (B, T) when pooling by it."""
        if bool((lengths == x.shape[1]).all()):
            # no padding in this batch: skip the lengths path (packed kernels cost 3x for a GRU)
            out, h_n = self.rnn(self.inputs(x))
        else:
            out, h_n = self.rnn(self.inputs(x), lengths=lengths)
        if self.pool == "last":  # final state of each direction of the top layer
            h = h_n[0] if isinstance(h_n, tuple) else h_n
            return torch.cat(list(h[-self.dirs :]), -1), None
        mask = torch.arange(out.shape[1], device=out.device)[None, :] < lengths[:, None]
        if self.pool == "mean":
            s = (out * mask.unsqueeze(-1)).sum(1) / lengths.unsqueeze(1).to(out.dtype)
            return s, None
        score = self.att_v(torch.tanh(self.att_proj(out))).squeeze(-1)
        w = torch.softmax(score.masked_fill(~mask, float("-inf")), dim=1)
        return (w.unsqueeze(-1) * out).sum(1), w

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        return self.head(self.drop(self.pooled(x, lengths)[0]))
