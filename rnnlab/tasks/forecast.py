"""Time-series forecasting with an RNN, measured against the classical baselines.

Model: an encoder RNN (``rnnlab.core.make_rnn``) reads the lookback window (target scaled
per series on the training part only, covariates, calendar features) and a direct
multi-horizon head predicts all ``horizon`` steps at once, as quantiles (or a Gaussian).
Direct rather than autoregressive: no error feedback through the horizon, one forward pass,
and intervals come out calibrated per step instead of from sampling.

The head predicts a *correction* to the seasonal naive forecast of the window (the last
season repeated), plus a linear map of the window (averaging seasons, a trend), and the RNN
sees the window relative to its last value, so the model starts from the baseline it must
beat. It reads the level itself only when the series does not drift (``drifts``).

A run is an ensemble (``ForecastEnsemble``) of small members with different seeds, training
windows and lookbacks (1x, 1.5x, 2x), whose quantiles are averaged: on a few hundred points
the variance of one network is the largest error. The best checkpoint on the validation part
is calibrated there (one interval multiplier), then fine-tuned on all the data; ``backtest``
fine-tunes it again at every origin on the history before it, as the baselines are refit.

    rnnlab forecast train --csv co2.csv --target co2 --horizon 12 --out runs/co2
    rnnlab forecast predict runs/co2 --csv co2.csv --out forecast.csv
    rnnlab forecast backtest --csv co2.csv --target co2 --horizon 12 --origins 8
    rnnlab forecast plot runs/co2
"""

from __future__ import annotations

import csv
import io
import json
import math
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import typer
from torch import nn
from torch.nn import functional as F

from rnnlab.data.series import (
    Scaler,
    SeriesSet,
    calendar_features,
    check_length,
    future_index,
    read_series,
    wants_log,
)
from rnnlab.errors import CheckpointError, InputError
from rnnlab.io import atomic_write_bytes, atomic_write_json
from rnnlab.tasks import baselines as bl
from rnnlab.train.checkpoint import load_run, save_run

TASK = "forecast"
QUANTILES = (0.025, 0.1, 0.5, 0.9, 0.975)  # median + the 80% and 95% interval ends
METHODS = ("rnn", "naive", "snaive", "arima", "ets")
DEFAULT_STEPS = 400  # per member: a few hundred points bottom out the validation loss by then

app = typer.Typer(help="Time-series forecasting against classical baselines.", no_args_is_help=True)


# ---- model ----


class Forecaster(nn.Module):
    """Encoder RNN + direct multi-horizon quantile/Gaussian head on top of seasonal naive.

    ``lookback`` > 0 makes the model read only the last ``lookback`` steps of its input, so
    members of an ensemble with different lookbacks share one input window.

    >>> m = Forecaster(n_feat=0, n_future=0, horizon=3, season=2, hidden=8)
    >>> m(torch.zeros(4, 6), torch.zeros(4, 6, 0), torch.zeros(4, 3, 0)).shape
    torch.Size([4, 3, 5])
    """

    def __init__(
        self,
        n_feat: int,
        n_future: int,
        horizon: int,
        season: int = 1,
        hidden: int = 64,
        layers: int = 1,
        cell: str = "gru",
        dropout: float = 0.0,
        head: str = "quantile",
        lookback: int = 0,
        level: bool = True,
        linear: bool = False,
    ):
        from rnnlab.core import make_rnn

        super().__init__()
        if head not in ("quantile", "gaussian"):
            raise InputError(f"unknown --head {head!r}: use quantile or gaussian")
        self.horizon, self.season, self.head_kind = horizon, season, head
        self.lookback, self.dropout, self.level = lookback, dropout, level
        self.n_out = len(QUANTILES) if head == "quantile" else 2
        # inputs per step: target relative to the window's last value, the target itself
        # (scaled; ``level=False`` leaves it out: translation-invariant), features
        self.rnn = make_rnn(
            cell, 1 + level + n_feat, hidden, layers, dropout=dropout, batch_first=True
        )
        self.head = nn.Sequential(
            nn.Linear(hidden + level + n_future * horizon, hidden),
            nn.GELU(),
            nn.Linear(hidden, horizon * self.n_out),
        )
        # linear: a linear map of the window added to the median (LSTNet's autoregressive
        # part): averaging seasons or extracting a trend is one layer, not a learned recurrence
        self.linear = nn.Linear(lookback, horizon) if linear and lookback else None
        for layer in (self.head[-1], self.linear):
            if layer is not None:  # start exactly at the seasonal naive forecast
                nn.init.zeros_(layer.weight)
                nn.init.zeros_(layer.bias)

    def base(self, y: torch.Tensor) -> torch.Tensor:
        """Seasonal naive forecast of each window (naive when the season does not fit)."""
        L, m = y.shape[1], self.season
        steps = torch.arange(self.horizon, device=y.device)
        if 1 < m <= L:
            return y[:, L - m + steps % m]
        return y[:, -1:].expand(-1, self.horizon)

    def forward(self, y: torch.Tensor, feats: torch.Tensor, fut: torch.Tensor) -> torch.Tensor:
        """``y`` (B,L) scaled target, ``feats`` (B,L,F), ``fut`` (B,H,K) -> (B,H,n_out)."""
        if self.lookback:
            y, feats = _tail(y, self.lookback), _tail(feats, self.lookback)
        last = y[:, -1:]
        lv = [y.unsqueeze(-1)] if self.level else []
        out, _ = self.rnn(torch.cat([(y - last).unsqueeze(-1), *lv, feats], -1))
        z = torch.cat([out[:, -1], *([last] if self.level else []), fut.flatten(1)], 1)
        z = F.dropout(z, self.dropout, self.training)
        o = self.head(z).view(-1, self.horizon, self.n_out)  # -1, not len(y): exportable
        mid = self.base(y) + o[..., 0]
        if self.linear is not None:
            mid = mid + self.linear(y - last)
        if self.head_kind == "gaussian":
            return torch.stack([mid, F.softplus(o[..., 1] - 1) + 1e-3], -1)
        # monotone quantiles: median, then softplus steps outwards (never crossing)
        d = F.softplus(o[..., 1:] - 1) + 1e-4
        lo1 = mid - d[..., 1]
        hi1 = mid + d[..., 2]
        return torch.stack([lo1 - d[..., 0], lo1, mid, hi1, hi1 + d[..., 3]], -1)


