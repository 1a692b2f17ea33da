"""Variable-length batches without packing: time-major (T, B, ...) tensors whose sequence b
is real for its first ``lengths[b]`` steps and padding after.

>>> x = torch.arange(6.0).view(3, 2, 1)            # T=3, B=2
>>> reverse_padded(x, torch.tensor([3, 2]))[:, 1, 0].tolist()
[3.0, 1.0, 5.0]
"""

from __future__ import annotations

from typing import Any

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


def check_lengths(lengths: Any, T: int, B: int) -> Tensor:
    """``lengths`` as a 1-D long tensor, or a clear ValueError naming what is wrong with it."""
    lengths = torch.as_tensor(lengths)
    if lengths.dim() != 1 or lengths.dtype.is_floating_point or lengths.dtype == torch.bool:
        raise ValueError(
            f"lengths must be a 1-D integer tensor, got {lengths.dtype} of shape {tuple(lengths.shape)}"
        )
    if lengths.numel() != B:
        raise ValueError(f"lengths has {lengths.numel()} entries but the batch has {B} sequences")
    if (lengths <= 0).any():
        raise ValueError(f"lengths must be >= 1, got {lengths.tolist()}")
    if (lengths > T).any():
        raise ValueError(
            f"lengths must be <= the sequence length T={T}, got max {int(lengths.max())}"
        )
    return lengths.to(torch.long)
