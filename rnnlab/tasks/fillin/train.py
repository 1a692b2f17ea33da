"""Training a fill-in-the-blank model on whole sentences (masked-word loss).

>>> train_fill(tok, train_sentences, val_sentences, "runs/bigru", steps=200)  # doctest: +SKIP
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from rnnlab.config import pick
from rnnlab.tasks.fillin.config import TASK, FillModel, FillTrain
from rnnlab.tasks.fillin.model import FillInModel
from rnnlab.train.loop import TrainConfig
from rnnlab.train.run import guard_out, train_run
from rnnlab.train.util import set_seed


class _Sentences:
    """Random batches of whole sentences (padded), with a resumable position."""

    def __init__(self, seqs: list[list[int]], batch: int, seed: int) -> None:
        self.seqs, self.batch, self.rng = seqs, batch, random.Random(seed)

    def __next__(self):
        pick = [self.seqs[self.rng.randrange(len(self.seqs))] for _ in range(self.batch)]
        return pad_ids(pick)

    def state_dict(self) -> dict[str, Any]:
        st = self.rng.getstate()
        return {"rng": [st[0], list(st[1]), st[2]]}

    def load_state_dict(self, s: dict[str, Any]) -> None:
        self.rng.setstate((s["rng"][0], tuple(s["rng"][1]), s["rng"][2]))


def pad_ids(seqs: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    lengths = torch.tensor([len(s) for s in seqs])
    ids = torch.zeros(len(seqs), int(lengths.max()), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s)
    return ids, lengths


def sentence_ids(tokenizer: Any, sentences: list[str]) -> list[list[int]]:
    """Token ids of each sentence without end-of-sequence ids (the ends are implicit)."""
    eos = tokenizer.eos_id
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
    progress: bool = True,
    **settings: Any,
) -> dict[str, Any]:
    """Train a fill-in-the-blank bidirectional model on sentences into run dir ``out``;
    ``settings`` are the fields of ``FillModel`` and ``FillTrain``. Returns the summary of
    ``rnnlab.train.run.train_run``."""
    spec, tc = pick(FillModel, settings), pick(FillTrain, settings)
    unknown = sorted(set(settings) - {*FillModel.__dataclass_fields__,
                                      *FillTrain.__dataclass_fields__})  # fmt: skip
    if unknown:
        raise TypeError(f"train_fill() got unexpected settings: {', '.join(unknown)}")
    guard_out(out, TASK, resume=False)
    set_seed(tc.seed)
    model = FillInModel(tokenizer, spec)
    tr, va = sentence_ids(tokenizer, train), sentence_ids(tokenizer, val)[:512]
    v_ids, v_len = pad_ids(va)

    def eval_fn() -> dict[str, float]:
        loss, _ = masked_loss(model, v_ids, v_len)
        return {"val_loss": float(loss), "val_ppl": math.exp(float(loss))}

    config = {
        **model.config,
        "data": {**model.config["data"], "sentences": len(tr), "val_sentences": len(va)},
        "train": tc.to_dict(),
    }
    config.pop("metrics")
    model.config = {**config, "metrics": {}}
    cfg = TrainConfig(
        steps=tc.steps,
        time_budget=tc.time_budget,
        lr=tc.lr,
        warmup=tc.warmup,
        eval_every=10**9,
        eval_every_s=max(5.0, (tc.time_budget or 60) / 4),
    )
    return train_run(
        model,
        cfg,
        out,
        config=config,
        data=_Sentences(tr, tc.batch, tc.seed),
        step_fn=lambda b: masked_loss(model, *b),
        eval_fn=eval_fn,
        progress=progress,
        reload_best=False,
    )
