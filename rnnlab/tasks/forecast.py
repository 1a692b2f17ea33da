"""Time-series forecasting with an RNN, measured against the classical baselines.

Model: an encoder RNN (``rnnlab.core.make_rnn``) reads the lookback window (target scaled
per series on the training part only, covariates, calendar features) and a direct
multi-horizon head predicts all ``horizon`` steps at once, as quantiles (or a Gaussian).
Direct rather than autoregressive: no error feedback through the horizon, one forward pass,
and intervals come out calibrated per step instead of from sampling.

The head predicts a *correction* to the seasonal naive forecast of the window (the last
season repeated), and the RNN sees the window relative to its last value, so the model
starts from the baseline it must beat and is insensitive to the level of a trending series.

    rnnlab forecast train --csv co2.csv --target co2 --horizon 12 --out runs/co2
    rnnlab forecast predict runs/co2 --csv co2.csv --out forecast.csv
    rnnlab forecast backtest --csv co2.csv --target co2 --horizon 12 --origins 8
    rnnlab forecast plot runs/co2
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
import time
import warnings
from dataclasses import dataclass
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
    window_starts,
)
from rnnlab.errors import CheckpointError, InputError
from rnnlab.tasks import baselines as bl
from rnnlab.train.checkpoint import atomic_write_bytes, atomic_write_json, load_run, save_run

TASK = "forecast"
QUANTILES = (0.025, 0.1, 0.5, 0.9, 0.975)  # median + the 80% and 95% interval ends
METHODS = ("rnn", "naive", "snaive", "arima", "ets")

app = typer.Typer(help="Time-series forecasting against classical baselines.", no_args_is_help=True)


# ---- model ----


class Forecaster(nn.Module):
    """Encoder RNN + direct multi-horizon quantile/Gaussian head on top of seasonal naive.

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
    ):
        from rnnlab.core import make_rnn

        super().__init__()
        if head not in ("quantile", "gaussian"):
            raise InputError(f"unknown --head {head!r}: use quantile or gaussian")
        self.horizon, self.season, self.head_kind = horizon, season, head
        self.n_out = len(QUANTILES) if head == "quantile" else 2
        # inputs per step: target relative to the window's last value, target (scaled), features
        self.rnn = make_rnn(cell, 2 + n_feat, hidden, layers, dropout=dropout, batch_first=True)
        self.head = nn.Sequential(
            nn.Linear(hidden + 1 + n_future * horizon, hidden),
            nn.GELU(),
            nn.Linear(hidden, horizon * self.n_out),
        )
        nn.init.zeros_(self.head[-1].weight)  # start exactly at the seasonal naive forecast
        nn.init.zeros_(self.head[-1].bias)

    def base(self, y: torch.Tensor) -> torch.Tensor:
        """Seasonal naive forecast of each window (naive when the season does not fit)."""
        L, m = y.shape[1], self.season
        steps = torch.arange(self.horizon, device=y.device)
        if 1 < m <= L:
            return y[:, L - m + steps % m]
        return y[:, -1:].expand(-1, self.horizon)

    def forward(self, y: torch.Tensor, feats: torch.Tensor, fut: torch.Tensor) -> torch.Tensor:
        """``y`` (B,L) scaled target, ``feats`` (B,L,F), ``fut`` (B,H,K) -> (B,H,n_out)."""
        last = y[:, -1:]
        x = torch.cat([(y - last).unsqueeze(-1), y.unsqueeze(-1), feats], -1)
        out, _ = self.rnn(x)
        z = torch.cat([out[:, -1], last, fut.flatten(1)], 1)
        o = self.head(z).view(-1, self.horizon, self.n_out)  # -1, not len(y): exportable
        mid = self.base(y) + o[..., 0]
        if self.head_kind == "gaussian":
            return torch.stack([mid, F.softplus(o[..., 1] - 1) + 1e-3], -1)
        # monotone quantiles: median, then softplus steps outwards (never crossing)
        d = F.softplus(o[..., 1:] - 1) + 1e-4
        lo1 = mid - d[..., 1]
        hi1 = mid + d[..., 2]
        return torch.stack([lo1 - d[..., 0], lo1, mid, hi1, hi1 + d[..., 3]], -1)


