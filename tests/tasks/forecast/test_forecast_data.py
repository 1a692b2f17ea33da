"""Forecasting data: drift detection, reading a CSV the way a run records it, windows."""

from __future__ import annotations

import numpy as np
import pytest
from fc_helpers import synthetic as _synthetic
from fc_helpers import write_csv

from rnnlab.errors import CheckpointError
from rnnlab.tasks.forecast.config import ForecastSource
from rnnlab.tasks.forecast.data import (
    drifts,
    read_source,
    resolved_source,
    source_of_run,
    windows,
)


def test_drifts_tells_a_trend_and_a_random_walk_from_a_stationary_series():
    rng = np.random.default_rng(0)
    assert drifts(_synthetic(300))  # linear trend + season
    assert drifts(np.cumsum(rng.normal(size=300)))
    assert not drifts(_synthetic(300) - 0.05 * np.arange(300))  # the same without the trend
    ar = np.zeros(300)
    for t in range(1, 300):
        ar[t] = 0.7 * ar[t - 1] + rng.normal()
    assert not drifts(ar)


def test_a_source_is_recorded_resolved_and_read_back(tmp_path):
    """``predict`` reads a new CSV with the run's columns and the season found in training."""
    f = write_csv(tmp_path / "s.csv", _synthetic(120))
    src = ForecastSource(csv=str(f), target="y")
    ss = read_source(src)
    assert ss.season == 12 and len(ss.series[0].values) == 120
    rec = resolved_source(src, ss).to_dict()
    assert rec["season"] == 12 and rec["target"] == "y"
    again = read_source(source_of_run(rec), f)
    np.testing.assert_array_equal(again.series[0].values, ss.series[0].values)


def test_a_run_without_a_source_cannot_read_a_csv():
    for src in ({}, None, {"season": 12}):
        with pytest.raises(CheckpointError, match="without `source=`"):
            source_of_run(src)


def test_windows_end_inside_the_data():
    # series 0 has 10 points, series 1 has 8; lookback 4, horizon 2; validation from 7
    assert windows([10, 8], 4, 2) == [
        (0, 4),
        (0, 5),
        (0, 6),
        (0, 7),
        (0, 8),
        (1, 4),
        (1, 5),
        (1, 6),
    ]
    assert windows([10, 8], 4, 2, start=[7, 6]) == [(0, 7), (0, 8), (1, 6)]
