"""Connectivity (Distill, "Visualizing memorization in RNNs", 2019): how much each earlier
input matters for one prediction, |∂ log p(token_t) / ∂ x_s| for s < t, exact from the
engine's hand-written backward (``layer.trace(grad_of=...)``).

>>> c = connectivity(model, "The cat sat on the mat", 5)     # doctest: +SKIP
>>> c.tokens[5], c.grad[:5]                                 # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from rnnlab.errors import InputError
from rnnlab.tasks.inspect.text import read_tokens


@dataclass
class Connectivity:
    """``grad[s]`` = ‖∂ log p(tokens[t]) / ∂ x_s‖ (x_s: the recurrent layer's input at s, the
    embedding of token s) for s = 0..t-1; ``logp`` = log p(tokens[t]) itself."""

    tokens: list[str]
    t: int
    logp: float
    grad: list[float]

    def to_dict(self) -> dict[str, Any]:
        return {"tokens": self.tokens, "t": self.t, "logp": self.logp, "grad": self.grad}


def connectivity(model: Any, text: str, t: int | None = None) -> Connectivity:
    """The gradient norms of log p(token ``t``) (default: the last token) with respect to
    every earlier input, for a next-word (causal) model.

    >>> connectivity(model, "hello world", 7).grad   # 7 numbers  # doctest: +SKIP
    """
    if not getattr(model, "causal", True):
        raise InputError(
            "connectivity follows a next-token prediction; this model fills in blanks "
            "(it reads both ways): pick a next-word model"
        )
    tokens, ids = read_tokens(model, text)
    T = len(ids)
    t = T - 1 if t is None else t
    if not 1 <= t < T:
        raise InputError(f"t must be 1..{T - 1} (a token with at least one before it), got {t}")
    x = torch.tensor([ids[:t]])  # the inputs that predict token t
    target = ids[t]
    got: dict[str, float] = {}

    def logp(out: torch.Tensor) -> torch.Tensor:
        lp = torch.log_softmax(model.logits_from_output(out)[0, -1].double(), -1)[target]
        got["logp"] = float(lp.detach())
        return lp

    with torch.no_grad():
        emb = model.embed(x)
    tr = model.rnn.trace(emb, grad_of=logp)
    g = tr.grad_input[0].double().norm(dim=-1)
    return Connectivity(tokens, t, round(got["logp"], 6), [round(float(v), 8) for v in g])