def forecast_loss(out: torch.Tensor, target: torch.Tensor, head: str) -> torch.Tensor:
    """Pinball loss over the quantiles, or the Gaussian negative log-likelihood."""
    if head == "gaussian":
        return F.gaussian_nll_loss(out[..., 0], target, out[..., 1] ** 2, full=True)
    q = torch.tensor(QUANTILES, device=out.device)
    e = target.unsqueeze(-1) - out
    return torch.maximum(q * e, (q - 1) * e).mean()


def _to_forecast(out: np.ndarray, sc: Scaler, head: str) -> bl.Forecast:
    """Model output (H, n_out) in scaled units -> a Forecast in the data's units."""
    if head == "gaussian":
        return bl.Forecast.gaussian(sc.inverse(out[:, 0]), out[:, 1] * sc.std)
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


def _fit_scalers(ss: SeriesSet, n_train: dict[str, int]) -> dict[str, Any]:
    """Scalers fit on the first ``n_train[name]`` points of each series only."""
    tgt, cov = {}, {}
    for s in ss.series:
        n = n_train[s.name]
        sc = Scaler.fit(s.values[:n])
        tgt[s.name] = [sc.mean, sc.std]
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


def train_forecaster(
    ss: SeriesSet,
    out: str | Path,
    *,
    horizon: int,
    lookback: int | None = None,
    cell: str = "gru",
    hidden: int = 64,
    layers: int = 1,
    dropout: float = 0.0,
    head: str = "quantile",
    steps: int | None = None,
    time_budget: float | None = None,
    lr: float = 3e-3,
    batch: int = 64,
    val_size: int | None = None,
    seed: int = 0,
    progress: bool = True,
    source: dict[str, Any] | None = None,
    threads: int = 1,
) -> dict[str, Any]:
    """Train on ``ss`` (validation = the last ``val_size`` points of each series) into ``out``.

    Returns the fit summary. The run dir holds the best model (lowest validation loss), its
    config (scalers, columns, season...), the training log, and ``forecast.json`` (the
    forecast from the end of the data + validation errors per step, for ``plot``).
    ``threads``: torch intra-op threads; these models are tiny, and on a busy machine one
    thread is many times faster than two fighting for cores (measured: 12 ms vs 210 ms/step).
    """
    n_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return _train(
            ss,
            out,
            horizon,
            lookback,
            cell,
            hidden,
            layers,
            dropout,
            head,
            steps,
            time_budget,
            lr,
            batch,
            val_size,
            seed,
            progress,
            source,
        )
    finally:
        torch.set_num_threads(n_threads)


