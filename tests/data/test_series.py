"""CSV reading and validation for forecasting: each bad input gives a clear InputError."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab.data.series import Scaler, check_length, detect_season, read_series
from rnnlab.errors import InputError


def _csv(tmp_path, text: str, name: str = "s.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def _monthly(n: int = 36, cols: str = "a") -> str:
    import pandas as pd

    idx = pd.date_range("2000-01-01", periods=n, freq="MS")
    rows = [f"date,{cols}"]
    for i, t in enumerate(idx):
        vals = [f"{10 + np.sin(2 * np.pi * i / 12) + j:.4f}" for j in range(len(cols.split(",")))]
        rows.append(f"{t.date()}," + ",".join(vals))
    return "\n".join(rows) + "\n"


def test_wide_csv_two_series_monthly(tmp_path):
    ss = read_series(_csv(tmp_path, _monthly(36, "a,b")), "a,b")
    assert [s.name for s in ss.series] == ["a", "b"]
    assert ss.freq == "MS" and ss.season == 12 and ss.calendar == "month"
    np.testing.assert_allclose(ss.series[1].values - ss.series[0].values, 1.0, atol=1e-6)


def test_long_format_with_id_column(tmp_path):
    text = "id,t,y\n" + "".join(f"{k},{i},{i * (k + 1)}\n" for k in range(2) for i in range(10))
    ss = read_series(_csv(tmp_path, text), "y", time_col="t", id_col="id")
    assert [s.name for s in ss.series] == ["0", "1"]
    np.testing.assert_array_equal(ss.series[1].values, 2 * np.arange(10))


def test_blank_cells_are_interpolated_with_a_warning(tmp_path):
    with pytest.warns(UserWarning, match="1 missing value"):
        ss = read_series(_csv(tmp_path, "t,y\n0,1\n1,\n2,3\n3,5\n"), "y")
    np.testing.assert_array_equal(ss.series[0].values, [1, 2, 3, 5])


def test_missing_time_stamps_are_filled(tmp_path):
    with pytest.warns(UserWarning, match="missing time stamp"):
        ss = read_series(_csv(tmp_path, "t,y\n0,1\n1,2\n3,4\n4,3\n"), "y", time_col="t")
    np.testing.assert_array_equal(ss.series[0].values, [1, 2, 3, 4, 3])


def test_unsorted_rows_are_sorted(tmp_path):
    with pytest.warns(UserWarning, match="sorted"):
        ss = read_series(_csv(tmp_path, "t,y\n1,2\n0,1\n2,5\n"), "y", time_col="t")
    np.testing.assert_array_equal(ss.series[0].values, [1, 2, 5])


@pytest.mark.parametrize(
    "text,kw,match",
    [
        ("t,y\n0,1\n1,abc\n2,3\n", {}, "non-numeric cell 'abc'.*row 2"),
        ("t,y\n0,1\n1,2\n", {"target": "z"}, "'z' not in the CSV; available columns: t, y"),
        ("t,y\n0,1\n1,2\n", {"covariates": "w"}, "covariate.*'w'.*available columns: t, y"),
        ("t,y\n", {}, "no data rows"),
        ("t,y\n0,4\n1,4\n2,4\n", {}, "constant"),
        ("t,y\n0,1\n0,2\n1,3\n", {"time_col": "t"}, "duplicate time stamp"),
        (
            "date,y\n2020-01-01 00:00,1\n2020-01-01 07:00,2\n2020-01-01 10:00,3\n2020-01-02 00:00,4\n",
            {},
            "irregular time stamps",
        ),
        ("date,y\n2020-01-01,1\nnot a date,2\n2020-01-03,3\n", {}, "not a date"),
    ],
)
def test_bad_inputs_raise_clear_errors(tmp_path, text, kw, match):
    kw = {"target": "y", **kw}
    with pytest.raises(InputError, match=match):
        read_series(_csv(tmp_path, text), kw.pop("target"), **kw)


def test_empty_and_missing_files(tmp_path):
    with pytest.raises(InputError, match="empty"):
        read_series(_csv(tmp_path, ""), "y")
    with pytest.raises(InputError, match="does not exist"):
        read_series(tmp_path / "nope.csv", "y")


def test_season_detection_and_override(tmp_path):
    t = np.arange(200)
    assert detect_season(np.sin(2 * np.pi * t / 12) + 0.01 * t) == 12
    assert detect_season(np.random.default_rng(0).normal(size=200)) == 1
    ss = read_series(_csv(tmp_path, _monthly(36)), "a", season=4)
    assert ss.season == 4


def test_too_short_series_message():
    with pytest.raises(InputError, match="fewer than lookback \\+ horizon = 24 \\+ 12"):
        check_length(30, 24, 12, "a")


def test_scaler_uses_training_part_only():
    y = np.array([1.0, 2.0, 3.0, 100.0])
    sc = Scaler.fit(y[:3])
    assert sc.mean == 2.0 and sc.std == pytest.approx(np.std([1, 2, 3]))
    np.testing.assert_allclose(sc.inverse(sc.transform(y)), y)


def test_log_scaler_roundtrips_and_the_auto_rule():
    from rnnlab.data.series import wants_log

    y = np.array([0.0, 3.0, 50.0, 200.0])
    sc = Scaler.fit(y, log=True)
    np.testing.assert_allclose(sc.transform(y).mean(), 0.0, atol=1e-12)  # standardized in log1p
    np.testing.assert_allclose(sc.inverse(sc.transform(y)), y, atol=1e-9)
    assert wants_log(y)  # counts with quiet spells
    assert not wants_log(np.array([313.0, 340.0, 370.0]))  # CO2: far from zero
    assert not wants_log(np.array([-1.0, 5.0, 9.0]))  # negative values: no log