def _tail(x: torch.Tensor, n: int) -> torch.Tensor:
    """The last ``n`` steps of ``x`` (B, T, ...), a shorter ``x`` left-padded with its first
    step: no branch on the length, so a traced (ONNX) graph takes any length too.

    >>> _tail(torch.tensor([[1.0, 2.0]]), 4)
    tensor([[1., 1., 1., 2.]])
    """
    first = x[:, :1].expand(-1, n, *x.shape[2:])
    return torch.cat([first, x], 1)[:, -n:]


class ForecastEnsemble(nn.Module):
    """Members trained on different windows (and lookbacks), combined quantile by quantile.

    Averaging the members' quantiles keeps them ordered; ``scale`` is the interval
    calibration, moving each interval end to ``median + s * (end - median)`` (the standard
    deviation times ``s`` for the Gaussian head).

    >>> e = ForecastEnsemble([Forecaster(0, 0, 3, season=2, hidden=8) for _ in range(3)])
    >>> e(torch.zeros(4, 6), torch.zeros(4, 6, 0), torch.zeros(4, 3, 0)).shape
    torch.Size([4, 3, 5])
    """

    def __init__(self, members: list[Forecaster]):
        super().__init__()
        self.members = nn.ModuleList(members)
        self.head_kind = members[0].head_kind
        self.register_buffer("scale", torch.ones(members[0].n_out))

    def forward(self, y: torch.Tensor, feats: torch.Tensor, fut: torch.Tensor) -> torch.Tensor:
        """Same inputs and output as ``Forecaster.forward``; ``y`` holds the longest lookback."""
        out = torch.stack([m(y, feats, fut) for m in self.members]).mean(0)
        if self.head_kind == "gaussian":
            return out * self.scale
        mid = out[..., 2:3]
        return mid + self.scale * (out - mid)


def forecast_loss(out: torch.Tensor, target: torch.Tensor, head: str) -> torch.Tensor:
    """Pinball loss over the quantiles, or the Gaussian negative log-likelihood."""
    if head == "gaussian":
        return F.gaussian_nll_loss(out[..., 0], target, out[..., 1] ** 2, full=True)
    return _pinball(out, target.unsqueeze(-1), torch.tensor(QUANTILES, device=out.device))


def members_loss(model: ForecastEnsemble, batch: list[torch.Tensor]) -> torch.Tensor:
    """Mean loss of the members, each on its own slice of the batch (bagging, not copies)."""
    parts = zip(*(x.chunk(len(model.members)) for x in batch))
    losses = [
        forecast_loss(m(y, f, c), t, m.head_kind) for m, (y, f, c, t) in zip(model.members, parts)
    ]
    return torch.stack(losses).mean()


def calibration_scale(out: torch.Tensor, target: torch.Tensor, head: str) -> torch.Tensor:
    """One multiplier of the interval widths, fit on held-out windows: the one with the
    lowest pinball loss of the four interval ends (quantile head), or the maximum-likelihood
    rescaling of the standard deviation (Gaussian head).

    A single multiplier pools every window and step (the empirical 95% quantile of a few
    dozen validation windows, split conformal's estimate, moves a lot from draw to draw);
    the model keeps the shape of its intervals: how they widen with the step, and 80 vs 95.

    >>> out = torch.tensor([-2.0, -1.28, 0.0, 1.28, 2.0]).expand(4000, 1, 5)
    >>> float(calibration_scale(out, 2 * torch.randn(4000, 1), "quantile")[0])  # doctest: +SKIP
    2.0...
    """
    t = target.reshape(-1, 1)
    out = out.reshape(-1, out.shape[-1])
    if head == "gaussian":
        s = float(((t[:, 0] - out[:, 0]) / out[:, 1]).pow(2).mean().sqrt())
        return torch.tensor([1.0, s])
    mid, ends = out[:, 2:3], out[:, [0, 1, 3, 4]]
    q = torch.tensor(QUANTILES)[[0, 1, 3, 4]]
    grid = torch.logspace(-1, 1, 241)  # 0.1 .. 10
    loss = [_pinball(mid + s * (ends - mid), t, q) for s in grid]
    s = float(grid[int(torch.stack(loss).argmin())])
    return torch.tensor([s, s, 1.0, s, s])


