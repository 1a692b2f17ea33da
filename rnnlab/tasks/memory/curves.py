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

from rnnlab.core.trace import Trace
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
        return norm_curve(traced(model, x, y)[1])


def traced(model: MemoryModel, x: Tensor, y: Tensor) -> tuple[MemoryModel, Trace]:
    """The engine's trace of a float64 copy of ``model`` on ``(x, y)``, with ``grad_h`` of the
    task loss; returns ``(the copy, the trace)`` so a caller can read out its answers too."""
    m = copy.deepcopy(model).double().eval()
    y = y if not y.is_floating_point() else y.double()
    return m, m.rnn.trace(x.double(), grad_of=lambda out: m.loss(m.readout(out), y))


def norm_curve(tr: Trace) -> list[float]:
    """‖∂L/∂h_t‖ of the first layer for every step t, mean over the batch, from a trace."""
    return tr.grad_h[0][0].norm(dim=-1).mean(0).tolist()
