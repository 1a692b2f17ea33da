"""The classical baselines and the error metrics against hand-computed answers."""

from __future__ import annotations

import numpy as np
import pytest
from fc_helpers import PERIOD
from fc_helpers import synthetic as _synthetic

from rnnlab.tasks.forecast import baselines as bl


def test_seasonal_naive_is_exact_on_a_periodic_series():
    y = np.tile(PERIOD, 5)
    fc = bl.seasonal_naive(y, 6, m=4)
    np.testing.assert_array_equal(fc.mean, PERIOD + PERIOD[:2])
    np.testing.assert_array_equal(fc.lo95, fc.hi95)  # no seasonal residuals: zero width
    assert bl.errors(np.array(PERIOD + PERIOD[:2]), fc, 1.0)["MAE"] == 0


def test_mase_of_seasonal_naive_is_one_in_sample():
    y = _synthetic(100)
    m = 12
    in_sample = np.abs(y[m:] - y[:-m]).mean()  # seasonal naive one-step errors, in sample
    assert in_sample / bl.mase_scale(y, m) == pytest.approx(1.0)


def test_naive_forecast_and_interval_width():
    y = np.array([1.0, 2.0, 4.0, 7.0])
    fc = bl.naive(y, 3)
    sd = np.std([1, 2, 3], ddof=1)
    np.testing.assert_array_equal(fc.mean, [7, 7, 7])
    np.testing.assert_allclose(fc.hi80 - fc.mean, bl.Z80 * sd * np.sqrt([1, 2, 3]))


def test_metrics_by_hand():
    y = np.array([1.0, 2.0, 0.0, 4.0])
    f = np.array([3.0, 2.0, 0.0, 2.0])
    fc = bl.Forecast(f, f - 1, f + 1, f - 3, f + 3)
    e = bl.errors(y, fc, scale=2.0)
    assert e["MAE"] == pytest.approx(1.0)
    assert e["RMSE"] == pytest.approx(np.sqrt(2.0))
    # sMAPE: |1-3|/2 = 1, 0, 0 (0/0 counts 0), |4-2|/3 = 2/3 -> 100 * mean(2*...)/...
    assert e["sMAPE"] == pytest.approx(100 * (1 + 0 + 0 + 2 / 3) / 4)
    assert e["MASE"] == pytest.approx(0.5)
    assert e["cov80"] == 0.5 and e["cov95"] == 1.0


def test_arima_and_ets_follow_a_clean_seasonal_trend():
    y = _synthetic(96, noise=0.05)
    truth = _synthetic(108, noise=0.0)[96:]
    for fc in (bl.arima(y, 12, 12, ((1, 0, 0), (0, 1, 1, 12))), bl.ets(y, 12, 12)):
        assert np.abs(fc.mean - truth).mean() < 0.3
        assert np.all(fc.lo95 <= fc.lo80) and np.all(fc.lo80 <= fc.mean)
        assert np.all(fc.mean <= fc.hi80) and np.all(fc.hi80 <= fc.hi95)
