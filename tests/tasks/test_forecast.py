"""Forecasting: baselines and metrics against hand-computed answers, the model, the CLI."""

from __future__ import annotations

import csv
import sys

import numpy as np
import pytest
import torch

from rnnlab.errors import CheckpointError, InputError
from rnnlab.tasks import baselines as bl
from rnnlab.tasks.forecast import (
    ForecastEnsemble,
    Forecaster,
    calibration_scale,
    drifts,
    forecast_loss,
    load_forecaster,
)

PERIOD = [1.0, 3.0, 2.0, 5.0]


def _synthetic(n: int = 160, noise: float = 0.1, seed: int = 0) -> np.ndarray:
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    return 10 + 0.05 * t + 2 * np.sin(2 * np.pi * t / 12) + noise * rng.normal(size=n)


def _write(path, y):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["step", "y"])
        w.writerows([i, f"{v:.5f}"] for i, v in enumerate(y))
    return path


# ---- baselines and metrics ----


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


# ---- model ----


def test_untrained_model_is_seasonal_naive_with_ordered_quantiles():
    torch.manual_seed(0)
    m = Forecaster(n_feat=0, n_future=0, horizon=6, season=4, hidden=8)
    y = torch.tensor(np.tile(PERIOD, 3), dtype=torch.float32)[None]
    out = m(y, torch.zeros(1, 12, 0), torch.zeros(1, 6, 0))[0]
    np.testing.assert_allclose(out[:, 2].detach().numpy(), PERIOD + PERIOD[:2], rtol=1e-6)
    assert torch.all(out[:, 1:] > out[:, :-1])


def test_pinball_loss_by_hand():
    out = torch.zeros(1, 1, 5)
    t = torch.ones(1, 1)
    # each quantile q under-predicts by 1: loss q, mean over the five quantiles
    assert float(forecast_loss(out, t, "quantile")) == pytest.approx(np.mean(bl_q()))


def bl_q():
    from rnnlab.tasks.forecast import QUANTILES

    return QUANTILES


def test_ensemble_averages_its_members_and_starts_at_seasonal_naive():
    torch.manual_seed(0)
    members = [Forecaster(0, 0, horizon=6, season=4, hidden=8, lookback=L) for L in (8, 12)]
    ens = ForecastEnsemble(members)
    y = torch.tensor(np.tile(PERIOD, 3), dtype=torch.float32)[None]
    args = (y, torch.zeros(1, 12, 0), torch.zeros(1, 6, 0))
    np.testing.assert_allclose(ens(*args)[0, :, 2].detach(), PERIOD + PERIOD[:2], rtol=1e-6)
    with torch.no_grad():
        members[1].head[-1].bias.fill_(0.5)  # move one member's forecast
    want = (members[0](*args) + members[1](*args)) / 2
    torch.testing.assert_close(ens(*args), want)
    assert torch.all(ens(*args)[0, :, 1:] > ens(*args)[0, :, :-1])  # still ordered


def test_member_lookback_reads_only_the_window_tail():
    torch.manual_seed(0)
    m = Forecaster(0, 0, horizon=2, season=1, hidden=8, lookback=4)
    with torch.no_grad():
        m.head[-1].bias.normal_()  # a trained-looking head, so the input matters
    y = torch.randn(3, 10)
    y2 = y.clone()
    y2[:, :6] = 99.0  # outside the last 4 steps
    f, c = torch.zeros(3, 10, 0), torch.zeros(3, 2, 0)
    torch.testing.assert_close(m(y, f, c), m(y2, f, c))


def test_calibration_scale_restores_nominal_coverage():
    """Intervals half as wide as they should be: calibrated on one sample of known noise,
    the 80% / 95% coverage on a fresh sample is nominal (and far below before)."""
    rng = np.random.default_rng(0)
    z = torch.tensor([-bl.Z95, -bl.Z80, 0.0, bl.Z80, bl.Z95], dtype=torch.float32)
    out = (0.5 * z).expand(4000, 1, 5)  # quantiles of N(0, 0.5^2), the noise is N(0, 1)
    cal, fresh = (torch.tensor(rng.normal(size=(4000, 1)), dtype=torch.float32) for _ in "ab")
    s = calibration_scale(out, cal, "quantile")
    assert s[1] == pytest.approx(2.0, rel=0.05) and s[0] == s[4] == s[1]

    def coverage(q):
        t = fresh[:, 0]
        return [
            float(((t >= q[:, 0, a]) & (t <= q[:, 0, b])).float().mean())
            for a, b in ((1, 3), (0, 4))
        ]

    assert coverage(out)[0] < 0.5
    cov80, cov95 = coverage(out[..., 2:3] + s * (out - out[..., 2:3]))
    assert cov80 == pytest.approx(0.8, abs=0.025) and cov95 == pytest.approx(0.95, abs=0.015)
    # the Gaussian head: the standard deviation rescaled
    g = torch.stack([torch.zeros(4000, 1), torch.full((4000, 1), 0.5)], -1)
    assert calibration_scale(g, cal, "gaussian")[1] == pytest.approx(2.0, rel=0.05)


