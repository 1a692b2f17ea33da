"""The one CPU thread policy of every task, the server and the benchmarks.

Small recurrent models do a little arithmetic per step: OpenMP threads mostly wait on each
other, and on a busy 2-core machine two threads made a GRU step 10-30x slower than one
(forecast: 12 ms vs 210 ms/step). So the tasks whose models are small run on one thread
unless told otherwise, and a block's setting is always restored when it ends.

>>> with cpu_threads(1):          # doctest: +SKIP
...     train_small_model()
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch

SMALL_MODEL_THREADS = 1  # the default of the tasks whose models are small (see above)


def default_threads(world: int = 1) -> int:
    """Threads per process when ``world`` processes share this machine (torchrun)."""
    return max(1, (os.cpu_count() or 1) // max(1, world))


@contextmanager
def cpu_threads(n: int | None, *, flush_denormal: bool = False) -> Iterator[None]:
    """Torch intra-op threads for a block (``None``: leave torch's choice), restored after.

    ``flush_denormal`` also flushes subnormal floats to zero for the block: vanishing
    gradients are full of them and x86 arithmetic on subnormals is very slow (a vanilla RNN
    step at T=200 went from 66 ms to 14 ms).
    """
    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(max(1, int(n)))
    flushed = flush_denormal and torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_num_threads(before)
        if flushed:
            torch.set_flush_denormal(False)
