"""Forecasting data: a CSV read like a run's, scaled arrays per series, windows, batches.

The scalers are fit on the training part of each series only; a window is the ``L`` steps
before a forecast origin ``t`` (scaled target, covariates, calendar features) and the
calendar features of the ``H`` steps after it.

>>> ss = read_source(ForecastSource(csv="co2.csv", target="co2"))            # doctest: +SKIP
>>> p = prepare(ss, fit_scalers(ss, {"co2": 400}, "auto"))                      # doctest: +SKIP
>>> y, feats, future, target = stack_windows(p, [(0, 100)], L=24, H=12)        # doctest: +SKIP
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnlab.data.series import (
    Scaler,
    SeriesSet,
    calendar_features,
    future_index,
    read_series,
    wants_log,
)
from rnnlab.errors import CheckpointError, InputError
from rnnlab.tasks.forecast.config import ForecastSource


def read_source(src: ForecastSource, csv_path: str | Path | None = None) -> SeriesSet:
    """Read ``csv_path`` (default ``src.csv``) with the columns and season of ``src``;
    the reader's warnings (gaps interpolated ...) are in ``.warnings``, not printed."""
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("ignore")
        return read_series(
            csv_path if csv_path is not None else src.csv,
            src.target,
            time_col=src.time_col,
            covariates=src.covariates,
            id_col=src.id_col,
            freq=src.freq or "auto",
            season=src.season,
        )


def source_of_run(src: dict[str, Any]) -> ForecastSource:
    """The ``data.source`` of a run's config; a run trained from Python has none."""
    if not src or "target" not in src:
        raise CheckpointError(
            "this run was trained from Python without `source=` (the CSV columns are not "
            "recorded); predict with rnn_forecast(), or train it with `rnnlab forecast train`"
        )
    return ForecastSource.from_dict(src, "the run's data.source")


def resolved_source(src: ForecastSource, ss: SeriesSet) -> ForecastSource:
    """``src`` with the frequency and season that reading found (so a new CSV of the run is
    read with them, not detected again)."""
    return src.replace(freq=ss.freq or "auto", season=ss.season)


@dataclass
class Prepared:
    """Per series: scaled target, scaled covariates + calendar features, calendar-only."""

    names: list[str]
    z: list[np.ndarray]
    feats: list[np.ndarray]
    cal: list[np.ndarray]


def prepare(ss: SeriesSet, scalers: dict[str, Any], extra_cal: int = 0) -> Prepared:
    """Scale with the given (training) scalers; calendar features extend ``extra_cal`` steps."""
    names, zs, feats, cals = [], [], [], []
    for s in ss.series:
        if s.name not in scalers["target"]:
            raise InputError(
                f"series {s.name!r} was not in the training data; known series: "
                f"{', '.join(scalers['target'])}"
            )
        sc = Scaler(*scalers["target"][s.name])
        idx = s.index + (future_index(s.index, ss.freq, extra_cal) if extra_cal else [])
        cal = calendar_features(idx, ss.freq, ss.calendar)
        cov = (
            np.stack(
                [
                    Scaler(*scalers["cov"][s.name][j]).transform(s.covariates[:, j])
                    for j in range(s.covariates.shape[1])
                ],
                1,
            )
            if s.covariates.shape[1]
            else np.zeros((len(s.values), 0))
        )
        names.append(s.name)
        zs.append(sc.transform(s.values))
        feats.append(np.concatenate([cov, cal[: len(s.values)]], 1))
        cals.append(cal)
    return Prepared(names, zs, feats, cals)


def fit_scalers(ss: SeriesSet, n_train: dict[str, int], transform: str) -> dict[str, Any]:
    """Scalers fit on the first ``n_train[name]`` points of each series only."""
    tgt, cov = {}, {}
    for s in ss.series:
        n = n_train[s.name]
        log = transform == "log" or (transform == "auto" and wants_log(s.values[:n]))
        sc = Scaler.fit(s.values[:n], log=log)
        tgt[s.name] = [sc.mean, sc.std, sc.log]
        cov[s.name] = [
            [Scaler.fit(s.covariates[:n, j]).mean, Scaler.fit(s.covariates[:n, j]).std]
            for j in range(s.covariates.shape[1])
        ]
    return {"target": tgt, "cov": cov}


def window(
    p: Prepared, i: int, t: int, L: int, H: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inputs of the window whose forecast origin is position ``t`` of series ``i``; an
    origin with fewer than ``L`` points before it is left-padded with the first point (a
    short series gets a shorter effective lookback instead of a refusal)."""
    if t >= L:
        return p.z[i][t - L : t], p.feats[i][t - L : t], p.cal[i][t : t + H]
    pad = L - t
    y = np.r_[np.full(pad, p.z[i][0]), p.z[i][:t]]
    f = np.concatenate([np.repeat(p.feats[i][:1], pad, 0), p.feats[i][:t]])
    return y, f, p.cal[i][t : t + H]


def stack_windows(
    p: Prepared, pairs: list[tuple[int, int]], L: int, H: int, with_target: bool = True
) -> list[torch.Tensor]:
    """The windows at ``pairs`` (series, origin) as float tensors ``[y, feats, future]``,
    and their ``target`` (scaled) as a fourth when ``with_target``."""
    ys, fs, cs, ts = [], [], [], []
    for i, t in pairs:
        y, f, c = window(p, i, t, L, H)
        ys.append(y), fs.append(f), cs.append(c)
        if with_target:
            ts.append(p.z[i][t : t + H])
    out = [torch.tensor(np.stack(a), dtype=torch.float32) for a in (ys, fs, cs)]
    if with_target:
        out.append(torch.tensor(np.stack(ts), dtype=torch.float32))
    return out


class WindowBatches:
    """Random training windows (series, origin) drawn with a seeded, resumable generator."""

    def __init__(
        self, p: Prepared, origins: list[tuple[int, int]], L: int, H: int, batch: int, seed: int
    ):
        self.p, self.origins, self.L, self.H, self.batch = p, origins, L, H, batch
        self.rng = np.random.default_rng(seed)

    def __next__(self) -> list[torch.Tensor]:
        pick = self.rng.integers(0, len(self.origins), self.batch)
        return stack_windows(self.p, [self.origins[k] for k in pick], self.L, self.H)

    def state_dict(self) -> dict[str, Any]:
        return {"rng": json.dumps(self.rng.bit_generator.state)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = json.loads(state["rng"])


def windows(
    ends: list[int], L: int, H: int, start: list[int] | None = None
) -> list[tuple[int, int]]:
    """Every (series, origin) whose window and target lie inside ``[0, ends[i])``."""
    return [
        (i, t)
        for i, n in enumerate(ends)
        for t in range(max(L, start[i] if start else L), n - H + 1)
    ]


def reads_level(ss: SeriesSet, V: int, level: bool | str) -> bool:
    """``level`` of the members; "auto": unless a series drifts (tested on its training part)."""
    if level != "auto":
        return bool(level)
    return not any(drifts(s.values[: len(s.values) - V]) for s in ss.series)


def drifts(y: np.ndarray) -> bool:
    """Whether a series' level drifts: KPSS (null: stationary around a constant) rejected at 5%.

    The RNN reads the level of a series that stays in its range (it says where the series is
    against its usual values: mean reversion) but not of a drifting one, whose level soon
    leaves the range seen in training.

    >>> drifts(np.arange(200.0)), drifts(np.sin(np.arange(200.0)))
    (True, False)
    """
    from statsmodels.tsa.stattools import kpss

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # p-values outside the table are clipped: fine here
        return bool(kpss(np.asarray(y, float), regression="c", nlags="auto")[1] < 0.05)
