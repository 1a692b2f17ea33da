"""A playground run: one or two models (lanes) trained side by side on the same batches, one
``step()`` at a time, and ``snapshot()``: what the page draws, computed by the engine.

>>> run = Run(RunKnobs.model_validate({"data": {"length": 10}, "lanes": [{"cell": "rnn"}]}))
>>> run.step(); run.steps
1
>>> sorted(run.snapshot()["lanes"][0])[:3]
['answer', 'cell', 'grad_norm']
"""

from __future__ import annotations

import threading
from typing import Any

import torch
from torch import Tensor

from rnnlab.tasks.memory.model import MemoryModel, score
from rnnlab.tasks.playground.config import CLIP_NORM, LaneKnobs, RunKnobs
from rnnlab.tasks.playground.probe import finite, read_probe
from rnnlab.tasks.playground.problems import Problem, problem, score_of
from rnnlab.tasks.playground.verdict import labels, verdict
from rnnlab.train.optim import make_optimizer

# torch's initialisation draws from the process-wide generator: runs built in parallel threads
# take turns seeding it, so a run's weights depend on its seed alone
_INIT_LOCK = threading.Lock()
FORGET_BIAS = 1.0  # the memory lab's default (LSTM starts out remembering)


def build_model(p: Problem, knobs: LaneKnobs, seed: int) -> MemoryModel:
    """The lane's model, initialised from ``seed`` (what a test rebuilds to replay a run)."""
    with _INIT_LOCK:
        torch.manual_seed(seed)
        return MemoryModel(p.spec, knobs.cell, knobs.hidden, knobs.layers, FORGET_BIAS)


class Lane:
    """One model, its AdamW, and its curves: ``train`` holds ``[step, loss, score]`` of every
    training batch, ``evals`` the same on the validation set at every snapshot."""

    def __init__(self, p: Problem, knobs: LaneKnobs, seed: int):
        self.knobs = knobs
        self.model = build_model(p, knobs, seed)
        self.params = list(self.model.parameters())
        self.opt = make_optimizer(self.params, "adamw", lr=knobs.lr)
        self.train: list[list[float]] = []
        self.evals: list[list[float]] = []

    def step(self, x: Tensor, y: Tensor, step: int) -> None:
        m = self.model.train()
        pred = m(x)
        loss = m.loss(pred, y)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        if self.knobs.clip:
            torch.nn.utils.clip_grad_norm_(self.params, CLIP_NORM)
        self.opt.step()
        s = score(m, pred, y)
        self.train.append(finite([step, s["loss"], score_of(s)]))


class Run:
    """Lanes built from ``knobs`` (same seed, same batches); ``steps`` taken so far."""

    def __init__(self, knobs: RunKnobs):
        self.knobs = knobs
        self.problem = problem(knobs.data)
        self.lanes = [Lane(self.problem, k, knobs.data.seed) for k in knobs.lanes]
        self.labels = labels([k.model_dump() for k in knobs.lanes])
        self.steps = 0
        self._val, self._probe = self.problem.val(), self.problem.probe()

    def step(self) -> None:
        """One optimizer step of every lane on training batch ``steps``."""
        x, y = self.problem.batch(self.steps)
        self.steps += 1
        for lane in self.lanes:
            lane.step(x, y, self.steps)

    def snapshot(self) -> dict[str, Any]:
        """Every lane's validation score (appended to its ``evals``) and probe readings,
        and the verdict on the curves so far."""
        p, out = self.problem, []
        for lane, label in zip(self.lanes, self.labels, strict=True):
            m = lane.model.eval()
            with torch.no_grad():
                s = score(m, m(self._val[0]), self._val[1])
            if not lane.evals or lane.evals[-1][0] != self.steps:
                lane.evals.append(finite([self.steps, s["loss"], score_of(s)]))
            last = lane.train[-1] if lane.train else [0, None, None]
            out.append(
                {
                    "label": label,
                    "cell": lane.knobs.cell,
                    "train_loss": last[1],
                    "train_score": last[2],
                    "val_loss": lane.evals[-1][1],
                    "val_score": lane.evals[-1][2],
                    **read_probe(m, p, *self._probe),
                }
            )
        return {
            "step": self.steps,
            "score_name": p.score_name,
            "chance": p.chance,
            "lanes": out,
            "verdict": verdict(self.labels, [ln.evals for ln in self.lanes], p),
        }
