"""Training a forecaster: select on the validation part, calibrate, refit on all the data.

``train_forecaster`` holds out the last ``val_size`` points of each series (recorded in the
run as ``data.split``), trains the ensemble on the windows before them (``rnnlab.train.run``),
keeps the best checkpoint, calibrates its intervals on the validation windows, then fine-tunes
it on every window (``refit``, the shared ``rnnlab.train.loop.run_steps``) and writes
``forecast.json`` (the forecast from the end and the validation errors, for ``plot``).

>>> train_forecaster(ss, "runs/x", horizon=12, members=3, steps=500)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnlab.data.series import SeriesSet, future_index
from rnnlab.errors import InputError
from rnnlab.io import atomic_write_json
from rnnlab.tasks.forecast import baselines as bl
from rnnlab.tasks.forecast.config import (
    DEFAULT_STEPS,
    TASK,
    ForecastModel,
    ForecastTrain,
    training_settings,
)
from rnnlab.tasks.forecast.data import (
    Prepared,
    WindowBatches,
    fit_scalers,
    prepare,
    reads_level,
    stack_windows,
    windows,
)
from rnnlab.tasks.forecast.infer import LoadedForecaster, rnn_forecast
from rnnlab.tasks.forecast.model import (
    ForecastEnsemble,
    Forecaster,
    calibration_scale,
    forecast_loss,
    members_loss,
)
from rnnlab.train.checkpoint import save_run
from rnnlab.train.loop import TrainConfig, run_steps
from rnnlab.train.run import guard_out, train_run
from rnnlab.train.threads import SMALL_MODEL_THREADS, cpu_threads
from rnnlab.train.util import parse_duration, set_seed


def train_forecaster(
    ss: SeriesSet,
    out: str | Path,
    *,
    horizon: int,
    progress: bool = True,
    source: dict[str, Any] | None = None,
    threads: int = SMALL_MODEL_THREADS,
    **options: Any,
) -> dict[str, Any]:
    """Train on ``ss`` (validation = the last ``val_size`` points of each series) into ``out``.

    ``options`` are the fields of ``ForecastModel`` and ``ForecastTrain``; ``source`` the
    ``ForecastSource`` the CSV was read with (``predict`` reads a new one the same way).
    Returns ``train_run``'s summary. The run dir holds the best model (lowest validation
    loss, then calibrated and refit on all the data when asked), its config (scalers,
    split, columns, season...), the training log, and ``forecast.json``.
    """
    m, t = training_settings(horizon, **options)
    budget = parse_duration(t.time_budget)
    with cpu_threads(threads):
        return _train(ss, Path(out), m, t, budget, progress, source or {})


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


def _setup(ss: SeriesSet, m: ForecastModel, t: ForecastTrain, source: dict[str, Any]) -> _Setup:
    H = m.horizon
    if H < 1:
        raise InputError(f"--horizon must be >= 1, got {H}")
    if m.members < 1:
        raise InputError(f"--members must be >= 1, got {m.members}")
    if t.refit_steps < 0:
        raise InputError(f"--refit-steps must be >= 0, got {t.refit_steps}")
    lookbacks = m.lookbacks(H, ss.season)
    L = max(lookbacks)
    if m.lookback is not None and m.lookback < 2:
        raise InputError(f"--lookback must be >= 2, got {m.lookback}")
    lengths = [len(s.values) for s in ss.series]
    V = t.val_size if t.val_size is not None else max(2 * H, min(lengths) // 10)
    t0, notes = short_history(min(lengths), L, V, H, ss.season, t.val_size is None)
    if t0 < L:
        V = max(H, min(V, min(lengths) - H - t0))
        notes = notes.format(V=V)
    for s in ss.series:
        if len(s.values) < t0 + V + H:
            raise InputError(
                f"series {s.name!r} has {len(s.values)} points, fewer than "
                f"{'one season' if t0 < L else 'lookback'} + validation + horizon = "
                f"{t0} + {V} + {H}; use a smaller --horizon or a longer series"
            )
    if t.transform not in ("auto", "none", "log"):
        raise InputError(f"--transform must be auto, none or log, got {t.transform!r}")
    if t.transform == "log" and any(s.values.min() < 0 for s in ss.series):
        raise InputError("--transform log needs a non-negative series; use --transform none")
    train_end = {s.name: len(s.values) - V for s in ss.series}
    scalers = fit_scalers(ss, train_end, t.transform)
    p = prepare(ss, scalers)
    val_o = windows(lengths, t0, H, start=[n - V for n in lengths])
    arch = dict(
        n_feat=p.feats[0].shape[1],
        n_future=p.cal[0].shape[1],
        horizon=H,
        season=ss.season,
        hidden=m.hidden,
        layers=m.layers,
        cell=m.cell,
        dropout=m.dropout,
        head=m.head,
        linear=m.linear,
        level=reads_level(ss, V, m.level),
    )
    config = {
        "task": TASK,
        "model": {"settings": m.to_dict(), "arch": arch, "members": lookbacks, "lookback": L},
        "data": {
            "source": source,
            "series": [s.name for s in ss.series],
            "freq": ss.freq,
            "season": ss.season,
            "calendar": ss.calendar,
            "covariates": ss.covariate_names,
            "scalers": scalers,
            # validation = the points from train_end on, per series (never re-cut later)
            "split": {
                "val_size": V,
                "train_end": train_end,
                "length": {s.name: len(s.values) for s in ss.series},
                # the first forecast origin of a window (< lookback: left-padded)
                "first_origin": t0,
            },
            "notes": [notes] if notes else [],
            # a series never negative in training is forecast never negative (counts, amounts)
            "floor": {
                s.name: 0.0 if s.values[: train_end[s.name]].min() >= 0 else None for s in ss.series
            },
        },
        "train": t.to_dict(),
    }
    train_o = windows([n - V for n in lengths], t0, H)
    val = stack_windows(p, val_o, L, H)
    return _Setup(p, lookbacks, L, H, train_o, windows(lengths, t0, H), val, arch, config)


def short_history(n: int, L: int, V: int, H: int, m: int, may_shrink: bool) -> tuple[int, str]:
    """The first forecast origin of the training windows and a note: ``L`` when the shortest
    series holds lookback + validation + horizon, else one season (3 points at least), the
    windows before ``L`` left-padded (the note says so; ``{V}`` is filled in by the caller).

    >>> short_history(54, 36, 18, 18, 12, True)[0], short_history(500, 36, 50, 18, 12, True)[0]
    (12, 36)
    """
    if n >= L + V + H or not may_shrink:
        return L, ""
    t0 = max(min(m, L), 3)
    return t0, (
        f"short history ({n} points < lookback + validation + horizon = {L} + {V} + {H}): "
        f"windows start after {t0} points, left-padded to the lookback; validation {{V}} points"
    )


def _train(
    ss: SeriesSet,
    out: Path,
    m: ForecastModel,
    t: ForecastTrain,
    budget: float | None,
    progress: bool,
    source: dict[str, Any],
) -> dict[str, Any]:
    guard_out(out, TASK, resume=False)
    st = _setup(ss, m, t, source)
    H = st.H
    set_seed(t.seed)
    model = st.ensemble(t.seed)
    data = WindowBatches(st.p, st.train_o, st.L, H, t.batch * m.members, t.seed)
    steps = DEFAULT_STEPS if t.steps is None and budget is None else t.steps
    cfg = TrainConfig(
        steps=steps,
        time_budget=budget,
        lr=t.lr,
        weight_decay=t.weight_decay,
        warmup=50,
        eval_every=50,
        patience=0,
        log_every=25,
    )
    summary = train_run(
        model,
        cfg,
        out,
        config=st.config,
        data=data,
        step_fn=lambda b: (members_loss(model, b), b[3].numel()),
        eval_fn=lambda: {"val_loss": st.val_loss(model)},
        progress=progress,
    )
    model.eval()  # the best checkpoint, reloaded by train_run
    lf = LoadedForecaster(model, {**st.config, "metrics": summary["metrics"]})
    p = prepare(ss, st.config["data"]["scalers"], extra_cal=H)  # scalers do not change below
    val_mae = _val_mae(lf, ss, p)  # before the refit sees the validation part
    if t.calibrate:
        y, f, c, target = st.val
        with torch.no_grad():
            model.scale.copy_(calibration_scale(model(y, f, c), target, m.head))
    refit(model, st.p, st.all_o, t, seed=t.seed + 1)
    save_run(out, model.state_dict(), lf.config)
    _write_forecast_json(lf, ss, out, p, val_mae)
    return {**summary, "notes": st.config["data"]["notes"]}


def refit(
    model: ForecastEnsemble,
    p: Prepared,
    origins: list[tuple[int, int]],
    t: ForecastTrain,
    seed: int = 0,
) -> None:
    """Fine-tune from the current weights for ``t.refit_steps`` on the windows at ``origins``
    (lr ``t.refit_lr`` decaying to 0): how the RNN takes in new history, as the baselines
    are refit on it. Leaves the model in eval mode.

    >>> refit(lf.model, p, [(0, t) for t in range(24, 100)], ForecastTrain())  # doctest: +SKIP
    """
    if not t.refit_steps or not origins:
        return
    L, H = max(m.lookback for m in model.members), model.members[0].horizon
    data = WindowBatches(p, origins, L, H, t.batch * len(model.members), seed)
    cfg = TrainConfig(  # cosine from refit_lr to 0, no warmup
        steps=t.refit_steps, lr=t.refit_lr, weight_decay=t.weight_decay, warmup=0, min_lr_ratio=0
    )
    run_steps(model, cfg, data, lambda b: (members_loss(model, b), 0))


def _val_mae(lf: LoadedForecaster, ss: SeriesSet, p: Prepared) -> list[dict[str, list[float]]]:
    """Validation MAE per step ahead, RNN and seasonal naive, of the first 4 series (for plot)."""
    H, m = lf.horizon, lf.config["data"]["season"]
    split = lf.config["data"]["split"]
    res = []
    for i, s in enumerate(ss.series[:4]):
        n = len(s.values)
        err_r, err_s = np.zeros(H), np.zeros(H)
        origins = range(split["train_end"][s.name], n - H + 1)
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
    H = lf.horizon
    series = []
    for i, (s, mae) in enumerate(zip(ss.series[:4], val_mae)):
        n = len(s.values)
        fc = rnn_forecast(lf, ss, i, n, p)
        tail = max(0, n - max(4 * lf.lookback, 100))
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
