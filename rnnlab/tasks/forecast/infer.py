"""Forecasting with a trained run: load it, forecast from any origin, write a forecast CSV.

>>> lf = load_forecaster("runs/co2")                                 # doctest: +SKIP
>>> fc = rnn_forecast(lf, ss, 0, len(ss.series[0].values))          # doctest: +SKIP
>>> fc.mean, fc.lo95, fc.hi95                                        # doctest: +SKIP
>>> print(predict_csv("runs/co2", "co2.csv"))                        # doctest: +SKIP
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnlab.data.series import Scaler, SeriesSet, check_length, future_index
from rnnlab.errors import CheckpointError, InputError
from rnnlab.tasks.forecast import baselines as bl
from rnnlab.tasks.forecast.config import TASK
from rnnlab.tasks.forecast.data import Prepared, prepare, read_source, source_of_run, stack_windows
from rnnlab.tasks.forecast.model import ForecastEnsemble, Forecaster
from rnnlab.train.checkpoint import load_run, load_weights_into


@dataclass
class LoadedForecaster:
    """A run's ensemble (eval mode) and its ``config.json``."""

    model: ForecastEnsemble
    config: dict[str, Any]

    @property
    def lookback(self) -> int:
        """The input window: the longest member lookback."""
        return self.config["model"]["lookback"]

    @property
    def first_origin(self) -> int:
        """The shortest history it forecasts from (the lookback, or less for a run trained
        on a short series: the window is then left-padded)."""
        return self.config["data"]["split"].get("first_origin", self.lookback)

    @property
    def horizon(self) -> int:
        return self.config["model"]["arch"]["horizon"]

    @property
    def scalers(self) -> dict[str, Any]:
        return self.config["data"]["scalers"]


def load_forecaster(run_dir: str | Path) -> LoadedForecaster:
    """Load a forecast run (eval mode); another task's run is a ``CheckpointError``.

    ``.model`` maps ``(y, feats, future)`` to the forecast quantiles (scaled units).
    """
    tensors, cfg = load_run(run_dir, task=TASK)
    return _build(run_dir, tensors, cfg)


def _build(run_dir: str | Path, tensors: dict[str, Any], cfg: dict[str, Any]) -> LoadedForecaster:
    try:
        m = cfg["model"]
        model = ForecastEnsemble([Forecaster(**m["arch"], lookback=L) for L in m["members"]])
    except (KeyError, TypeError) as e:
        raise CheckpointError(f"{run_dir}/config.json lacks the model architecture ({e})") from None
    load_weights_into(model, tensors, f"{run_dir}/model.safetensors")
    model.eval()
    return LoadedForecaster(model, cfg)


def to_forecast(out: np.ndarray, sc: Scaler, head: str) -> bl.Forecast:
    """Model output (H, n_out) in scaled units -> a Forecast in the data's units."""
    if head == "gaussian":  # quantiles in scaled units, then mapped (the map may be nonlinear)
        g = bl.Forecast.gaussian(out[:, 0], out[:, 1])
        return bl.Forecast(*(sc.inverse(getattr(g, k)) for k in bl.FIELDS))
    q = sc.inverse(out)
    return bl.Forecast(q[:, 2], q[:, 1], q[:, 3], q[:, 0], q[:, 4])


def rnn_forecast(
    lf: LoadedForecaster, ss: SeriesSet, i: int, origin: int, p: Prepared | None = None
) -> bl.Forecast:
    """The RNN's forecast for series ``i`` from ``origin`` (uses only the points before it)."""
    L, H = lf.lookback, lf.horizon
    p = p or prepare(ss, lf.scalers, extra_cal=H)
    s = ss.series[i]
    need = lf.first_origin
    if origin < need:
        raise InputError(
            f"series {s.name!r} needs {need} points of history (--lookback), has {origin}"
        )
    with torch.no_grad():
        y, f, c = stack_windows(p, [(i, origin)], L, H, with_target=False)
        out = lf.model(y, f, c)[0].numpy().astype(float)
    head = lf.config["model"]["arch"]["head"]
    fc = to_forecast(out, Scaler(*lf.scalers["target"][s.name]), head)
    floor = lf.config["data"].get("floor", {}).get(s.name)
    return fc if floor is None else fc.clip(floor)


def predict_csv(run_dir: str | Path, csv_path: str | Path, horizon: int | None = None) -> str:
    """Forecast CSV text (series,time,forecast,lo80,hi80,lo95,hi95) from the end of the data;
    the run is the RNN ensemble or the ES-RNN hybrid (``--model esrnn``)."""
    tensors, cfg = load_run(run_dir, task=TASK)
    hybrid = cfg.get("model", {}).get("kind") == "esrnn"
    if hybrid:
        from rnnlab.tasks.forecast.hybrid_run import hybrid_forecasts, load_hybrid

        ens = load_hybrid(run_dir, tensors, cfg)
        trained = ens.parts[0].horizon
    else:
        lf = _build(run_dir, tensors, cfg)
        trained = lf.horizon
    H = horizon or trained
    if not 1 <= H <= trained:
        raise InputError(
            f"--horizon {H} is outside 1..{trained}: the model predicts its trained "
            "horizon directly; retrain with a larger --horizon"
        )
    ss = read_source(source_of_run(cfg["data"].get("source")), csv_path)
    if hybrid:
        fcs = hybrid_forecasts(ens, ss, H)
    else:
        p = prepare(ss, lf.scalers, extra_cal=lf.horizon)
        fcs = []
        for i, s in enumerate(ss.series):
            check_length(len(s.values), lf.first_origin, 0, s.name, "history")
            fcs.append(rnn_forecast(lf, ss, i, len(s.values), p))
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["series", "time", "forecast", "lo80", "hi80", "lo95", "hi95"])
    for s, fc in zip(ss.series, fcs):
        for j, t in enumerate(future_index(s.index, ss.freq, H)):
            w.writerow([s.name, t] + [f"{getattr(fc, k)[j]:.6g}" for k in bl.FIELDS])
    return buf.getvalue()