def _pinball(pred: torch.Tensor, t: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    e = t - pred
    return torch.maximum(q * e, (q - 1) * e).mean()


def _to_forecast(out: np.ndarray, sc: Scaler, head: str) -> bl.Forecast:
    """Model output (H, n_out) in scaled units -> a Forecast in the data's units."""
    if head == "gaussian":  # quantiles in scaled units, then mapped (the map may be nonlinear)
        g = bl.Forecast.gaussian(out[:, 0], out[:, 1])
        return bl.Forecast(*(sc.inverse(getattr(g, k)) for k in bl.FIELDS))
    q = sc.inverse(out)
    return bl.Forecast(q[:, 2], q[:, 1], q[:, 3], q[:, 0], q[:, 4])


# ---- data: scaled arrays and a resumable batch source ----


@dataclass
class Prepared:
    """Per series: scaled target, scaled covariates + calendar features, calendar-only."""

    names: list[str]
    z: list[np.ndarray]
    feats: list[np.ndarray]
    cal: list[np.ndarray]


def _prepare(ss: SeriesSet, scalers: dict[str, Any], extra_cal: int = 0) -> Prepared:
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


def _fit_scalers(ss: SeriesSet, n_train: dict[str, int], transform: str) -> dict[str, Any]:
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


def _window(p: Prepared, i: int, t: int, L: int, H: int):
    """Inputs of the window whose forecast origin is position ``t`` of series ``i``."""
    return p.z[i][t - L : t], p.feats[i][t - L : t], p.cal[i][t : t + H]


def _stack(p: Prepared, pairs, L: int, H: int, with_target: bool = True):
    ys, fs, cs, ts = [], [], [], []
    for i, t in pairs:
        y, f, c = _window(p, i, t, L, H)
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

    def __next__(self):
        pick = self.rng.integers(0, len(self.origins), self.batch)
        return _stack(self.p, [self.origins[k] for k in pick], self.L, self.H)

    def state_dict(self) -> dict[str, Any]:
        return {"rng": json.dumps(self.rng.bit_generator.state)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = json.loads(state["rng"])


# ---- training ----


def default_lookback(horizon: int, season: int) -> int:
    """Two seasons (or at least two horizons) of history: enough to see the pattern twice."""
    return max(2 * season, 2 * horizon, 8)


@dataclass
class TrainOptions:
    """Hyperparameters of ``train_forecaster`` (and of the RNN in ``backtest``)."""

    lookback: int | None = None  # history steps read (default: ``default_lookback``)
    transform: str = "auto"  # "log": log1p before scaling; "auto": where ``wants_log``
    cell: str = "lstm"  # torch's fused LSTM trains ~3x faster than its GRU on a CPU
    hidden: int = 16
    layers: int = 1
    dropout: float = 0.0  # on the encoder summary the head reads
    head: str = "quantile"
    level: bool | str = "auto"  # the RNN also reads the scaled level; "auto": unless it drifts
    linear: bool = True  # a linear map of the window added to the median forecast
    steps: int | None = None  # optimizer steps (DEFAULT_STEPS when neither this nor time_budget)
    time_budget: float | None = None  # seconds (the lr schedule then follows the clock)
    lr: float = 3e-3
    weight_decay: float = 0.01
    batch: int = 64  # windows per member and step
    val_size: int | None = None  # last points of each series held out (model selection)
    seed: int = 0
    members: int = 5  # ensemble size; each member sees its own windows
    lookback_factors: tuple[float, ...] = (1.0, 1.5, 2.0)  # member k: lookback * factors[k % n]
    refit_steps: int = 100  # fine-tune on all the data (validation part too) after selection
    refit_lr: float = 1e-3
    calibrate: bool = True  # interval widths fit on the validation windows (calibration_scale)

    def lookbacks(self, horizon: int, season: int) -> list[int]:
        L = self.lookback or default_lookback(horizon, season)
        f = self.lookback_factors
        return [max(2, round(L * f[k % len(f)])) for k in range(self.members)]


def _options(kw: dict[str, Any]) -> TrainOptions:
    try:
        return TrainOptions(**kw)
    except TypeError as e:
        raise InputError(f"unknown training option: {e}") from None


@contextmanager
def _threads(n: int) -> Iterator[None]:
    """Torch intra-op threads for a block; these models are tiny, and on a busy machine one
    thread is many times faster than two fighting for cores (measured: 12 ms vs 210 ms/step)."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _windows(ends: list[int], L: int, H: int, start: list[int] | None = None):
    """Every (series, origin) whose window and target lie inside ``[0, ends[i])``."""
    return [
        (i, t)
        for i, n in enumerate(ends)
        for t in range(max(L, start[i] if start else L), n - H + 1)
    ]


def train_forecaster(
    ss: SeriesSet,
    out: str | Path,
    *,
    horizon: int,
    progress: bool = True,
    source: dict[str, Any] | None = None,
    threads: int = 1,
    **options: Any,
) -> dict[str, Any]:
    """Train on ``ss`` (validation = the last ``val_size`` points of each series) into ``out``.

    ``options`` are the fields of ``TrainOptions``. Returns the fit summary. The run dir
    holds the best model (lowest validation loss, then calibrated and refit on all the data
    when asked), its config (scalers, columns, season...), the training log, and
    ``forecast.json`` (the forecast from the end + validation errors per step, for ``plot``).

    >>> train_forecaster(ss, "runs/x", horizon=12, members=3, steps=500)  # doctest: +SKIP
    """
    with _threads(threads):
        return _train(ss, Path(out), horizon, _options(options), progress, source or {})


@dataclass
class _Setup:
    """What every model trained on one SeriesSet shares: data, windows, architecture."""

    p: Prepared
    lookbacks: list[int]
    L: int  # the input window: the longest member lookback
    H: int
    train_o: list[tuple[int, int]]
    all_o: list[tuple[int, int]]  # every window, validation part included (for the refit)
    val: list[torch.Tensor]
    arch: dict[str, Any]
    config: dict[str, Any]

    def ensemble(self, seed: int) -> ForecastEnsemble:
        members = []
        for k, Lk in enumerate(self.lookbacks):
            torch.manual_seed(seed + k)  # members differ in their start and their windows
            members.append(Forecaster(**self.arch, lookback=Lk))
        return ForecastEnsemble(members)

    def val_loss(self, model: ForecastEnsemble) -> float:
        y, f, c, t = self.val
        with torch.no_grad():
            return float(forecast_loss(model(y, f, c), t, model.head_kind))


def _setup(ss: SeriesSet, H: int, o: TrainOptions, source: dict[str, Any]) -> _Setup:
    if H < 1:
        raise InputError(f"--horizon must be >= 1, got {H}")
    if o.members < 1:
        raise InputError(f"--members must be >= 1, got {o.members}")
    if o.refit_steps < 0:
        raise InputError(f"--refit-steps must be >= 0, got {o.refit_steps}")
    lookbacks = o.lookbacks(H, ss.season)
    L = max(lookbacks)
    if o.lookback is not None and o.lookback < 2:
        raise InputError(f"--lookback must be >= 2, got {o.lookback}")
    lengths = [len(s.values) for s in ss.series]
    V = o.val_size if o.val_size is not None else max(2 * H, min(lengths) // 10)
    for s in ss.series:
        check_length(len(s.values), L + V, H, s.name, "")
    if o.transform not in ("auto", "none", "log"):
        raise InputError(f"--transform must be auto, none or log, got {o.transform!r}")
    if o.transform == "log" and any(s.values.min() < 0 for s in ss.series):
        raise InputError("--transform log needs a non-negative series; use --transform none")
    scalers = _fit_scalers(ss, {s.name: len(s.values) - V for s in ss.series}, o.transform)
    p = _prepare(ss, scalers)
    val_o = _windows(lengths, L, H, start=[n - V for n in lengths])
    arch = dict(
        n_feat=p.feats[0].shape[1],
        n_future=p.cal[0].shape[1],
        horizon=H,
        season=ss.season,
        hidden=o.hidden,
        layers=o.layers,
        cell=o.cell,
        dropout=o.dropout,
        head=o.head,
        linear=o.linear,
        level=_reads_level(ss, V, o.level),
    )
    config = {
        "task": TASK,
        "arch": arch,
        "members": lookbacks,
        "options": asdict(o),
        "lookback": L,
        "horizon": H,
        "season": ss.season,
        "freq": ss.freq,
        "calendar": ss.calendar,
        "covariates": ss.covariate_names,
        "series": [s.name for s in ss.series],
        "scalers": scalers,
        "source": source,
        "val_size": V,
        # a series never negative in training is forecast never negative (counts, amounts)
        "floor": {
            s.name: 0.0 if s.values[: len(s.values) - V].min() >= 0 else None for s in ss.series
        },
    }
    train_o = _windows([n - V for n in lengths], L, H)
    return _Setup(
        p, lookbacks, L, H, train_o, _windows(lengths, L, H), _stack(p, val_o, L, H), arch, config
    )


def _reads_level(ss: SeriesSet, V: int, level: bool | str) -> bool:
    """``level`` of the members; "auto": unless a series drifts (tested on its training part)."""
    if level != "auto":
        return bool(level)
    return not any(drifts(s.values[: len(s.values) - V]) for s in ss.series)


def _train(
    ss: SeriesSet, out: Path, H: int, o: TrainOptions, progress: bool, source: dict[str, Any]
) -> dict[str, Any]:
    from rnnlab.train.loop import TrainConfig, fit
    from rnnlab.train.util import set_seed

    st = _setup(ss, H, o, source)
    set_seed(o.seed)
    model = st.ensemble(o.seed)
    data = WindowBatches(st.p, st.train_o, st.L, H, o.batch * o.members, o.seed)

    def save_fn(run_dir: Path, metrics: dict[str, Any]) -> None:
        save_run(run_dir, model.state_dict(), {**st.config, "metrics": metrics})

    steps = DEFAULT_STEPS if o.steps is None and o.time_budget is None else o.steps
    cfg = TrainConfig(
        steps=steps,
        time_budget=o.time_budget,
        lr=o.lr,
        weight_decay=o.weight_decay,
        warmup=50,
        eval_every=50,
        patience=0,
        log_every=25,
    )
    summary = fit(
        model,
        cfg,
        out,
        data=data,
        step_fn=lambda b: (members_loss(model, b), b[3].numel()),
        eval_fn=lambda: {"val_loss": st.val_loss(model)},
        save_fn=save_fn,
        progress=progress,
    )
    lf = load_forecaster(out)  # the best checkpoint
    p = _prepare(ss, lf.config["scalers"], extra_cal=H)  # the scalers do not change below
    val_mae = _val_mae(lf, ss, p)  # before the refit sees the validation part
    if o.calibrate:
        y, f, c, t = st.val
        with torch.no_grad():
            lf.model.scale.copy_(calibration_scale(lf.model(y, f, c), t, o.head))
    refit(lf.model, st.p, st.all_o, o, seed=o.seed + 1)
    save_run(out, lf.model.state_dict(), lf.config)
    _write_forecast_json(lf, ss, out, p, val_mae)
    return summary


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


def _run_steps(
    model: ForecastEnsemble,
    data: WindowBatches,
    steps: int,
    lr: float,
    weight_decay: float,
) -> None:
    """``steps`` AdamW steps (the fit loop's betas and clipping), lr cosine to 0."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.99), weight_decay=weight_decay)
    model.train()
    for k in range(steps):
        for g in opt.param_groups:
            g["lr"] = lr * 0.5 * (1 + math.cos(math.pi * k / steps))
        loss = members_loss(model, next(data))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    model.eval()


def refit(
    model: ForecastEnsemble,
    p: Prepared,
    origins: list[tuple[int, int]],
    o: TrainOptions,
    seed: int = 0,
) -> None:
    """Fine-tune from the current weights for ``o.refit_steps`` on the windows at ``origins``
    (lr ``o.refit_lr`` decaying to 0): how the RNN takes in new history, as the baselines
    are refit on it.

    >>> refit(lf.model, p, [(0, t) for t in range(24, 100)], opts)  # doctest: +SKIP
    """
    if not o.refit_steps or not origins:
        return
    L, H = max(m.lookback for m in model.members), model.members[0].horizon
    data = WindowBatches(p, origins, L, H, o.batch * len(model.members), seed)
    _run_steps(model, data, o.refit_steps, o.refit_lr, o.weight_decay)


@dataclass
class LoadedForecaster:
    model: ForecastEnsemble | Forecaster
    config: dict[str, Any]


def load_forecaster(run_dir: str | Path) -> LoadedForecaster:
    """Load a forecast run (eval mode); another task's run is a ``CheckpointError``.

    ``.model`` maps ``(y, feats, future)`` to the forecast quantiles (scaled units): an
    ensemble for runs with ``members`` in their config, a single ``Forecaster`` for older runs.
    """
    from rnnlab.train.checkpoint import load_weights_into

    tensors, cfg = load_run(run_dir, task=TASK)
    try:
        arch = cfg["arch"]
        if "members" in cfg:
            model = ForecastEnsemble([Forecaster(**arch, lookback=L) for L in cfg["members"]])
        else:
            model = Forecaster(**arch)
    except (KeyError, TypeError) as e:
        raise CheckpointError(f"{run_dir}/config.json lacks the model architecture ({e})") from None
    load_weights_into(model, tensors, f"{run_dir}/model.safetensors")
    model.eval()
    return LoadedForecaster(model, cfg)


def rnn_forecast(
    lf: LoadedForecaster, ss: SeriesSet, i: int, origin: int, p: Prepared | None = None
) -> bl.Forecast:
    """The RNN's forecast for series ``i`` from ``origin`` (uses only the points before it)."""
    cfg = lf.config
    L, H = cfg["lookback"], cfg["horizon"]
    p = p or _prepare(ss, cfg["scalers"], extra_cal=H)
    s = ss.series[i]
    if origin < L:
        raise InputError(
            f"series {s.name!r} needs {L} points of history (--lookback), has {origin}"
        )
    with torch.no_grad():
        y, f, c = _stack(p, [(i, origin)], L, H, with_target=False)
        out = lf.model(y, f, c)[0].numpy().astype(float)
    fc = _to_forecast(out, Scaler(*cfg["scalers"]["target"][s.name]), cfg["arch"]["head"])
    floor = cfg.get("floor", {}).get(s.name)
    return fc if floor is None else fc.clip(floor)


def _val_mae(lf: LoadedForecaster, ss: SeriesSet, p: Prepared) -> list[dict[str, list[float]]]:
    """Validation MAE per step ahead, RNN and seasonal naive, of the first 4 series (for plot)."""
    cfg = lf.config
    H, V, m = cfg["horizon"], cfg["val_size"], cfg["season"]
    res = []
    for i, s in enumerate(ss.series[:4]):
        n = len(s.values)
        err_r, err_s = np.zeros(H), np.zeros(H)
        origins = range(n - V, n - H + 1)
        for t in origins:
            err_r += np.abs(rnn_forecast(lf, ss, i, t, p).mean - s.values[t : t + H])
            err_s += np.abs(bl.seasonal_naive(s.values[:t], H, m).mean - s.values[t : t + H])
        res.append(
            {"rnn": (err_r / len(origins)).tolist(), "snaive": (err_s / len(origins)).tolist()}
        )
    return res


def _write_forecast_json(
    lf: LoadedForecaster, ss: SeriesSet, run_dir: Path, p: Prepared, val_mae: list[dict]
) -> None:
    """History tail + forecast from the end + validation MAE per step (RNN vs seasonal naive)."""
    cfg = lf.config
    H = cfg["horizon"]
    series = []
    for i, (s, mae) in enumerate(zip(ss.series[:4], val_mae)):
        n = len(s.values)
        fc = rnn_forecast(lf, ss, i, n, p)
        tail = max(0, n - max(4 * cfg["lookback"], 100))
        series.append(
            {
                "name": s.name,
                "time": s.index[tail:],
                "values": s.values[tail:].tolist(),
                "future": future_index(s.index, ss.freq, H),
                **{k: getattr(fc, k).tolist() for k in bl.FIELDS},
                "val_mae": mae,
            }
        )
    atomic_write_json(run_dir / "forecast.json", {"series": series})


# ---- backtest ----


def backtest(
    ss: SeriesSet,
    *,
    horizon: int,
    origins: int = 5,
    step: int | None = None,
    methods: tuple[str, ...] = METHODS,
    out: str | Path | None = None,
    progress: bool = True,
    **train_kw: Any,
) -> dict[str, Any]:
    """Rolling-origin evaluation of the RNN and the baselines on the same splits.

    Origins are the last ``origins`` positions ``n - horizon - k * step`` of each series. The
    RNN is trained on the data before the first origin (``train_kw``: the options of
    ``train_forecaster``); at each later origin it is fine-tuned from its previous weights
    on the windows that end before it (``refit_steps``). The baselines are refit at every
    origin on all the history (ARIMA order and ETS form chosen once, on the first origin).

    Returns ``{"series": {name: {method: metrics}}, "mean": {method: metrics}, ...}``.

    >>> backtest(ss, horizon=12, origins=8, members=5, refit_steps=100)  # doctest: +SKIP
    """
    step = step or horizon
    unknown = set(methods) - set(METHODS)
    if unknown:
        raise InputError(f"unknown method(s) {sorted(unknown)}: choose from {', '.join(METHODS)}")
    m = ss.season
    first = {s.name: len(s.values) - horizon - (origins - 1) * step for s in ss.series}
    for s in ss.series:
        if first[s.name] < max(8, 2 * m if m > 1 else 8):
            raise InputError(
                f"series {s.name!r} ({len(s.values)} points) is too short for {origins} origins "
                f"of horizon {horizon}; use fewer --origins or a smaller --horizon"
            )
    rnn_fc, rnn_info = {}, {}
    if "rnn" in methods:
        run_dir = Path(out) if out else Path(tempfile.mkdtemp(prefix="rnnlab-backtest-"))
        starts = [first[s.name] for s in ss.series]
        rnn_fc, rnn_info = _rnn_backtest(
            ss, run_dir, horizon, starts, origins, step, progress, train_kw
        )
    res: dict[str, Any] = {
        "series": {},
        "horizon": horizon,
        "origins": origins,
        "step": step,
        "season": m,
    }
    timing = {k: 0.0 for k in methods}
    for i, s in enumerate(ss.series):
        y = s.values
        t0 = time.monotonic()
        order = bl.arima_order(y[: first[s.name]], m) if "arima" in methods else None
        spec = bl.ets_spec(y[: first[s.name]], m) if "ets" in methods else None
        rows: dict[str, list[dict[str, float]]] = {k: [] for k in methods}
        for k in range(origins):
            o = first[s.name] + k * step
            hist, actual = y[:o], y[o : o + horizon]
            scale = bl.mase_scale(hist, m)
            for meth in methods:
                t1 = time.monotonic()
                if meth == "rnn":
                    fc = rnn_fc[i, k]
                elif meth == "naive":
                    fc = bl.naive(hist, horizon)
                elif meth == "snaive":
                    fc = bl.seasonal_naive(hist, horizon, m)
                elif meth == "arima":
                    fc = bl.arima(hist, horizon, m, order)
                else:
                    fc = bl.ets(hist, horizon, m, spec)
                timing[meth] += time.monotonic() - t1
                rows[meth].append(bl.errors(actual, fc, scale))
        res["series"][s.name] = {
            meth: {k: float(np.mean([r[k] for r in rows[meth]])) for k in bl.METRICS}
            for meth in methods
        }
        res["series"][s.name]["_models"] = {
            "arima": str(order),
            "ets": str(spec),
            "selection_s": time.monotonic() - t0,
        }
    res["mean"] = {
        meth: {k: float(np.mean([v[meth][k] for v in res["series"].values()])) for k in bl.METRICS}
        for meth in methods
    }
    res["train_s"] = rnn_info.get("train_s", 0.0)
    res["train_cpu_s"] = rnn_info.get("train_cpu_s", 0.0)
    res["fit_predict_s"] = timing
    if rnn_info:
        res["rnn"] = rnn_info
    if out:
        atomic_write_json(Path(out) / "backtest.json", res)
    return res


def _rnn_backtest(
    ss: SeriesSet,
    run_dir: Path,
    H: int,
    first: list[int],
    origins: int,
    step: int,
    progress: bool,
    train_kw: dict[str, Any],
) -> tuple[dict[tuple[int, int], bl.Forecast], dict[str, Any]]:
    """The RNN's forecasts at every (series, origin): trained on the data before the first
    origin (``first``: one per series), then refit at each later origin on the windows that
    end before it."""
    cut = SeriesSet(
        [
            type(s)(s.name, s.values[:n], s.covariates[:n], s.index[:n])
            for s, n in zip(ss.series, first)
        ],
        ss.freq,
        ss.season,
        ss.covariate_names,
        ss.calendar,
    )
    t0, c0 = time.monotonic(), time.process_time()
    summary = train_forecaster(cut, run_dir, horizon=H, progress=progress, **train_kw)
    lf = load_forecaster(run_dir)
    opts = _options(lf.config["options"])
    p = _prepare(ss, lf.config["scalers"], extra_cal=H)
    fcs = {}
    with _threads(train_kw.get("threads", 1)):
        for k in range(origins):
            ends = [n + k * step for n in first]
            if k:
                refit(
                    lf.model, p, _windows(ends, lf.config["lookback"], H), opts, opts.seed + 1 + k
                )
            for i, n in enumerate(ends):
                fcs[i, k] = rnn_forecast(lf, ss, i, n, p)
    info = {
        "steps": summary["steps"],
        "refit_steps": opts.refit_steps * origins,
        "best_val_loss": summary["best"],
        "stop": summary["stop_reason"],
        "level": lf.config["arch"]["level"],
        "train_s": time.monotonic() - t0,
        "train_cpu_s": time.process_time() - c0,
    }
    return fcs, info


def backtest_table(res: dict[str, Any]):
    """A rich table: one row per (series, method), best sMAPE of each series in bold."""
    from rich.table import Table

    t = Table(title=f"rolling-origin backtest: horizon {res['horizon']}, {res['origins']} origins")
    t.add_column("series")
    t.add_column("method")
    for k in bl.METRICS:
        t.add_column(k, justify="right")
    blocks = list(res["series"].items()) + [("mean", res["mean"])]
    for name, per in blocks:
        methods = [k for k in per if not k.startswith("_")]
        best = min(methods, key=lambda k: per[k]["sMAPE"])
        for j, meth in enumerate(methods):
            cells = [
                f"{per[meth][k]:.3f}" if not k.startswith("cov") else f"{per[meth][k]:.0%}"
                for k in bl.METRICS
            ]
            style = "bold" if meth == best else None
            t.add_row(name if j == 0 else "", meth, *cells, style=style)
        t.add_section()
    return t


# ---- plot ----


def plot_run(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """PNG: history, forecast with 80%/95% bands, and the errors (backtest or validation)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run_dir = Path(run_dir)
    load_run(run_dir, task=TASK)  # checks it is a forecast run
    fj = run_dir / "forecast.json"
    if not fj.exists():
        raise CheckpointError(f"{fj} is missing: train the run to the end first")
    series = json.loads(fj.read_text())["series"]
    bt = run_dir / "backtest.json"
    fig, axes = plt.subplots(len(series) + 1, 1, figsize=(10, 3.2 * (len(series) + 1)))
    for ax, s in zip(axes, series):
        n = len(s["values"])
        x, xf = np.arange(n), np.arange(n, n + len(s["mean"]))
        ax.plot(x, s["values"], color="k", lw=1, label="history")
        ax.fill_between(xf, s["lo95"], s["hi95"], alpha=0.2, color="C0", label="95%")
        ax.fill_between(xf, s["lo80"], s["hi80"], alpha=0.35, color="C0", label="80%")
        ax.plot(xf, s["mean"], color="C0", label="forecast")
        ticks = np.linspace(0, n + len(xf) - 1, 6).astype(int)
        labels = s["time"] + s["future"]
        ax.set_xticks(ticks, [labels[i] for i in ticks], fontsize=8)
        ax.set_title(f"{s['name']}: forecast with 80% / 95% intervals")
        ax.legend(fontsize=8, loc="upper left")
    ax = axes[-1]
    if bt.exists():
        res = json.loads(bt.read_text())
        methods = list(res["mean"])
        vals = [res["mean"][k]["sMAPE"] for k in methods]
        ax.bar(methods, vals, color=["C3" if k == "rnn" else "C7" for k in methods])
        ax.set_ylabel("sMAPE %")
        ax.set_title(f"backtest: mean sMAPE over {res['origins']} origins (lower is better)")
    else:
        s = series[0]
        h = np.arange(1, len(s["mean"]) + 1)
        ax.plot(h, s["val_mae"]["rnn"], "o-", label="RNN")
        ax.plot(h, s["val_mae"]["snaive"], "s--", label="seasonal naive")
        ax.set_xlabel("steps ahead")
        ax.set_ylabel("MAE")
        ax.set_title(f"{s['name']}: validation MAE per step ahead")
        ax.legend(fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    path = Path(out) if out else run_dir / "forecast.png"
    atomic_write_bytes(path, buf.getvalue())
    return path


# ---- predict ----


def predict_csv(run_dir: str | Path, csv_path: str | Path, horizon: int | None = None) -> str:
    """Forecast CSV text (series,time,forecast,lo80,hi80,lo95,hi95) from the end of the data."""
    lf = load_forecaster(run_dir)
    cfg = lf.config
    H = horizon or cfg["horizon"]
    if not 1 <= H <= cfg["horizon"]:
        raise InputError(
            f"--horizon {H} is outside 1..{cfg['horizon']}: the model predicts its trained "
            "horizon directly; retrain with a larger --horizon"
        )
    ss = _read_like(csv_path, cfg["source"])
    p = _prepare(ss, cfg["scalers"], extra_cal=cfg["horizon"])
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["series", "time", "forecast", "lo80", "hi80", "lo95", "hi95"])
    for i, s in enumerate(ss.series):
        check_length(len(s.values), cfg["lookback"], 0, s.name, "history")
        fc = rnn_forecast(lf, ss, i, len(s.values), p)
        for j, t in enumerate(future_index(s.index, ss.freq, H)):
            w.writerow(
                [s.name, t]
                + [f"{getattr(fc, k)[j]:.6g}" for k in ("mean", "lo80", "hi80", "lo95", "hi95")]
            )
    return buf.getvalue()


def _read_like(csv_path: str | Path, src: dict[str, Any]) -> SeriesSet:
    """Read a CSV with the columns and season of the training run."""
    if "target" not in src:
        raise CheckpointError(
            "this run was trained from Python without `source=` (the CSV columns are not "
            "recorded); predict with rnn_forecast(), or train it with `rnnlab forecast train`"
        )
    return read_series(
        csv_path,
        src["target"],
        time_col=src.get("time_col"),
        covariates=src.get("covariates"),
        id_col=src.get("id_col"),
        freq=src.get("freq") or "auto",
        season=src.get("season"),
    )


# ---- CLI ----


def _load_cli(
    csv_path, target, time_col, covariates, id_col, freq, season
) -> tuple[SeriesSet, dict]:
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("ignore")
        ss = read_series(
            csv_path,
            target,
            time_col=time_col,
            covariates=covariates,
            id_col=id_col,
            freq=freq,
            season=season,
        )
    for msg in ss.warnings:
        typer.secho(f"warning: {msg}", err=True, fg="yellow")
    src = dict(
        target=target,
        time_col=time_col,
        covariates=covariates,
        id_col=id_col,
        freq=ss.freq or "auto",
        season=ss.season,
    )
    return ss, src


_CSV = typer.Option(..., "--csv", help="CSV file with a header row.")
_TARGET = typer.Option(..., "--target", help="Target column(s); several = wide format (a,b,c).")
_TIME = typer.Option(
    None, "--time-col", help="Time column (default: a column named date/time/year/...)."
)
_COV = typer.Option(
    None, "--covariates", help="Numeric covariate columns a,b (past values are used)."
)
_ID = typer.Option(None, "--id-col", help="Series id column (long format: several series stacked).")
_FREQ = typer.Option("auto", "--freq", help="Frequency alias (D, W, MS, h ...) or auto.")
_SEASON = typer.Option(None, "--season", help="Season length (default: from --freq or detected).")
_H = typer.Option(..., "--horizon", help="Steps to forecast.")
_D = TrainOptions()  # the defaults the help texts quote
_LB = typer.Option(
    None, "--lookback", help="History steps (default: 2 seasons; members read 1x, 1.5x, 2x it)."
)
_CELL = typer.Option(
    None, "--cell", help=f"rnn, rnn_relu, gru, lstm, mingru, minlstm (default {_D.cell})."
)
_HIDDEN = typer.Option(None, help=f"RNN hidden size (default {_D.hidden}).")
_LAYERS = typer.Option(None, help=f"Stacked RNN layers (default {_D.layers}).")
_HEAD = typer.Option(None, help="quantile (pinball loss) or gaussian (NLL) (default quantile).")
_STEPS = typer.Option(
    None, help=f"Optimizer steps (default {DEFAULT_STEPS} without --time-budget)."
)
_BUDGET = typer.Option(None, "--time-budget", help="Wall-clock budget, e.g. 90s, 2m.")
_LR = typer.Option(None, help=f"Peak learning rate (default {_D.lr}).")
_SEED = typer.Option(None, help="Random seed (default 0).")
_MEMBERS = typer.Option(None, help=f"Ensemble size (default {_D.members}).")
_TRANSFORM = typer.Option(
    None,
    help="log (log1p before scaling), none, or auto: log for a non-negative series that "
    "comes within a tenth of its peak to zero (default auto).",
)
_REFIT = typer.Option(
    None,
    "--refit-steps",
    help=f"Fine-tune steps on all the data after selection, and at each backtest origin "
    f"(default {_D.refit_steps}).",
)


# the CLI options that become TrainOptions fields (train and backtest take the same ones)
_TRAIN_OPTS = ("lookback", "cell", "hidden", "layers", "head", "steps", "time_budget", "lr",
               "seed", "members", "refit_steps", "transform")  # fmt: skip


def _train_kw(args: dict[str, Any]) -> dict[str, Any]:
    """The training options given on the command line (the rest keep TrainOptions' defaults)."""
    from rnnlab.train.util import parse_duration

    kw = {k: args[k] for k in _TRAIN_OPTS}
    kw["time_budget"] = parse_duration(kw["time_budget"])
    return {k: v for k, v in kw.items() if v is not None}


@app.command()
def train(
    csv_path: Path = _CSV,
    target: str = _TARGET,
    time_col: str = _TIME,
    covariates: str = _COV,
    id_col: str = _ID,
    freq: str = _FREQ,
    season: int = _SEASON,
    horizon: int = _H,
    lookback: int = _LB,
    cell: str = _CELL,
    hidden: int = _HIDDEN,
    layers: int = _LAYERS,
    head: str = _HEAD,
    steps: int = _STEPS,
    time_budget: str = _BUDGET,
    lr: float = _LR,
    seed: int = _SEED,
    members: int = _MEMBERS,
    refit_steps: int = _REFIT,
    transform: str = _TRANSFORM,
    out: Path = typer.Option(Path("runs/forecast"), "--out", help="Run directory to write."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Train an RNN forecaster; the run dir also gets forecast.json for `plot`."""
    ss, src = _load_cli(csv_path, target, time_col, covariates, id_col, freq, season)
    s = train_forecaster(
        ss,
        out,
        horizon=horizon,
        source=src,
        progress=not quiet,
        **_train_kw(locals()),
    )
    typer.echo(
        f"trained {s['steps']} steps in {s['elapsed']:.0f}s ({s['stop_reason']}); "
        f"best val_loss {s['best']:.4f}; season {ss.season}; saved {out}"
    )


@app.command()
def predict(
    run: Path = typer.Argument(..., help="Run directory from `rnnlab forecast train`."),
    csv_path: Path = _CSV,
    horizon: int = typer.Option(None, "--horizon", help="Steps (at most the trained horizon)."),
    out: Path = typer.Option(None, "--out", help="Output CSV (default: print to stdout)."),
) -> None:
    """Point forecast + 80%/95% intervals from the end of the CSV's history."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        text = predict_csv(run, csv_path, horizon)
    if out:
        atomic_write_bytes(out, text.encode())
        typer.echo(f"wrote {out}")
    else:
        typer.echo(text, nl=False)


@app.command("backtest")
def backtest_cmd(
    csv_path: Path = _CSV,
    target: str = _TARGET,
    time_col: str = _TIME,
    covariates: str = _COV,
    id_col: str = _ID,
    freq: str = _FREQ,
    season: int = _SEASON,
    horizon: int = _H,
    origins: int = typer.Option(5, help="Number of rolling forecast origins."),
    step: int = typer.Option(None, help="Steps between origins (default: the horizon)."),
    methods: str = typer.Option(",".join(METHODS), help="Methods to compare."),
    lookback: int = _LB,
    cell: str = _CELL,
    hidden: int = _HIDDEN,
    layers: int = _LAYERS,
    head: str = _HEAD,
    steps: int = _STEPS,
    time_budget: str = _BUDGET,
    lr: float = _LR,
    seed: int = _SEED,
    members: int = _MEMBERS,
    refit_steps: int = _REFIT,
    transform: str = _TRANSFORM,
    out: Path = typer.Option(None, "--out", help="Run dir for the RNN + backtest.json."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Rolling-origin backtest: RNN, naive, seasonal naive, ARIMA, ETS side by side."""
    from rich.console import Console

    if origins < 1:
        raise InputError(f"--origins must be >= 1, got {origins}")
    ss, src = _load_cli(csv_path, target, time_col, covariates, id_col, freq, season)
    meths = tuple(x.strip() for x in methods.split(",") if x.strip())
    res = backtest(
        ss,
        horizon=horizon,
        origins=origins,
        step=step,
        methods=meths,
        out=out,
        progress=not quiet,
        source=src,
        **_train_kw(locals()),
    )
    Console().print(backtest_table(res))
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
    typer.echo(f"wrote {plot_run(run, out)}")
