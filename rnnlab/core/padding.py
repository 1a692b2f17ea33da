"""Variable-length batches without packing: time-major (T, B, ...) tensors whose sequence b
is real for its first ``lengths[b]`` steps and padding after.

>>> x = torch.arange(6.0).view(3, 2, 1)            # T=3, B=2
>>> reverse_padded(x, torch.tensor([3, 2]))[:, 1, 0].tolist()
[3.0, 1.0, 5.0]
"""

from __future__ import annotations

import torch
from torch import Tensor


def reverse_padded(x: Tensor, lengths: Tensor | None) -> Tensor:
    """Reverse each sequence of time-major ``x`` (T, B, ...) within its own length."""
    if lengths is None:
        return x.flip(0)
    T = x.shape[0]
    t = torch.arange(T, device=x.device).unsqueeze(1)
    L = lengths.to(x.device).unsqueeze(0)
    idx = torch.where(t < L, L - 1 - t, t)  # padded steps stay where they are
    return x.gather(0, idx.view(T, -1, *([1] * (x.dim() - 2))).expand_as(x))


def last_step(x: Tensor, lengths: Tensor | None) -> Tensor:
    """``x[len_b - 1, b]`` for each b of time-major ``x`` (T, B, H)."""
    if lengths is None:
        return x[-1]
    idx = (lengths.to(x.device) - 1).view(1, -1, 1).expand(1, x.shape[1], x.shape[2])
    return x.gather(0, idx).squeeze(0)
