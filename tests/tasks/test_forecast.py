"""Forecasting: baselines and metrics against hand-computed answers, the model, the CLI."""

from __future__ import annotations

import csv
import sys

import numpy as np
import pytest
import torch

from rnnlab.errors import CheckpointError, InputError
from rnnlab.tasks import baselines as bl
from rnnlab.tasks.forecast import Forecaster, forecast_loss, load_forecaster

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
        "--horizon", "6", "--steps", "150", "--hidden", "16", "--out", str(run), "--quiet",
    )  # fmt: skip
    assert code == 0, cap.err
    assert "season 12" in cap.out
    lf = load_forecaster(run)
    assert lf.config["lookback"] == 24 and lf.config["task"] == "forecast"
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


def test_backtest_rnn_beats_naive_on_seasonal_series(tmp_path):
    from rnnlab.data.series import read_series
    from rnnlab.tasks.forecast import backtest, backtest_table

    y = _synthetic(160)
    ss = read_series(_write(tmp_path / "s.csv", y), "y")
    res = backtest(
        ss, horizon=6, origins=3, methods=("rnn", "naive", "snaive"), out=tmp_path / "bt",
        steps=200, hidden=16, progress=False,
    )  # fmt: skip
    r = res["series"]["y"]
    assert r["rnn"]["MAE"] < r["naive"]["MAE"]
    assert r["rnn"]["MAE"] < 1.5 * r["snaive"]["MAE"]
    assert (tmp_path / "bt" / "backtest.json").exists()
    assert backtest_table(res).row_count == 6  # 3 methods, for the series and the mean


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
