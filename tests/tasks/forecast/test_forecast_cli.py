"""``rnnlab forecast``: train, predict, plot and backtest end to end (tiny budgets), user
errors as one line with an exit code."""

from __future__ import annotations

import csv
import sys

from fc_helpers import synthetic as _synthetic
from fc_helpers import write_csv as _write

from rnnlab.tasks.forecast.infer import load_forecaster


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
    assert lf.config["model"]["members"] == [24, 36, 48] and lf.config["task"] == "forecast"
    assert lf.config["model"]["lookback"] == 48  # the window the longest member reads
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
    # issue 23: a short series trains with a shorter effective lookback (one line says so);
    # only fewer points than one season + validation + horizon refuse, with the numbers
    short = _write(tmp_path / "short.csv", _synthetic(30))
    code, cap = _run_main(
        monkeypatch, capsys, "forecast", "train", "--csv", str(short), "--target", "y",
        "--horizon", "6", "--lookback", "24", "--steps", "5", "--out", str(tmp_path / "r3"),
    )  # fmt: skip
    assert code == 0 and "note: short history (30 points" in cap.out, cap.out + cap.err
    code, cap = _run_main(
        monkeypatch, capsys, "forecast", "train", "--csv", str(short), "--target", "y",
        "--horizon", "14", "--steps", "5", "--out", str(tmp_path / "r4"),
    )  # fmt: skip
    assert code == 2 and "30 points, fewer than one season + validation + horizon" in cap.err
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


def test_train_and_backtest_take_the_same_settings():
    """The options of the settings are declared once, and both commands get all of them."""
    import dataclasses

    import typer

    from rnnlab.cli.forecast import app
    from rnnlab.tasks.forecast.config import ForecastModel, ForecastSource, ForecastTrain

    cmds = typer.main.get_command(app).commands
    opts = {c: {p.name for p in cmds[c].params} for c in ("train", "backtest")}
    fields = {
        f.name
        for cls in (ForecastSource, ForecastModel, ForecastTrain)
        for f in dataclasses.fields(cls)
        if f.metadata.get("cli", True)
    }
    assert len(fields) == 20
    assert fields <= opts["train"] and fields <= opts["backtest"]
    assert opts["train"] - fields == {"out", "quiet", "model"}  # --model: issue 23
