"""The forecasting settings, declared once (the CLI derives its options from them).

``ForecastSource`` says how a CSV is read (recorded in ``config.json`` as ``data.source``, so
``predict`` reads a new CSV the same way), ``ForecastModel`` the ensemble and
``ForecastTrain`` the optimisation; ``forecast train`` and ``forecast backtest`` take all
three. This module imports no torch (the CLI imports it at start).

>>> m, t = training_settings(12, hidden=32, steps=200)
>>> m.lookbacks(12, season=12), t.steps
([24, 36, 48, 24, 36], 200)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from rnnlab.config import RNNSpec, Settings, pick, setting
from rnnlab.errors import InputError

TASK = "forecast"
METHODS = ("rnn", "naive", "snaive", "arima", "ets")
# the ES-RNN hybrid and statsforecast's models (issue 23): `forecast backtest --extra`
EXTRA_METHODS = ("esrnn", "AutoARIMA", "AutoETS", "AutoTheta", "SeasonalNaive")
ALL_METHODS = METHODS + EXTRA_METHODS
DEFAULT_STEPS = 400  # per member: a few hundred points bottom out the validation loss by then


@dataclass
class ForecastSource(Settings):
    """The CSV and its columns (``rnnlab.data.series.read_series``' arguments)."""

    csv: str | None = setting(None, "CSV file with a header row.", "--csv", required=True)
    target: str | None = setting(
        None, "Target column(s); several = wide format (a,b,c).", "--target", required=True
    )
    time_col: str | None = setting(
        None, "Time column (default: a column named date/time/year/...).", "--time-col"
    )
    covariates: str | None = setting(
        None, "Numeric covariate columns a,b (past values are used).", "--covariates"
    )
    id_col: str | None = setting(
        None, "Series id column (long format: several series stacked).", "--id-col"
    )
    freq: str = setting("auto", "Frequency alias (D, W, MS, h ...) or auto.", "--freq")
    season: int | None = setting(
        None, "Season length (default: from --freq or detected).", "--season"
    )


def default_lookback(horizon: int, season: int) -> int:
    """Two seasons (or at least two horizons) of history: enough to see the pattern twice.

    >>> default_lookback(6, 12)
    24
    """
    return max(2 * season, 2 * horizon, 8)


@dataclass
class ForecastModel(RNNSpec):
    """The ensemble: members' encoder RNN, head and lookbacks (``embed`` and
    ``bidirectional`` do not apply: the model reads numbers, forwards in time)."""

    # torch's fused LSTM trains ~3x faster than its GRU on a CPU
    cell: str = setting("lstm", "rnn, rnn_relu, gru, lstm, mingru, minlstm.")
    embed: int = setting(0, "Unused (the model reads numbers, not tokens).", cli=False)
    hidden: int = setting(16, "RNN hidden size.")
    layers: int = setting(1, "Stacked RNN layers.")
    dropout: float = setting(0.0, "Dropout on the encoder summary the head reads.", cli=False)
    bidirectional: bool = setting(False, "Unused (a forecast reads the past).", cli=False)
    horizon: int | None = setting(None, "Steps to forecast.", "--horizon", required=True)
    lookback: int | None = setting(
        None, "History steps (default: 2 seasons; members read 1x, 1.5x, 2x it).", "--lookback"
    )
    head: str = setting("quantile", "quantile (pinball loss) or gaussian (NLL).")
    members: int = setting(5, "Ensemble size.")
    lookback_factors: tuple[float, ...] = setting(
        (1.0, 1.5, 2.0), "Member k reads lookback * factors[k % n].", cli=False
    )
    level: bool | str = setting(
        "auto", "The RNN also reads the scaled level; auto: unless a series drifts.", cli=False
    )
    linear: bool = setting(True, "A linear map of the window added to the median.", cli=False)

    def lookbacks(self, horizon: int, season: int) -> list[int]:
        """The lookback of every member."""
        L = self.lookback or default_lookback(horizon, season)
        f = self.lookback_factors
        return [max(2, round(L * f[k % len(f)])) for k in range(self.members)]


@dataclass
class ForecastTrain(Settings):
    """Training, refit and calibration (and the target transform, fit on the training part)."""

    steps: int | None = setting(
        None, f"Optimizer steps (default {DEFAULT_STEPS} without --time-budget)."
    )
    # a duration ("90s", "2m") or seconds (a float, from Python); the lr schedule then
    # follows the clock
    time_budget: str | None = setting(None, "Wall-clock budget, e.g. 90s, 2m.", "--time-budget")
    lr: float = setting(3e-3, "Peak learning rate.")
    weight_decay: float = setting(0.01, "AdamW weight decay.", cli=False)
    batch: int = setting(64, "Windows per member and step.", cli=False)
    val_size: int | None = setting(
        None, "Last points of each series held out (model selection).", cli=False
    )
    seed: int = setting(0, "Random seed.")
    refit_steps: int = setting(
        100,
        "Fine-tune steps on all the data after selection, and at each backtest origin.",
        "--refit-steps",
    )
    refit_lr: float = setting(1e-3, "Peak learning rate of the refits.", cli=False)
    calibrate: bool = setting(True, "Fit the interval widths on the validation windows.", cli=False)
    transform: str = setting(
        "auto",
        "log (log1p before scaling), none, or auto: log for a non-negative series that "
        "comes within a tenth of its peak to zero.",
    )


def _names(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def training_settings(horizon: int, **options: Any) -> tuple[ForecastModel, ForecastTrain]:
    """``train_forecaster``'s keyword options as the model and train settings; a name that
    is neither is an ``InputError``."""
    unknown = sorted(set(options) - (_names(ForecastModel) | _names(ForecastTrain)) - {"horizon"})
    if unknown:
        raise InputError(f"unknown training option(s): {', '.join(unknown)}")
    return pick(ForecastModel, options, horizon=horizon), pick(ForecastTrain, options)


def split_cli(opts: dict[str, Any]) -> tuple[ForecastSource, dict[str, Any]]:
    """A command's options as the CSV source and the keyword options of training."""
    src = _names(ForecastSource)
    return pick(ForecastSource, opts), {k: v for k, v in opts.items() if k not in src}
