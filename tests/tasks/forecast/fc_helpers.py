"""Series the forecasting tests share (imported as ``fc_helpers``: pytest puts this folder on
``sys.path``)."""

from __future__ import annotations

import csv

import numpy as np

from rnnlab.data.series import Series, SeriesSet

PERIOD = [1.0, 3.0, 2.0, 5.0]


def synthetic(n: int = 160, noise: float = 0.1, seed: int = 0) -> np.ndarray:
    """Level 10, trend 0.05 per step, season 12 (amplitude 2), Gaussian noise."""
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    return 10 + 0.05 * t + 2 * np.sin(2 * np.pi * t / 12) + noise * rng.normal(size=n)


def write_csv(path, y):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["step", "y"])
        w.writerows([i, f"{v:.5f}"] for i, v in enumerate(y))
    return path


def series_set(y, season: int = 12) -> SeriesSet:
    return SeriesSet(
        [Series("y", y, np.zeros((len(y), 0)), [str(i) for i in range(len(y))])], None, season
    )
