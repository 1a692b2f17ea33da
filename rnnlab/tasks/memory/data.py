"""The memory tasks' shapes and batches (``rnnlab.data.synthetic``): training streams and the
fixed validation / test sets, every batch a pure function of its seed.

>>> x, y = fixed_set("parity", 8, 4, seed=0, stream=1)
>>> x.shape
torch.Size([4, 8, 1])
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch

from rnnlab.data import synthetic
from rnnlab.errors import InputError

VAL_STREAM, TEST_STREAM = 1, 2  # the seeded streams of the fixed sets (0: training batches)


@dataclass(frozen=True)
class TaskSpec:
    name: str
    in_features: int
    out_features: int
    per_step: bool  # a prediction at every step (copy) or one at the last step
    regression: bool
    chance: str  # what a model that learned nothing scores, for the report


def _unknown(task: str) -> InputError:
    return InputError(f"unknown memory task {task!r}: choose adding, copy, recall or parity")


def task_spec(task: str, *, alphabet: int = 8, modulus: int = 2) -> TaskSpec:
    """The input/output shape of a memory task."""
    if task == "adding":
        return TaskSpec("adding", 2, 1, False, True, "MSE 0.167 (always answer 1.0)")
    if task in ("copy", "recall"):
        return TaskSpec(task, alphabet + 2, alphabet, True, False, f"accuracy {1 / alphabet:.1%}")
    if task == "parity":
        return TaskSpec("parity", 1, modulus, False, False, f"accuracy {1 / modulus:.1%}")
    raise _unknown(task)


def make_batch(task: str, batch: int, length: int, gen: torch.Generator, **opt: int):
    """One batch ``(x, y)`` of ``task`` with memory span ``length`` (see ``rnnlab.data.synthetic``)."""
    if task == "adding":
        return synthetic.adding(batch, length, gen)
    if task in ("copy", "recall"):
        return synthetic.copy_task(
            batch,
            length,
            gen,
            n_symbols=opt.get("n_symbols", 10),
            alphabet=opt.get("alphabet", 8),
            variable=task == "recall",
        )
    if task == "parity":
        return synthetic.parity(batch, length, gen, modulus=opt.get("modulus", 2))
    raise _unknown(task)


class TaskStream:
    """Training batches for ``fit``: batch i is a pure function of (seed, i), so ``--resume``
    continues with exactly the batches an uninterrupted run would have seen."""

    def __init__(self, task: str, length: int, batch: int, seed: int, **opt: int):
        self.task, self.length, self.batch, self.seed, self.opt = task, length, batch, seed, opt
        self.i = 0

    def __iter__(self) -> Iterator:
        return self

    def __next__(self):
        gen = synthetic.seeded(self.seed, 0, self.i)
        self.i += 1
        return make_batch(self.task, self.batch, self.length, gen, **self.opt)

    def state_dict(self) -> dict[str, Any]:
        return {"i": self.i}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.i = int(state["i"])


def fixed_set(task: str, length: int, n: int, seed: int, stream: int, **opt: int):
    """A fixed evaluation set (stream 1 = validation, 2 = test)."""
    return make_batch(task, n, length, synthetic.seeded(seed, stream, 0), **opt)


def split_record(seed: int, n_val: int, n_test: int) -> dict[str, Any]:
    """What ``config.json`` records of the evaluation sets (``data.split``): generated, not cut,
    so the seed and the stream numbers are the whole recipe (``fixed_set``)."""
    return {
        "method": "generated",
        "seed": seed,
        "val": {"stream": VAL_STREAM, "n": n_val},
        "test": {"stream": TEST_STREAM, "n": n_test},
    }
