"""``find_cells``: which units track which detector (Karpathy, Johnson & Fei-Fei 2015), and how
saturated each gate is.

>>> table = find_cells(model, heldout_text)                  # doctest: +SKIP
>>> table.best("position in line")     # Shakespeare: c0·509, r ≈ -0.89   # doctest: +SKIP
>>> [(g.gate, g.left, g.right) for g in table.saturation]     # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from rnnlab.errors import InputError
from rnnlab.tasks.inspect.detectors import detectors_for
from rnnlab.tasks.inspect.text import States, read_tokens, stream_states

LOW, HIGH = 0.1, 0.9  # a gate below / above these is saturated (left / right)


@dataclass(frozen=True)
class CellRow:
    """One unit's Pearson correlation ``r`` with one detector over the text."""

    detector: str
    state: str  # "h" or "c" (an LSTM's cell state)
    layer: int
    direction: int
    unit: int
    r: float


@dataclass(frozen=True)
class GateSaturation:
    """Fractions of (step, unit) values of one gate below ``LOW`` (``left``) and above
    ``HIGH`` (``right``), and the same per unit (Karpathy et al.'s saturation scatter)."""

    layer: int
    direction: int
    gate: str
    left: float
    right: float
    unit_left: list[float]
    unit_right: list[float]


@dataclass
class CellTable:
    """What ``find_cells`` found: ``rows`` (every unit x detector, each detector's units by
    falling |r|), ``saturation`` (per layer and gate), ``constant`` (detectors that never
    change on this text, so no correlation exists), the ``tokens`` and ``detectors`` values."""

    rows: list[CellRow]
    saturation: list[GateSaturation]
    tokens: list[str]
    detectors: dict[str, list[float]]
    constant: list[str] = field(default_factory=list)

    def top(self, detector: str, k: int = 5) -> list[CellRow]:
        """The ``k`` units with the largest |r| for ``detector``."""
        if detector not in self.detectors:
            raise InputError(f"unknown detector {detector!r}; known: {', '.join(self.detectors)}")
        return [r for r in self.rows if r.detector == detector][:k]

    def best(self, detector: str) -> CellRow | None:
        """The unit with the largest |r| for ``detector`` (None for a constant detector)."""
        top = self.top(detector, 1)
        return top[0] if top else None

    def to_dict(self, k: int = 5) -> dict[str, Any]:
        """JSON-ready: the top ``k`` rows per detector and the per-layer gate saturation."""
        return {
            "n_tokens": len(self.tokens),
            "top": {d: [asdict(r) for r in self.top(d, k)] for d in self.detectors},
            "constant": list(self.constant),
            "saturation": [asdict(g) for g in self.saturation],
        }


def pearson(x: Tensor | np.ndarray, d: Sequence[float] | np.ndarray) -> np.ndarray:
    """Pearson r of every column of ``x`` (N, U) with ``d`` (N,), in float64; 0 for a column
    that never changes (a dead unit correlates with nothing).

    >>> pearson(np.array([[1.0, 2.0], [2.0, 2.0], [3.0, 2.0]]), [2.0, 4.0, 6.0]).tolist()
    [1.0, 0.0]
    """
    x = np.asarray(x, dtype=np.float64)
    d = np.asarray(d, dtype=np.float64)
    xc, dc = x - x.mean(0), d - d.mean()
    den = np.sqrt((xc * xc).sum(0) * (dc @ dc))
    num = dc @ xc
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def rank_units(
    states: States, detectors: dict[str, list[float]]
) -> tuple[list[CellRow], list[str]]:
    """Every (detector, unit) correlation, each detector's rows by falling |r|."""
    rows, constant = [], []
    for name, vals in detectors.items():
        if np.ptp(np.asarray(vals)) == 0:
            constant.append(name)
            continue
        found = []
        for (kind, layer, d), h in states.values.items():
            r = pearson(h.numpy(), vals)
            found += [CellRow(name, kind, layer, d, u, round(float(v), 4)) for u, v in enumerate(r)]
        rows += sorted(found, key=lambda row: -abs(row.r))
    return rows, constant


def saturation(states: States) -> list[GateSaturation]:
    """Left (< 0.1) and right (> 0.9) saturation of every sigmoid gate, per layer."""
    out = []
    for (layer, d), gates in states.gates.items():
        for name, g in gates.items():
            lo, hi = (g < LOW).double(), (g > HIGH).double()
            out.append(GateSaturation(
                layer, d, name, round(float(lo.mean()), 4), round(float(hi.mean()), 4),
                lo.mean(0).round(decimals=4).tolist(), hi.mean(0).round(decimals=4).tolist(),
            ))  # fmt: skip
    return out


@torch.no_grad()
def find_cells(model: Any, text: str, max_tokens: int = 20000) -> CellTable:
    """Rank the units (h, and c for an LSTM) of every layer of ``model`` by their Pearson
    correlation with each detector (``detectors.py``) over ``text`` (its first
    ``max_tokens`` tokens), and measure the gate saturation.

    >>> table = find_cells(load_lm("runs/shakespeare"), open("val.txt").read())  # doctest: +SKIP
    >>> table.top("position in line", 3)                                       # doctest: +SKIP
    """
    tokens, ids = read_tokens(model, text)
    tokens, ids = tokens[:max_tokens], ids[:max_tokens]
    if len(ids) < 3:
        raise InputError("find_cells needs a text of at least 3 tokens (give a longer text)")
    return table_of(tokens, stream_states(model, ids), model.tokenizer.level)


def table_of(tokens: list[str], states: States, level: str) -> CellTable:
    """``find_cells`` on states already read (a ``MatchIndex`` holds them too)."""
    dets = detectors_for(level, tokens)
    rows, constant = rank_units(states, dets)
    return CellTable(rows, saturation(states), tokens, dets, constant)