def _train(
    ss,
    out,
    horizon,
    lookback,
    cell,
    hidden,
    layers,
    dropout,
    head,
    steps,
    time_budget,
    lr,
    batch,
    val_size,
    seed,
    progress,
    source,
) -> dict[str, Any]:
    from rnnlab.train.loop import TrainConfig, fit
    from rnnlab.train.util import set_seed

    if horizon < 1:
        raise InputError(f"--horizon must be >= 1, got {horizon}")
    L = lookback or default_lookback(horizon, ss.season)
    if L < 2:
        raise InputError(f"--lookback must be >= 2, got {L}")
    n_min = min(len(s.values) for s in ss.series)
    V = val_size if val_size is not None else max(2 * horizon, n_min // 10)
    n_train = {s.name: len(s.values) - V for s in ss.series}
    for s in ss.series:
        check_length(len(s.values), L + V, horizon, s.name, "")
    set_seed(seed)
    scalers = _fit_scalers(ss, n_train)
    p = _prepare(ss, scalers)
    train_o = [
        (i, int(st) + L)
        for i, s in enumerate(ss.series)
        for st in window_starts(n_train[s.name], L, horizon)
    ]
    val_o = [
        (i, t)
        for i, s in enumerate(ss.series)
        for t in range(len(s.values) - V, len(s.values) - horizon + 1)
    ]
    n_feat, n_fut = p.feats[0].shape[1], p.cal[0].shape[1]
    arch = dict(
        n_feat=n_feat,
        n_future=n_fut,
        horizon=horizon,
        season=ss.season,
        hidden=hidden,
        layers=layers,
        cell=cell,
        dropout=dropout,
        head=head,
    )
    model = Forecaster(**arch)
    data = WindowBatches(p, train_o, L, horizon, batch, seed)
    vy, vf, vc, vt = _stack(p, val_o, L, horizon)
    config = {
        "task": TASK,
        "arch": arch,
        "lookback": L,
        "horizon": horizon,
        "season": ss.season,
        "freq": ss.freq,
        "calendar": ss.calendar,
        "covariates": ss.covariate_names,
        "series": [s.name for s in ss.series],
        "scalers": scalers,
        "source": source or {},
        "val_size": V,
    }

    def step_fn(b):
        y, f, c, t = b
        return forecast_loss(model(y, f, c), t, head), t.numel()

    def eval_fn():
        return {"val_loss": float(forecast_loss(model(vy, vf, vc), vt, head))}

    def save_fn(run_dir: Path, metrics: dict[str, Any]) -> None:
        save_run(run_dir, model.state_dict(), {**config, "metrics": metrics})

    if steps is None and time_budget is None:
        steps = 1500
    cfg = TrainConfig(
        steps=steps,
        time_budget=time_budget,
        lr=lr,
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
        step_fn=step_fn,
        eval_fn=eval_fn,
        save_fn=save_fn,
        progress=progress,
    )
    model = load_forecaster(out)
    _write_forecast_json(model, ss, out)
    return summary


@dataclass
class LoadedForecaster:
    model: Forecaster
    config: dict[str, Any]


def load_forecaster(run_dir: str | Path) -> LoadedForecaster:
    """Load a forecast run (eval mode); another task's run is a ``CheckpointError``."""
    from rnnlab.train.checkpoint import load_weights_into

    tensors, cfg = load_run(run_dir, task=TASK)
    try:
        model = Forecaster(**cfg["arch"])
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
    return _to_forecast(out, Scaler(*cfg["scalers"]["target"][s.name]), cfg["arch"]["head"])


def _write_forecast_json(lf: LoadedForecaster, ss: SeriesSet, run_dir: str | Path) -> None:
    """History tail + forecast from the end + validation MAE per step (RNN vs seasonal naive)."""
    cfg = lf.config
    H, V, m = cfg["horizon"], cfg["val_size"], cfg["season"]
    p = _prepare(ss, cfg["scalers"], extra_cal=H)
    series = []
    for i, s in enumerate(ss.series[:4]):
        n = len(s.values)
        fc = rnn_forecast(lf, ss, i, n, p)
        err_r, err_s = np.zeros(H), np.zeros(H)
        origins = range(n - V, n - H + 1)
        for t in origins:
            err_r += np.abs(rnn_forecast(lf, ss, i, t, p).mean - s.values[t : t + H])
            err_s += np.abs(bl.seasonal_naive(s.values[:t], H, m).mean - s.values[t : t + H])
        tail = max(0, n - max(4 * cfg["lookback"], 100))
        series.append(
            {
                "name": s.name,
                "time": s.index[tail:],
                "values": s.values[tail:].tolist(),
                "future": future_index(s.index, ss.freq, H),
                **{k: getattr(fc, k).tolist() for k in ("mean", "lo80", "hi80", "lo95", "hi95")},
                "val_mae": {
                    "rnn": (err_r / len(origins)).tolist(),
                    "snaive": (err_s / len(origins)).tolist(),
                },
            }
        )
    atomic_write_json(Path(run_dir) / "forecast.json", {"series": series})


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
    RNN is trained once on the data before the first origin (its validation part included)
    and then fed the history up to each origin; the baselines are refit at every origin on
    all the history (ARIMA order and ETS form chosen once, on the first origin).

    Returns ``{"series": {name: {method: metrics}}, "mean": {method: metrics}, ...}``.
    """
    step = step or horizon
    unknown = set(methods) - set(METHODS)
    if unknown:
        raise InputError(f"unknown method(s) {sorted(unknown)}: choose from {', '.join(METHODS)}")
    m = ss.season
    first = {s.name: len(s.values) - horizon - (origins - 1) * step for s in ss.series}
    lf, train_s = None, 0.0
    if "rnn" in methods:
        cut = SeriesSet(
            [
                type(s)(
                    s.name,
                    s.values[: first[s.name]],
                    s.covariates[: first[s.name]],
                    s.index[: first[s.name]],
                )
                for s in ss.series
            ],
            ss.freq,
            ss.season,
            ss.covariate_names,
            ss.calendar,
        )
        run_dir = Path(out) if out else Path(tempfile.mkdtemp(prefix="rnnlab-backtest-"))
        t0 = time.monotonic()
        summary = train_forecaster(cut, run_dir, horizon=horizon, progress=progress, **train_kw)
        train_s = time.monotonic() - t0
        lf = load_forecaster(run_dir)
        p = _prepare(ss, lf.config["scalers"], extra_cal=horizon)
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
        if first[s.name] < max(8, 2 * m if m > 1 else 8):
            raise InputError(
                f"series {s.name!r} ({len(y)} points) is too short for {origins} origins of "
                f"horizon {horizon}; use fewer --origins or a smaller --horizon"
            )
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
                    fc = rnn_forecast(lf, ss, i, o, p)
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
    res["train_s"] = train_s
    res["fit_predict_s"] = timing
    if lf is not None:
        res["rnn"] = {
            "steps": summary["steps"],
            "best_val_loss": summary["best"],
            "stop": summary["stop_reason"],
        }
    if out:
        atomic_write_json(Path(out) / "backtest.json", res)
    return res


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
_LB = typer.Option(None, "--lookback", help="History steps the RNN reads (default: 2 seasons).")
_CELL = typer.Option("gru", "--cell", help="rnn, rnn_relu, gru, lstm, mingru or minlstm.")


def _train_kw(lookback, cell, hidden, layers, head, steps, time_budget, lr, seed):
    from rnnlab.train.util import parse_duration

    return dict(
        lookback=lookback,
        cell=cell,
        hidden=hidden,
        layers=layers,
        head=head,
        steps=steps,
        time_budget=parse_duration(time_budget),
        lr=lr,
        seed=seed,
    )


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
    hidden: int = typer.Option(64, help="RNN hidden size."),
    layers: int = typer.Option(1, help="Stacked RNN layers."),
    head: str = typer.Option("quantile", help="quantile (pinball loss) or gaussian (NLL)."),
    steps: int = typer.Option(None, help="Optimizer steps (default 1500 without --time-budget)."),
    time_budget: str = typer.Option(None, "--time-budget", help="Wall-clock budget, e.g. 90s, 2m."),
    lr: float = typer.Option(3e-3, help="Peak learning rate."),
    seed: int = typer.Option(0, help="Random seed."),
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
        **_train_kw(lookback, cell, hidden, layers, head, steps, time_budget, lr, seed),
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
    hidden: int = typer.Option(64, help="RNN hidden size."),
    layers: int = typer.Option(1, help="Stacked RNN layers."),
    head: str = typer.Option("quantile", help="quantile or gaussian."),
    steps: int = typer.Option(None, help="Optimizer steps (default 1500 without --time-budget)."),
    time_budget: str = typer.Option(None, "--time-budget", help="Wall-clock budget, e.g. 90s, 2m."),
    lr: float = typer.Option(3e-3, help="Peak learning rate."),
    seed: int = typer.Option(0, help="Random seed."),
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
        **_train_kw(lookback, cell, hidden, layers, head, steps, time_budget, lr, seed),
    )
    Console().print(backtest_table(res))
    typer.echo(f"season {ss.season}; RNN training {res['train_s']:.0f}s")


@app.command()
def plot(
    run: Path = typer.Argument(..., help="Run directory (train or backtest --out)."),
    out: Path = typer.Option(None, "--out", help="PNG path (default RUN/forecast.png)."),
) -> None:
    """PNG: history, forecast, 80%/95% intervals, backtest (or validation) errors."""
    typer.echo(f"wrote {plot_run(run, out)}")
