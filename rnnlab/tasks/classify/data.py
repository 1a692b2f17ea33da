"""Samples → tensors, minibatches, and the validation split a run records.

>>> tr, va = split_indices(10, 0.2, seed=0)
>>> len(tr), len(va)
(8, 2)
>>> split_record(10, 0.2, 0, va)["n_val"]
2
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from rnnlab.data.sequences import Samples
from rnnlab.data.tokenize import CharTokenizer, WordTokenizer, tokenizer_from_dict
from rnnlab.errors import CheckpointError, InputError


class Encoder:
    """Raw samples → tensors: a tokenizer (text) or per-feature standardisation (features)."""

    def __init__(self, kind: str, tokenizer=None, mean=None, std=None, max_len: int = 400):
        self.kind, self.tokenizer, self.max_len = kind, tokenizer, max_len
        self.mean = None if mean is None else np.asarray(mean, dtype=np.float32)
        self.std = None if std is None else np.asarray(std, dtype=np.float32)

    @classmethod
    def fit(cls, s: Samples, level: str = "char", max_len: int = 400) -> Encoder:
        if s.kind == "text":
            if level not in ("char", "word"):
                raise InputError(f"--level must be char or word, got {level!r}")
            tok = (CharTokenizer if level == "char" else WordTokenizer).fit(s.texts)
            return cls("text", tok, max_len=max_len)
        allf = np.concatenate(s.features, 0)
        return cls("features", None, allf.mean(0), allf.std(0) + 1e-6, max_len)

    @property
    def n_features(self) -> int | None:
        return None if self.mean is None else len(self.mean)

    def encode(self, s: Samples) -> list[Tensor]:
        if s.kind != self.kind:
            raise InputError(f"this model reads {self.kind} inputs, the data holds {s.kind}")
        if self.kind == "text":
            unk = self.tokenizer.unk_id
            return [
                torch.tensor((self.tokenizer.encode(t) or [unk])[: self.max_len]) for t in s.texts
            ]
        if s.features[0].shape[1] != self.n_features:
            raise InputError(
                f"this model reads {self.n_features} features per step, the data has "
                f"{s.features[0].shape[1]}"
            )
        return [torch.from_numpy((f[: self.max_len] - self.mean) / self.std) for f in s.features]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "tokenizer": self.tokenizer.to_dict() if self.tokenizer else None,
            "mean": None if self.mean is None else self.mean.tolist(),
            "std": None if self.std is None else self.std.tolist(),
            "max_len": self.max_len,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Encoder:
        tok = tokenizer_from_dict(d["tokenizer"]) if d.get("tokenizer") else None
        return cls(d["kind"], tok, d.get("mean"), d.get("std"), d.get("max_len", 400))


def collate(seqs: list[Tensor]) -> tuple[Tensor, Tensor]:
    """Pad to the longest sequence; padded steps are masked by ``lengths`` in the layer."""
    lengths = torch.tensor([len(s) for s in seqs])
    return nn.utils.rnn.pad_sequence(seqs, batch_first=True), lengths


class EpochStream:
    """Shuffled minibatches; the order of epoch e is a function of (seed, e): exact resume."""

    def __init__(self, seqs: list[Tensor], labels: Tensor, batch: int, seed: int):
        self.seqs, self.labels, self.batch, self.seed = seqs, labels, batch, seed
        self.epoch, self.pos = 0, 0

    def __next__(self):
        order = np.random.default_rng((self.seed, self.epoch)).permutation(len(self.seqs))
        idx = order[self.pos : self.pos + self.batch]
        self.pos += self.batch
        if self.pos >= len(order):
            self.epoch, self.pos = self.epoch + 1, 0
        x, lengths = collate([self.seqs[i] for i in idx])
        return x, lengths, self.labels[idx]

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "pos": self.pos}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.epoch, self.pos = int(state["epoch"]), int(state["pos"])


# ---- the validation split ------------------------------------------------------------------


def split_indices(n: int, val_frac: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(train, val)`` indices of ``n`` samples: a seeded permutation, ``val_frac`` held out."""
    if not 0 < val_frac < 1:
        raise InputError(f"--val-frac must be in (0, 1), got {val_frac}")
    order = np.random.default_rng((seed, 10**6)).permutation(n)
    n_val = max(1, int(round(n * val_frac)))
    if n - n_val < 1:
        raise InputError(f"only {n} samples: too few to hold out a validation split")
    return order[n_val:], order[:n_val]


def _indices_sha(idx: np.ndarray) -> str:
    return hashlib.sha256(np.asarray(idx, dtype="<i8").tobytes()).hexdigest()


def split_record(n: int, val_frac: float, seed: int, val: np.ndarray) -> dict[str, Any]:
    """What ``config.json`` records of the split (``data.split``): enough to cut it again
    (``split_from_record``) and a hash of the validation indices to prove it is the same."""
    return {
        "method": "permutation",
        "n": n,
        "val_frac": val_frac,
        "seed": seed,
        "n_val": len(val),
        "val_sha256": _indices_sha(val),
    }


def split_from_record(
    rec: dict[str, Any], n: int, where: str = "the run"
) -> tuple[np.ndarray, np.ndarray]:
    """The ``(train, val)`` indices a run was trained with; other data is a CheckpointError."""
    if rec.get("n") != n:
        raise CheckpointError(
            f"{where} was trained on {rec.get('n')} samples, this data has {n}: "
            "give the same --data to continue it"
        )
    tr, va = split_indices(n, rec["val_frac"], rec["seed"])
    if _indices_sha(va) != rec.get("val_sha256"):
        raise CheckpointError(f"{where}: its validation split cannot be cut again (hash differs)")
    return tr, va
