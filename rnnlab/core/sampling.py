"""Choosing the next token from logits: temperature, top-k and nucleus (top-p) sampling.

One sampler for every generator (``rnnlab lm generate``, the explorer's generate view).

>>> g = torch.Generator().manual_seed(0)
>>> i, p = sample_next(torch.tensor([0.0, 5.0, 1.0]), temperature=0.0, generator=g)
>>> i
1
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

MIN_TEMPERATURE = 1e-4  # below this the logits overflow to inf (NaN probabilities): greedy


def next_token_probs(
    logits: Tensor, temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None
) -> Tensor:
    """The distribution a sampler draws from: ``softmax(logits / T)`` restricted to the
    ``top_k`` best tokens and to the smallest set with mass >= ``top_p``."""
    z = logits.float() / max(temperature, MIN_TEMPERATURE)
    if top_k:
        kth = z.topk(min(top_k, z.shape[-1])).values[..., -1:]
        z = z.masked_fill(z < kth, -math.inf)
    if top_p is not None and top_p < 1.0:
        sz, si = z.sort(descending=True)
        p = sz.softmax(-1)
        drop = p.cumsum(-1) - p > top_p  # keep the smallest set with mass >= top_p
        z = z.scatter(-1, si, sz.masked_fill(drop, -math.inf))
    return z.softmax(-1)


def sample_next(
    logits: Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
) -> tuple[int, Tensor]:
    """``(token id, the distribution it was drawn from)`` for logits of shape ``(V,)``;
    ``temperature <= 0`` is greedy (the most likely token)."""
    if temperature <= 0:
        return int(logits.argmax()), next_token_probs(logits, MIN_TEMPERATURE)
    p = next_token_probs(logits, temperature, top_k, top_p)
    return int(torch.multinomial(p, 1, generator=generator)), p
