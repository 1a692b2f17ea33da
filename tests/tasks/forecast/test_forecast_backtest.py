"""The rolling-origin backtest: the RNN against the baselines, no look-ahead, bad methods."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fc_helpers import series_set as _series_set
from fc_helpers import synthetic as _synthetic
from fc_helpers import write_csv as _write

from rnnlab.data.series import Series, SeriesSet, read_series
from rnnlab.errors import InputError
from rnnlab.tasks.forecast.backtest import _rnn_backtest, backtest, backtest_table

SMALL = dict(members=3, hidden=16, steps=200, refit_steps=20)


def test_backtest_rnn_beats_seasonal_naive_on_a_noisy_seasonal_trend(tmp_path):
    ss = read_series(_write(tmp_path / "s.csv", _synthetic(160, noise=0.3)), "y")
    res = backtest(
        ss, horizon=6, origins=3, methods=("rnn", "naive", "snaive"), out=tmp_path / "bt",
        progress=False, **SMALL,
    )  # fmt: skip
    r = res["series"]["y"]
    # seasonal naive is a season behind the trend (0.6) plus noise: the RNN must learn the trend
    assert r["rnn"]["MAE"] < 0.75 * r["snaive"]["MAE"], r
    assert r["rnn"]["MAE"] < r["naive"]["MAE"]
    assert res["rnn"]["level"] is False  # a trending series: the RNN does not read the level
    assert res["train_cpu_s"] > 0 and res["rnn"]["refit_steps"] == 3 * 20
    assert (tmp_path / "bt" / "backtest.json").exists()
    saved = json.loads((tmp_path / "bt" / "backtest.json").read_text())
    assert saved["split"] == {"first_origin": {"y": 160 - 6 - 2 * 6}}  # the test split
    assert backtest_table(res).row_count == 6  # 3 methods, for the series and the mean


def test_backtest_rnn_never_sees_the_values_after_an_origin(tmp_path):
    """Each origin's forecast, refits included, is the same whatever comes after it."""
    y = _synthetic(130, noise=0.3)
    H, origins = 6, 3
    o1 = len(y) - H - (origins - 2) * H  # the second origin
    y2 = y.copy()
    y2[o1:] += 5.0
    tiny = dict(members=2, hidden=8, steps=60, refit_steps=10)
    first = [len(y) - H - (origins - 1) * H]
    fa, _ = _rnn_backtest(_series_set(y), tmp_path / "a", H, first, origins, H, False, tiny)
    fb, _ = _rnn_backtest(_series_set(y2), tmp_path / "b", H, first, origins, H, False, tiny)
    for k in (0, 1):
        np.testing.assert_array_equal(fa[0, k].mean, fb[0, k].mean)
        np.testing.assert_array_equal(fa[0, k].hi95, fb[0, k].hi95)
    assert not np.array_equal(fa[0, 2].mean, fb[0, 2].mean)  # the third origin sees the jump


def test_unknown_method():
    ss = SeriesSet([Series("a", _synthetic(60), np.zeros((60, 0)), [])], None, 12)
    with pytest.raises(InputError, match="unknown method"):
        backtest(ss, horizon=3, methods=("prophet",))
