"""The optimizers ``fit`` can train with (``TrainConfig.optimizer``) and NT-ASGD's averaging.

* ``adamw`` (the default): AdamW with ``cfg.betas`` and ``cfg.weight_decay``.
* ``sgd``: plain SGD at the given lr (no momentum); ``cfg.weight_decay`` is not applied: it
  is sized for AdamW's lr, and at SGD's lr (e.g. 20) 0.01 would shrink every weight by 20%
  per step (AWD-LSTM uses 1.2e-6, nothing at these run lengths).
* ``ntasgd`` (Merity et al. 2017, AWD-LSTM): the same SGD until the validation loss is worse
  than the best one from before the last ``nonmono`` evaluations, then the running mean of
  the iterates after every following step; evaluation and the saved checkpoint use the mean
  (``NTAverage``).

Why not ``torch.optim.ASGD``: its averaging start ``t0`` is a step count fixed in advance,
while NT-ASGD's start depends on the validation curve. AWD-LSTM swaps in a fresh
``ASGD(t0=0, lambd=0)`` at the trigger, which is SGD plus exactly this running mean; keeping
SGD and averaging here says so directly, and the mean resumes with the run's state.

>>> opt = make_optimizer(params, "sgd", lr=1.0)                  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import Tensor

OPTIMIZERS = ("adamw", "sgd", "ntasgd")


def make_optimizer(
    params: Sequence[torch.nn.Parameter],
    name: str,
    *,
    lr: float,
    betas: tuple[float, float] = (0.9, 0.99),
    weight_decay: float = 0.0,
) -> torch.optim.Optimizer:
    """The optimizer ``name`` (one of ``OPTIMIZERS``) over ``params``."""
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, betas=betas, weight_decay=weight_decay)
    if name in ("sgd", "ntasgd"):
        return torch.optim.SGD(params, lr=lr)
    raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {name!r}")


class NTAverage:
    """NT-ASGD's trigger and running mean over ``params`` (the model's own tensors).

    ``observe(val, step)`` after each validation (True when averaging starts there);
    ``update()`` after each optimizer step; ``applied()`` puts the mean into the parameters
    for a block (evaluation, saving); ``finish()`` leaves it there.

    >>> w = torch.nn.Parameter(torch.zeros(2))
    >>> avg = NTAverage([w], nonmono=1)
    >>> [avg.observe(v, s) for s, v in enumerate([3.0, 2.0, 2.5, 2.4])]
    [False, False, False, True]
    >>> for x in (1.0, 3.0):
    ...     _ = w.data.fill_(x); avg.update()
    >>> avg.finish(); w.tolist()
    [2.0, 2.0]
    """

    def __init__(self, params: Sequence[Tensor], nonmono: int):
        self.params, self.nonmono = list(params), nonmono
        self.vals: list[float] = []  # every validation loss so far
        self.start: int | None = None  # the step at which averaging began
        self.n = 0  # iterates in the mean
        self.mean: list[Tensor] = []

    def observe(self, val: float, step: int) -> bool:
        # AWD-LSTM's rule: worse than the best of the evaluations before the last `nonmono`
        n = self.nonmono
        trigger = self.start is None and len(self.vals) > n and val > min(self.vals[:-n])
        self.vals.append(val)
        if trigger:
            self.start = step
        return trigger

    @torch.no_grad()
    def update(self) -> None:
        if self.start is None:
            return
        self.n += 1
        if self.n == 1:
            self.mean = [p.detach().clone() for p in self.params]
            return
        for m, p in zip(self.mean, self.params):
            m.add_(p.detach() - m, alpha=1.0 / self.n)

    @contextmanager
    def applied(self) -> Iterator[None]:
        if not self.n:
            yield
            return
        own = [p.detach().clone() for p in self.params]
        self._copy(self.mean)
        try:
            yield
        finally:
            self._copy(own)

    def finish(self) -> None:
        if self.n:
            self._copy(self.mean)

    @torch.no_grad()
    def _copy(self, values: list[Tensor]) -> None:
        for p, v in zip(self.params, values):
            p.copy_(v)

    def state_dict(self) -> dict[str, Any]:
        return {"vals": list(self.vals), "start": self.start, "n": self.n, "mean": self.mean}

    def load_state_dict(self, st: dict[str, Any]) -> None:
        self.vals, self.start, self.n = list(st["vals"]), st["start"], st["n"]
        dev = self.params[0].device if self.params else None
        self.mean = [m.to(dev) for m in st["mean"]]