def test_drifts_tells_a_trend_and_a_random_walk_from_a_stationary_series():
    rng = np.random.default_rng(0)
    assert drifts(_synthetic(300))  # linear trend + season
    assert drifts(np.cumsum(rng.normal(size=300)))
    assert not drifts(_synthetic(300) - 0.05 * np.arange(300))  # the same without the trend
    ar = np.zeros(300)
    for t in range(1, 300):
        ar[t] = 0.7 * ar[t - 1] + rng.normal()
    assert not drifts(ar)


def test_a_run_from_before_ensembles_still_loads(tmp_path):
    from rnnlab.train.checkpoint import save_run

    arch = dict(n_feat=0, n_future=0, horizon=3, season=2, hidden=8)
    m = Forecaster(**arch)
    save_run(tmp_path / "old", m.state_dict(), {"task": "forecast", "arch": arch, "lookback": 6})
    lf = load_forecaster(tmp_path / "old")
    assert isinstance(lf.model, Forecaster)
    assert lf.model(torch.zeros(2, 6), torch.zeros(2, 6, 0), torch.zeros(2, 3, 0)).shape == (
        2,
        3,
        5,
    )


# ---- end to end (tiny budgets) ----


def _run_main(monkeypatch, capsys, *args):
    from rnnlab import cli

    monkeypatch.setattr(sys, "argv", ["rnnlab", *args])
    try:
        cli.main()
        code = 0
    except SystemExit as e:
        code = e.code or 0
    return code, capsys.readouterr()


def test_train_predict_plot_and_errors(tmp_path, monkeypatch, capsys):
    data = _write(tmp_path / "s.csv", _synthetic(120))
    run = tmp_path / "run"
    code, cap = _run_main(
        monkeypatch, capsys, "forecast", "train", "--csv", str(data), "--target", "y",
        "--horizon", "6", "--steps", "150", "--hidden", "16", "--members", "3", "--refit-steps", "20",
        "--out", str(run), "--quiet",
    )  # fmt: skip
    assert code == 0, cap.err
    assert "season 12" in cap.out
    lf = load_forecaster(run)
    assert lf.config["members"] == [24, 36, 48] and lf.config["task"] == "forecast"
    assert lf.config["lookback"] == 48  # the window the longest member reads
    out = tmp_path / "fc.csv"
    code, cap = _run_main(
        monkeypatch, capsys, "forecast", "predict", str(run), "--csv", str(data), "--out", str(out)
    )
    assert code == 0, cap.err
    rows = list(csv.DictReader(out.open()))
    assert [r["time"] for r in rows] == [str(120 + i) for i in range(6)]
    truth = _synthetic(126, noise=0.0)[120:]
    for r, v in zip(rows, truth):
        lo95, lo80, f, hi80, hi95 = (
            float(r[k]) for k in ("lo95", "lo80", "forecast", "hi80", "hi95")
        )
        assert lo95 <= lo80 <= f <= hi80 <= hi95
        assert abs(f - v) < 1.5  # the seasonal pattern is followed, not a flat line
    code, cap = _run_main(monkeypatch, capsys, "forecast", "plot", str(run))
    assert code == 0 and (run / "forecast.png").read_bytes()[:4] == b"\x89PNG"
    # bad inputs: one line, exit code 2 / 3
    code, cap = _run_main(
        monkeypatch, capsys, "forecast", "predict", str(run), "--csv", str(data), "--horizon", "9"
    )
    assert code == 2 and "outside 1..6" in cap.err and "Traceback" not in cap.err
    code, cap = _run_main(
        monkeypatch, capsys, "forecast", "train", "--csv", str(data), "--target", "nope",
        "--horizon", "6", "--steps", "5", "--out", str(tmp_path / "r2"),
    )  # fmt: skip
    assert code == 2 and "available columns: step, y" in cap.err
    short = _write(tmp_path / "short.csv", _synthetic(30))
    code, cap = _run_main(
        monkeypatch, capsys, "forecast", "train", "--csv", str(short), "--target", "y",
        "--horizon", "6", "--lookback", "24", "--steps", "5", "--out", str(tmp_path / "r3"),
    )  # fmt: skip
    assert code == 2 and "lookback + horizon" in cap.err
    neg = _write(tmp_path / "neg.csv", _synthetic(120) - 20)
    for f, flag, msg in (
        (data, "bogus", "must be auto, none or log"),
        (neg, "log", "non-negative"),
    ):
        code, cap = _run_main(
            monkeypatch, capsys, "forecast", "backtest", "--csv", str(f), "--target", "y",
            "--horizon", "6", "--steps", "5", "--transform", flag,
        )  # fmt: skip
        assert code == 2 and msg in cap.err, cap.err


