"""``rnnlab forecast``: train, predict, backtest, plot.

``train`` and ``backtest`` take the same options, derived from the settings in
``rnnlab/tasks/forecast/config.py``; each command imports the task's code in its body.

    rnnlab forecast train --csv co2.csv --target co2 --horizon 12 --out runs/co2
    rnnlab forecast backtest --csv co2.csv --target co2 --horizon 12 --origins 8
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import typer

from rnnlab.cli.options import settings_options
from rnnlab.errors import InputError
from rnnlab.tasks.forecast.config import (
    EXTRA_METHODS,
    METHODS,
    ForecastModel,
    ForecastSource,
    ForecastTrain,
    split_cli,
)

app = typer.Typer(help="Time-series forecasting against classical baselines.", no_args_is_help=True)

_QUIET = typer.Option(False, "--quiet", help="No progress bar.")


def _read(opts: dict[str, Any]) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """The series the options name (warnings printed), the source to record, the rest."""
    from rnnlab.tasks.forecast.data import read_source, resolved_source

    src, kw = split_cli(opts)
    ss = read_source(src)
    for msg in ss.warnings:
        typer.secho(f"warning: {msg}", err=True, fg="yellow")
    return ss, resolved_source(src, ss).to_dict(), kw


@app.command()
@settings_options(ForecastSource, ForecastModel, ForecastTrain)
def train(
    out: Path = typer.Option(Path("runs/forecast"), "--out", help="Run directory to write."),
    model: str = typer.Option(
        "rnn", "--model", help="rnn (the quantile ensemble) or esrnn (the ES-RNN hybrid)."
    ),
    quiet: bool = _QUIET,
    **opts: Any,
) -> None:
    """Train an RNN forecaster; the run dir also gets forecast.json for `plot`."""
    from rnnlab.tasks.forecast.train import train_forecaster

    if model not in ("rnn", "esrnn"):
        raise InputError(f"--model must be rnn or esrnn, got {model!r}")
    ss, src, kw = _read(opts)
    if model == "esrnn":
        from rnnlab.tasks.forecast.hybrid_run import train_hybrid

        # the shared settings that apply (--steps when given; its own sizes otherwise)
        hk = {k: kw[k] for k in ("steps", "refit_steps", "seed") if kw.get(k) is not None}
        h = train_hybrid(ss, out, horizon=kw["horizon"], source=src, **hk)
        for note in h["notes"]:
            typer.echo(f"note: {note}")
        typer.echo(f"trained the ES-RNN hybrid on {h['series']} series; saved {out}")
        return
    s = train_forecaster(ss, out, source=src, progress=not quiet, **kw)
    for note in s["notes"]:
        typer.echo(f"note: {note}")
    typer.echo(
        f"trained {s['steps']} steps in {s['elapsed']:.0f}s ({s['stop_reason']}); "
        f"best val_loss {s['best']:.4f}; season {ss.season}; saved {out}"
    )


@app.command()
@settings_options(ForecastSource, only={"csv"})
def predict(
    run: Path = typer.Argument(..., help="Run directory from `rnnlab forecast train`."),
    horizon: int = typer.Option(None, "--horizon", help="Steps (at most the trained horizon)."),
    out: Path = typer.Option(None, "--out", help="Output CSV (default: print to stdout)."),
    **opts: Any,
) -> None:
    """Point forecast + 80%/95% intervals from the end of the CSV's history."""
    from rnnlab.io import atomic_write_bytes
    from rnnlab.tasks.forecast.infer import predict_csv

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        text = predict_csv(run, opts["csv"], horizon)
    if out:
        atomic_write_bytes(out, text.encode())
        typer.echo(f"wrote {out}")
    else:
        typer.echo(text, nl=False)


@app.command("backtest")
@settings_options(ForecastSource, ForecastModel, ForecastTrain)
def backtest_cmd(
    origins: int = typer.Option(5, help="Number of rolling forecast origins."),
    step: int = typer.Option(None, help="Steps between origins (default: the horizon)."),
    methods: str = typer.Option(",".join(METHODS), help="Methods to compare."),
    extra: str = typer.Option(
        ",".join(EXTRA_METHODS),
        "--extra",
        help="Methods added to --methods: the ES-RNN hybrid, statsforecast's models ('' = none).",
    ),
    out: Path = typer.Option(None, "--out", help="Run dir for the RNN + backtest.json."),
    quiet: bool = _QUIET,
    **opts: Any,
) -> None:
    """Rolling-origin backtest: RNN, ES-RNN, naive, seasonal naive, ARIMA, ETS and
    statsforecast's AutoARIMA/AutoETS/AutoTheta/SeasonalNaive side by side."""
    from rich.console import Console

    from rnnlab.tasks.forecast.backtest import backtest, backtest_table

    if origins < 1:
        raise InputError(f"--origins must be >= 1, got {origins}")
    ss, src, kw = _read(opts)
    names = f"{methods},{extra}".split(",")
    meths = tuple(dict.fromkeys(x.strip() for x in names if x.strip()))
    res = backtest(
        ss, origins=origins, step=step, methods=meths, out=out, progress=not quiet, source=src, **kw
    )
    Console().print(backtest_table(res))
    for note in res["notes"]:
        typer.echo(f"note: {note}")
    ranks = ", ".join(f"{k} {r:.2f}" for k, r in sorted(res["ranks"].items(), key=lambda x: x[1]))
    typer.echo(f"winner (mean MASE): {res['winner']}; mean MASE rank: {ranks}")
    typer.echo(
        f"season {ss.season}; RNN training {res['train_s']:.0f}s "
        f"({res['train_cpu_s']:.0f}s CPU), refits included"
    )


@app.command()
def plot(
    run: Path = typer.Argument(..., help="Run directory (train or backtest --out)."),
    out: Path = typer.Option(None, "--out", help="PNG path (default RUN/forecast.png)."),
) -> None:
    """PNG: history, forecast, 80%/95% intervals, backtest (or validation) errors."""
    from rnnlab.tasks.forecast.plot import plot_run

    typer.echo(f"wrote {plot_run(run, out)}")
