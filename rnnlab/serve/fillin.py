"""The bidirectional demo model: fill in the blank, not predict the next word.

A bidirectional RNN reads the sentence both ways, so at word t its backward half has already
seen word t+1 and everything after it: trained to predict the next word it would just copy
it. The honest use is a fill-in-the-blank (masked-word) model: the word at position t is
predicted from the forward state *before* it (words < t) and the backward state *after* it
(words > t), never from the word itself.

>>> m = FillInModel(tok, cell="gru", embed=32, hidden=64)      # doctest: +SKIP
>>> logits, _ = m(ids)            # (B, T, V): P(word t | all the other words)  # doctest: +SKIP
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from rnnlab.core import make_rnn
from rnnlab.errors import CheckpointError

TASK = "lm-fill"


class FillInModel(nn.Module):
    """Embedding → bidirectional RNN → linear head on [forward h_{t-1}, backward h_{t+1}]."""

    fill_in = True  # the explorer and the game check this: not a next-word model

    def __init__(
        self,
        tokenizer: Any,
        cell: str = "gru",
        embed: int = 64,
        hidden: int = 128,
        layers: int = 1,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.tokenizer = tokenizer
        self.config = {
            "task": TASK,
            "level": tokenizer.level,
            "cell": cell,
            "embed": embed,
            "hidden": hidden,
            "layers": layers,
            "dropout": dropout,
            "bidirectional": True,
            "tokenizer": tokenizer.to_dict(),
        }
        self.emb = nn.Embedding(len(tokenizer), embed)
        self.rnn = make_rnn(
            cell, embed, hidden, layers, dropout=dropout, bidirectional=True, batch_first=True
        )
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(2 * hidden, len(tokenizer))

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


class _Sentences:
    """Random batches of whole sentences (padded), with a resumable position."""

    def __init__(self, seqs: list[list[int]], batch: int, seed: int) -> None:
        self.seqs, self.batch, self.rng = seqs, batch, random.Random(seed)

    def __next__(self):
        pick = [self.seqs[self.rng.randrange(len(self.seqs))] for _ in range(self.batch)]
        return _pad(pick)

    def state_dict(self) -> dict[str, Any]:
        st = self.rng.getstate()
        return {"rng": [st[0], list(st[1]), st[2]]}

    def load_state_dict(self, s: dict[str, Any]) -> None:
        self.rng.setstate((s["rng"][0], tuple(s["rng"][1]), s["rng"][2]))


def _pad(seqs: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    lengths = torch.tensor([len(s) for s in seqs])
    ids = torch.zeros(len(seqs), int(lengths.max()), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s)
    return ids, lengths


def sentence_ids(tokenizer: Any, sentences: list[str]) -> list[list[int]]:
    """Token ids of each sentence without end-of-sequence ids (the ends are implicit)."""
    eos = getattr(tokenizer, "eos_id", None)
    out = []
    for s in sentences:
        ids = [i for i in tokenizer.encode(s) if i != eos]
        if ids:
            out.append(ids)
    return out


def masked_loss(
    model: FillInModel, ids: torch.Tensor, lengths: torch.Tensor
) -> tuple[torch.Tensor, int]:
    logits, _ = model(ids, lengths=lengths)
    mask = torch.arange(ids.shape[1]).unsqueeze(0) < lengths.unsqueeze(1)
    return F.cross_entropy(logits[mask], ids[mask]), int(mask.sum())


def train_fill(
    tokenizer: Any,
    train: list[str],
    val: list[str],
    out: str | Path,
    *,
    cell: str = "gru",
    embed: int = 64,
    hidden: int = 128,
    layers: int = 1,
    dropout: float = 0.0,
    batch: int = 64,
    lr: float = 3e-3,
    steps: int | None = None,
    time_budget: float | None = None,
    warmup: int = 30,
    progress: bool = True,
    seed: int = 0,
) -> dict[str, Any]:
    """Train a fill-in-the-blank bidirectional model on sentences; write a run dir."""
    from rnnlab.train.checkpoint import save_run
    from rnnlab.train.loop import TrainConfig, fit
    from rnnlab.train.util import set_seed

    set_seed(seed)
    model = FillInModel(tokenizer, cell, embed, hidden, layers, dropout)
    tr, va = sentence_ids(tokenizer, train), sentence_ids(tokenizer, val)[:512]
    v_ids, v_len = _pad(va)

    def eval_fn() -> dict[str, float]:
        loss, _ = masked_loss(model, v_ids, v_len)
        return {"val_loss": float(loss), "val_ppl": math.exp(float(loss))}

    def save_fn(run_dir: Path, metrics: dict[str, Any]) -> None:
        save_run(
            run_dir,
            model.state_dict(),
            {
                **model.config,
                "metrics": metrics,
                "train": {"sentences": len(tr), "batch": batch, "lr": lr, "seed": seed},
            },
        )

    cfg = TrainConfig(
        steps=steps,
        time_budget=time_budget,
        lr=lr,
        warmup=warmup,
        eval_every=10**9,
        eval_every_s=max(5.0, (time_budget or 60) / 4),
    )
    return fit(
        model,
        cfg,
        out,
        data=_Sentences(tr, batch, seed),
        step_fn=lambda b: masked_loss(model, *b),
        eval_fn=eval_fn,
        save_fn=save_fn,
        progress=progress,
    )


def load_fill(run_dir: str | Path) -> FillInModel:
    """Load a fill-in model written by ``train_fill`` (eval mode)."""
    from rnnlab.data.tokenize import tokenizer_from_dict
    from rnnlab.train.checkpoint import load_run, load_weights_into

    tensors, cfg = load_run(run_dir, task=TASK)
    try:
        tok = tokenizer_from_dict(cfg["tokenizer"])
        model = FillInModel(
            tok, cfg["cell"], cfg["embed"], cfg["hidden"], cfg["layers"], cfg.get("dropout", 0.0)
        )
    except (KeyError, TypeError) as e:
        raise CheckpointError(f"{run_dir}: config.json lacks {e} for a fill-in model") from None
    load_weights_into(model, tensors, str(run_dir))
    model.config = {**model.config, **{k: v for k, v in cfg.items() if k != "tokenizer"}}
    return model.eval()
