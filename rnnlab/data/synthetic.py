"""Synthetic long-range memory tasks, generated on the fly from a seed.

Every generator takes a ``torch.Generator`` so a (seed, batch index) pair always gives the same
batch: training can resume exactly and validation/test sets are fixed.

* ``adding``: the adding problem (Hochreiter & Schmidhuber 1997; the two-marker form of
  Le et al. 2015 / Arjovsky et al. 2016). Input (B, T, 2): a random value in [0, 1) and a
  marker; exactly two steps are marked, one in each half. Target: the sum of the two marked
  values. Predicting the mean (1.0) gives MSE = Var(U1 + U2) = 1/6 ≈ 0.167.
* ``copy``: the copying-memory task (Arjovsky et al. 2016). Input: ``n_symbols`` random symbols,
  ``delay`` blanks, a "go" marker, blanks; the model must output the symbols, in order, from
  the go marker on. ``variable=True`` is the delayed-recall variant: the go marker arrives at
  a random time between delay/2 and delay, so the model must wait for the cue instead of
  counting steps.
* ``parity``: T random bits; target = number of ones modulo ``modulus`` (2 = parity;
  larger values make it a counting task).

>>> g = torch.Generator().manual_seed(0)
>>> x, y = adding(4, 10, g)
>>> x.shape, y.shape
(torch.Size([4, 10, 2]), torch.Size([4]))
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnlab.errors import InputError

ADDING_BASELINE_MSE = 1.0 / 6.0  # the trivial predictor (always 1.0): Var(U1 + U2) = 2/12
IGNORE = -100  # target at steps that carry no loss (cross-entropy's ignore_index)


def _check(name: str, value: int, minimum: int) -> None:
    if not isinstance(value, int) or value < minimum:
        raise InputError(f"{name} must be an integer >= {minimum}, got {value!r}")


def adding(batch: int, length: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """The adding problem: ``x`` (B, T, 2) = [value, marker], ``y`` (B,) = sum of marked values.

    The first marker falls in ``[0, T//2)``, the second in ``[T//2, T)``, so the first marked
    value must be held for at least ~T/2 steps.
    """
    _check("length", length, 2)
    _check("batch", batch, 1)
    values = torch.rand(batch, length, generator=generator)
    half = length // 2
    first = torch.randint(0, half, (batch,), generator=generator)
    second = torch.randint(half, length, (batch,), generator=generator)
    markers = torch.zeros(batch, length)
    rows = torch.arange(batch)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = torch.stack([values, markers], -1)
    y = values[rows, first] + values[rows, second]
    return x, y


def copy_task(
    batch: int,
    delay: int,
    generator: torch.Generator,
    *,
    n_symbols: int = 10,
    alphabet: int = 8,
    variable: bool = False,
) -> tuple[Tensor, Tensor]:
    """Copying memory: ``x`` (B, L, alphabet + 2) one-hot, ``y`` (B, L) symbol ids or ``IGNORE``.

    Input ids: 0..alphabet-1 symbols, ``alphabet`` = blank, ``alphabet + 1`` = go marker.
    L = n_symbols + delay + n_symbols. The go marker sits at ``n_symbols + delay`` (or, with
    ``variable``, at a random step in ``n_symbols + [delay//2, delay]``); the targets are the
    symbols at the go step and the ``n_symbols - 1`` steps after it.
    """
    _check("delay", delay, 1)
    _check("n_symbols", n_symbols, 1)
    _check("alphabet", alphabet, 2)
    K, L = n_symbols, n_symbols + delay + n_symbols
    blank, go = alphabet, alphabet + 1
    symbols = torch.randint(0, alphabet, (batch, K), generator=generator)
    ids = torch.full((batch, L), blank, dtype=torch.long)
    ids[:, :K] = symbols
    if variable:
        lo = max(1, delay // 2)
        cue = K + torch.randint(lo, delay + 1, (batch,), generator=generator)
    else:
        cue = torch.full((batch,), K + delay, dtype=torch.long)
    rows = torch.arange(batch)
    ids[rows, cue] = go
    y = torch.full((batch, L), IGNORE, dtype=torch.long)
    pos = cue.unsqueeze(1) + torch.arange(K).unsqueeze(0)  # (B, K) recall steps
    y.scatter_(1, pos, symbols)
    x = torch.nn.functional.one_hot(ids, alphabet + 2).float()
    return x, y


def parity(
    batch: int, length: int, generator: torch.Generator, *, modulus: int = 2
) -> tuple[Tensor, Tensor]:
    """Parity / counting: ``x`` (B, T, 1) bits, ``y`` (B,) = (number of ones) mod ``modulus``."""
    _check("length", length, 1)
    _check("modulus", modulus, 2)
    bits = torch.randint(0, 2, (batch, length), generator=generator)
    return bits.float().unsqueeze(-1), bits.sum(1) % modulus


def seeded(seed: int, stream: int, index: int) -> torch.Generator:
    """A generator for batch ``index`` of ``stream`` (0 train, 1 val, 2 test) under ``seed``.

    >>> a = torch.rand(2, generator=seeded(0, 0, 5)); b = torch.rand(2, generator=seeded(0, 0, 5))
    >>> bool((a == b).all())
    True
    """
    mixed = ((seed * 1_000_003 + stream) * 1_000_000_007 + index) % (2**63 - 1)
    return torch.Generator().manual_seed(mixed)