SMALL = dict(members=3, hidden=16, steps=200, refit_steps=20)


def test_backtest_rnn_beats_seasonal_naive_on_a_noisy_seasonal_trend(tmp_path):
    from rnnlab.data.series import read_series
    from rnnlab.tasks.forecast import backtest, backtest_table

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
    assert backtest_table(res).row_count == 6  # 3 methods, for the series and the mean


def _series_set(y):
    from rnnlab.data.series import Series, SeriesSet

    return SeriesSet(
        [Series("y", y, np.zeros((len(y), 0)), [str(i) for i in range(len(y))])], None, 12
    )


def test_backtest_rnn_never_sees_the_values_after_an_origin(tmp_path):
    """Each origin's forecast, refits included, is the same whatever comes after it."""
    from rnnlab.tasks.forecast import _rnn_backtest

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


def test_intervals_cover_near_nominal_on_known_noise(tmp_path):
    """Season + N(0, 0.5^2) noise: on 150 origins after the training data the 80% and 95%
    intervals cover about 80% and 95% of the values, and the point forecast beats seasonal
    naive (which carries last season's noise on top of the new one)."""
    from rnnlab.tasks.forecast import _prepare, rnn_forecast, train_forecaster

    rng = np.random.default_rng(1)
    t = np.arange(560)
    y = 2 * np.sin(2 * np.pi * t / 12) + 0.5 * rng.normal(size=len(t))
    n = 400
    train_forecaster(_series_set(y[:n]), tmp_path / "run", horizon=6, progress=False, **SMALL)
    lf = load_forecaster(tmp_path / "run")
    ss = _series_set(y)
    p = _prepare(ss, lf.config["scalers"], extra_cal=6)
    origins = range(n, len(y) - 6)
    errs = [bl.errors(y[o : o + 6], rnn_forecast(lf, ss, 0, o, p), 1.0) for o in origins]
    cov80, cov95, mae = (np.mean([e[k] for e in errs]) for k in ("cov80", "cov95", "MAE"))
    # a few dozen validation windows calibrate the widths: sampling error of several points
    assert 0.68 <= cov80 <= 0.9 and 0.87 <= cov95 <= 0.99, (cov80, cov95)
    sn = [bl.errors(y[o : o + 6], bl.seasonal_naive(y[:o], 6, 12), 1.0)["MAE"] for o in origins]
    assert mae < 0.97 * np.mean(sn), (mae, np.mean(sn))


def test_a_series_never_negative_is_forecast_never_negative(tmp_path):
    from rnnlab.tasks.forecast import _prepare, rnn_forecast, train_forecaster

    t = np.arange(200)
    y = np.maximum(0.0, 3 * np.sin(2 * np.pi * t / 12))  # zero half of the time, like counts
    ss = _series_set(y)
    train_forecaster(ss, tmp_path / "run", horizon=6, progress=False, members=2, steps=50)
    lf = load_forecaster(tmp_path / "run")
    assert lf.config["floor"] == {"y": 0.0}
    assert lf.config["scalers"]["target"]["y"][2]  # "auto" chose log1p for it
    p = _prepare(ss, lf.config["scalers"], extra_cal=6)
    fcs = [rnn_forecast(lf, ss, 0, o, p) for o in range(60, 195)]
    assert min(fc.lo95.min() for fc in fcs) == 0.0  # clipped, not below
    assert np.mean([fc.hi95.max() for fc in fcs]) > 2.0  # the upper ends are untouched


def test_loading_another_tasks_run_is_a_checkpoint_error(tmp_path):
    from rnnlab.train.checkpoint import save_run

    save_run(tmp_path / "lm", {"w": torch.zeros(1)}, {"task": "lm"})
    with pytest.raises(CheckpointError, match="'lm' model"):
        load_forecaster(tmp_path / "lm")


def test_unknown_method_and_head():
    from rnnlab.data.series import Series, SeriesSet
    from rnnlab.tasks.forecast import backtest

    ss = SeriesSet([Series("a", _synthetic(60), np.zeros((60, 0)), [])], None, 12)
    with pytest.raises(InputError, match="unknown method"):
        backtest(ss, horizon=3, methods=("prophet",))
    with pytest.raises(InputError, match="--head"):
        Forecaster(0, 0, 3, head="poisson")
