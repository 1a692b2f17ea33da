"""statsforecast's models beside rnnlab's in the backtest (issue 23): identities with the
repo's baselines, interval properties, ranks, and short series that still run."""

from __future__ import annotations

import numpy as np
import pytest
from fc_helpers import series_set, synthetic

from rnnlab.errors import InputError
from rnnlab.tasks.forecast import baselines as bl
from rnnlab.tasks.forecast.backtest import backtest, mase_ranks
from rnnlab.tasks.forecast.sf import SF_METHODS, sf_forecast

TINY = dict(members=2, hidden=8, steps=40, refit_steps=5)


def test_seasonal_naive_is_the_repos_and_every_model_orders_its_intervals():
    y = synthetic(60, noise=0.3)
    np.testing.assert_allclose(
        sf_forecast("SeasonalNaive", y, 18, 12).mean, bl.seasonal_naive(y, 18, 12).mean
    )
    for name in SF_METHODS:
        fc = sf_forecast(name, y, 6, 12)
        assert fc.mean.shape == (6,) and np.isfinite(fc.mean).all(), name
        assert (fc.lo95 <= fc.lo80).all() and (fc.lo80 <= fc.mean).all(), name
        assert (fc.mean <= fc.hi80).all() and (fc.hi80 <= fc.hi95).all(), name
    # a straight line: ARIMA with drift and Theta continue it
    line = 5 + 0.5 * np.arange(40.0)
    for name in ("AutoARIMA", "AutoTheta"):
        np.testing.assert_allclose(
            sf_forecast(name, line, 4, 1).mean, line[-1] + 0.5 * np.arange(1, 5), rtol=1e-3
        )  # noqa: E501
    with pytest.raises(InputError, match="unknown statsforecast model"):
        sf_forecast("Prophet", y, 3, 12)


def test_mase_ranks_by_hand():
    per = {
        "a": {"x": {"MASE": 1.0}, "y": {"MASE": 2.0}, "z": {"MASE": 2.0}},
        "b": {"x": {"MASE": 3.0}, "y": {"MASE": 1.0}, "z": {"MASE": 2.0}},
    }
    assert mase_ranks(per, ("x", "y", "z")) == {"x": 2.0, "y": 1.75, "z": 2.25}


def test_backtest_runs_a_54_point_monthly_series_at_horizon_18_and_refuses_with_numbers():
    """M4's monthly horizon on 54 points, 2 origins: every method runs (the RNN with a
    left-padded lookback, said in a note); statsforecast's seasonal naive is the repo's."""
    ss = series_set(synthetic(54 + 2 * 18, noise=0.3))  # 54 points before the first origin
    res = backtest(
        ss, horizon=18, origins=2, methods=("rnn", "esrnn", "snaive", "SeasonalNaive"),
        progress=False, steps=20, refit_steps=5, members=2, hybrid=TINY,
    )  # fmt: skip
    r = res["series"]["y"]
    assert r["SeasonalNaive"]["MASE"] == pytest.approx(r["snaive"]["MASE"])
    assert all(np.isfinite(r[k]["MASE"]) for k in ("rnn", "esrnn"))
    assert any(n.startswith("rnn: short history (54 points") for n in res["notes"]), res["notes"]
    assert res["winner"] in r and set(res["ranks"]) == {"rnn", "esrnn", "snaive", "SeasonalNaive"}
    with pytest.raises(
        InputError,
        match=r"47 points, fewer than one season \+ horizon \+ the later origins = 12 \+ 18 \+ 18",
    ):  # noqa: E501
        backtest(series_set(synthetic(47)), horizon=18, origins=2, methods=("snaive",))
