"""The fill-in-the-blank model: fill in the blank, not predict the next word.

A bidirectional RNN reads the sentence both ways, so at word t its backward half has already
seen word t+1 and everything after it: trained to predict the next word it would just copy
it. The honest use is a fill-in-the-blank (masked-word) model: the word at position t is
predicted from the forward state *before* it (words < t) and the backward state *after* it
(words > t), never from the word itself.

>>> m = FillInModel(tok, cell="gru", embed=32, hidden=64)      # doctest: +SKIP
>>> logits, _ = m(ids)            # (B, T, V): P(word t | all the other words)  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from rnnlab.core import build_rnn
from rnnlab.data.tokenize import tokenizer_from_dict
from rnnlab.errors import CheckpointError, InputError
from rnnlab.tasks.fillin.config import TASK, FillModel
from rnnlab.train.checkpoint import load_run, load_weights_into


class FillInModel(nn.Module):
    """Embedding → bidirectional RNN → linear head on [forward h_{t-1}, backward h_{t+1}].

    The architecture is ``spec`` (a ``FillModel``) or its fields as keywords; ``config`` is
    the run's sectioned ``config.json``.
    """

    causal = False  # not a next-word model (rnnlab.serve.contract)

    def __init__(self, tokenizer: Any, spec: FillModel | None = None, **fields: Any) -> None:
        super().__init__()
        spec = (spec or FillModel()).replace(**fields, bidirectional=True)
        self.spec = spec
        self.tokenizer = tokenizer
        self.config: dict[str, Any] = {
            "task": TASK,
            "model": spec.to_dict(),
            "data": {
                "level": tokenizer.level,
                "vocab_size": len(tokenizer),
                "tokenizer": tokenizer.to_dict(),
            },  # fmt: skip
            "train": {},
            "metrics": {},
        }
        self.emb = nn.Embedding(len(tokenizer), spec.embed)
        self.rnn = build_rnn(spec, spec.embed)
        self.drop = nn.Dropout(spec.dropout)
        self.head = nn.Linear(2 * spec.hidden, len(tokenizer))

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        return self.drop(self.emb(ids))

    def context(self, out: torch.Tensor) -> torch.Tensor:
        """(B,T,2H) rnn output → (B,T,2H) = [forward state at t-1, backward state at t+1]
        (zeros beyond the ends: padded outputs are zero, so that holds for padded batches)."""
        H = out.shape[-1] // 2
        fwd = F.pad(out[..., :H], (0, 0, 1, 0))[:, :-1]
        bwd = F.pad(out[..., H:], (0, 0, 0, 1))[:, 1:]
        return torch.cat([fwd, bwd], dim=-1)

    def logits_from_output(self, out: torch.Tensor) -> torch.Tensor:
        return self.head(self.drop(self.context(out)))

    def forward(self, ids: torch.Tensor, state: Any = None, lengths: torch.Tensor | None = None):
        out, _ = self.rnn(self.embed(ids), lengths=lengths)
        return self.logits_from_output(out), None


def load_fill(run_dir: str | Path) -> FillInModel:
    """Load a fill-in model written by ``train_fill`` (eval mode)."""
    tensors, cfg = load_run(run_dir, task=TASK)
    try:
        spec = FillModel.from_dict(cfg["model"], f"{run_dir}/config.json")
        tok = tokenizer_from_dict(cfg["data"]["tokenizer"])
        model = FillInModel(tok, spec)
    except (KeyError, TypeError, InputError) as e:
        raise CheckpointError(f"{run_dir}: config.json lacks {e} for a fill-in model") from None
    load_weights_into(model, tensors, str(run_dir))
    model.config = cfg
    return model.eval()
