"""The gradient that reaches back: ‖∂L/∂h_t‖ for every step t, from the engine's trace.

>>> from rnnlab.tasks.memory.data import fixed_set, task_spec
>>> from rnnlab.tasks.memory.model import MemoryModel
>>> x, y = fixed_set("adding", 12, 4, seed=0, stream=2)
>>> len(grad_norm_curve(MemoryModel(task_spec("adding"), "rnn", 8), x, y))
12
"""

from __future__ import annotations

import copy

from torch import Tensor

from rnnlab.tasks.memory.model import MemoryModel
from rnnlab.train.threads import cpu_threads


def grad_norm_curve(
    model: MemoryModel, x: Tensor, y: Tensor, *, threads: int | None = None
) -> list[float]:
    """‖∂L/∂h_t‖ for every step t (mean over the batch), from the engine's trace.

    L is the task loss of the batch; h_t the first layer's state. Computed on a float64 copy so
    that a vanishing gradient shows its true size (1e-40 and below) instead of underflowing.
    Index 0 is the first step; the loss is read at the end, so distance = T - 1 - t.
    ``threads`` runs it on that many CPU threads with subnormals flushed (``cpu_threads``;
    ``None``: as the caller set them).
    """
    with cpu_threads(threads, flush_denormal=threads is not None):
        m = copy.deepcopy(model).double().eval()
        y = y if not y.is_floating_point() else y.double()
        tr = m.rnn.trace(x.double(), grad_of=lambda out: m.loss(m.readout(out), y))
        return tr.grad_h[0][0].norm(dim=-1).mean(0).tolist()
