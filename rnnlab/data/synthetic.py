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
* ``recall_lines``: the same long-range memory as plain text for a word language model:
  ``remember <key> <filler> ... <filler> recall <key>``; only the last word can be predicted,
  and only by a model that kept the key for 10-30 words.

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


RECALL_KEYS = ("apple", "river", "candle", "tiger", "violin", "garden", "rocket", "pepper")
RECALL_FILLERS = (
    "red", "blue", "green", "small", "big", "old", "new", "fast", "slow", "happy", "sad",
    "cold", "warm", "dog", "cat", "house", "tree", "car", "book", "door", "chair", "road",
    "cup", "hat",
)  # fmt: skip
RECALL_CUE, RECALL_ASK = "remember", "recall"


def recall_lines(
    n: int,
    seed: int,
    *,
    min_gap: int = 10,
    max_gap: int = 30,
    keys: tuple[str, ...] = RECALL_KEYS,
    fillers: tuple[str, ...] = RECALL_FILLERS,
) -> list[str]:
    """``n`` lines ``remember <key> <gap random fillers> recall <key>`` (deterministic in
    ``seed``), gap uniform in ``[min_gap, max_gap]``. Every word but the last is either
    fixed or drawn at random, so a language model's only learnable long-range prediction is
    the final key, ``gap + 2`` words after it was shown.

    >>> recall_lines(1, 0, min_gap=2, max_gap=2)  # doctest: +SKIP
    ['remember tiger cup red recall tiger']
    """
    _check("n", n, 0)
    _check("min_gap", min_gap, 0)
    _check("max_gap", max_gap, min_gap)
    if not keys or not fillers or set(keys) & set(fillers):
        raise InputError("keys and fillers must be non-empty and share no word")
    g = torch.Generator().manual_seed(int(seed))
    out = []
    for _ in range(n):
        key = keys[int(torch.randint(len(keys), (1,), generator=g))]
        gap = int(torch.randint(min_gap, max_gap + 1, (1,), generator=g))
        mid = [fillers[int(i)] for i in torch.randint(len(fillers), (gap,), generator=g)]
        out.append(" ".join([RECALL_CUE, key, *mid, RECALL_ASK, key]))
    return out


def recall_key(line: str) -> str:
    """The key a recall line asks for (its second word), e.g. for checking a model's answer."""
    words = line.split()
    if len(words) < 4 or words[0] != RECALL_CUE or words[-2] != RECALL_ASK:
        raise InputError(f"not a recall line (remember <key> ... recall <key>): {line[:60]!r}")
    return words[1]
