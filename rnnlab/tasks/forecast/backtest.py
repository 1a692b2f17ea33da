"""Rolling-origin backtest: the RNN and the classical baselines on the same splits.

Origins are the last ``origins`` positions ``n - horizon - k * step`` of each series. The
RNN is trained on the data before the first origin, then fine-tuned at each later origin on
the windows that end before it; the baselines are refit at every origin on all the history
(ARIMA order and ETS form chosen once, on the first origin).

>>> res = backtest(ss, horizon=12, origins=8, members=5, refit_steps=100)  # doctest: +SKIP
>>> res["mean"]["rnn"]["sMAPE"], res["mean"]["snaive"]["sMAPE"]            # doctest: +SKIP
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from rnnlab.data.series import SeriesSet
from rnnlab.errors import InputError
from rnnlab.io import atomic_write_json
from rnnlab.tasks.forecast import baselines as bl
from rnnlab.tasks.forecast.config import ALL_METHODS, METHODS, ForecastTrain
from rnnlab.tasks.forecast.data import prepare, windows
from rnnlab.tasks.forecast.hybrid import HybridEnsemble
from rnnlab.tasks.forecast.infer import load_forecaster, rnn_forecast
from rnnlab.tasks.forecast.sf import SF_METHODS, sf_forecast
from rnnlab.tasks.forecast.train import refit, train_forecaster
from rnnlab.train.threads import SMALL_MODEL_THREADS, cpu_threads


def backtest(
    ss: SeriesSet,
    *,
    horizon: int,
    origins: int = 5,
    step: int | None = None,
    methods: tuple[str, ...] = METHODS,
    hybrid: dict[str, Any] | None = None,
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
    ``esrnn`` (the ES-RNN hybrid, ``hybrid``: its ``ESRNN`` options) is trained once on
    every series' history before its first origin (one network for the set); the
    statsforecast models (``SF_METHODS``) are refit at every origin; ``methods`` may be any
    of ``ALL_METHODS`` (the default is today's ``METHODS``; the CLI adds the others).

    A series too short for the RNN's lookback and validation is forecast with a shorter
    lookback (``res["notes"]`` says what was done); only a series with fewer points than
    one season + horizon (+ the later origins) is refused.

    Returns ``{"series": {name: {method: metrics}}, "mean": {method: metrics}, ...}``.

    >>> backtest(ss, horizon=12, origins=8, members=5, refit_steps=100)  # doctest: +SKIP
    """
    step = step or horizon
    unknown = set(methods) - set(ALL_METHODS)
    if unknown:
        raise InputError(
            f"unknown method(s) {sorted(unknown)}: choose from {', '.join(ALL_METHODS)}"
        )
    m = ss.season
    first = {s.name: len(s.values) - horizon - (origins - 1) * step for s in ss.series}
    for s in ss.series:
        if first[s.name] < max(m, 3):
            raise InputError(
                f"series {s.name!r} has {len(s.values)} points, fewer than one season + "
                f"horizon + the later origins = {max(m, 3)} + {horizon} + "
                f"{(origins - 1) * step} ({origins} origins, step {step}); use fewer "
                "--origins or a smaller --horizon"
            )
    notes: list[str] = []
    short = min(first.values())
    if "rnn" in methods and short < max(m, 3) + 2 * horizon:
        methods = tuple(k for k in methods if k != "rnn")
        notes.append(
            f"rnn skipped: the shortest history before the first origin has {short} points, "
            f"fewer than one season + validation + horizon = {max(m, 3)} + {horizon} + "
            f"{horizon} (esrnn and the classical methods forecast it)"
        )
    rnn_fc, rnn_info = {}, {}
    if "rnn" in methods:
        run_dir = Path(out) if out else Path(tempfile.mkdtemp(prefix="rnnlab-backtest-"))
        starts = [first[s.name] for s in ss.series]
        rnn_fc, rnn_info = _rnn_backtest(
            ss, run_dir, horizon, starts, origins, step, progress, train_kw
        )
        notes += rnn_info.pop("notes", [])
    hy_fc, hy_info = {}, {}
    if "esrnn" in methods:
        hy_fc, hy_info = _hybrid_backtest(ss, horizon, first, origins, step, hybrid or {})
        notes += hy_info.pop("notes", [])
    res: dict[str, Any] = {
        "series": {},
        "horizon": horizon,
        "origins": origins,
        "step": step,
        "season": m,
        # the test split: the first origin of every series (the next ones follow by ``step``)
        "split": {"first_origin": first},
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
                elif meth == "esrnn":
                    fc = hy_fc[i, k]
                elif meth in SF_METHODS:
                    fc = sf_forecast(meth, hist, horizon, m)
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
    res["notes"] = notes
    res["ranks"] = mase_ranks(res["series"], methods)
    res["winner"] = min(methods, key=lambda k: res["mean"][k]["MASE"])
    if rnn_info:
        res["rnn"] = rnn_info
    if hy_info:
        res["esrnn"] = hy_info
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
    t = ForecastTrain.from_dict(lf.config["train"])
    p = prepare(ss, lf.scalers, extra_cal=H)
    fcs = {}
    with cpu_threads(train_kw.get("threads", SMALL_MODEL_THREADS)):
        for k in range(origins):
            ends = [n + k * step for n in first]
            if k:
                refit(lf.model, p, windows(ends, lf.first_origin, H), t, t.seed + 1 + k)
            for i, n in enumerate(ends):
                fcs[i, k] = rnn_forecast(lf, ss, i, n, p)
    info = {
        "steps": summary["steps"],
        "refit_steps": t.refit_steps * origins,
        "best_val_loss": summary["best"],
        "stop": summary["stop_reason"],
        "level": lf.config["model"]["arch"]["level"],
        "train_s": time.monotonic() - t0,
        "train_cpu_s": time.process_time() - c0,
        "notes": [f"rnn: {n}" for n in summary.get("notes", [])],
    }
    return fcs, info


def _hybrid_backtest(
    ss: SeriesSet,
    H: int,
    first: dict[str, int],
    origins: int,
    step: int,
    options: dict[str, Any],
) -> tuple[dict[tuple[int, int], bl.Forecast], dict[str, Any]]:
    """The hybrid's forecasts at every (series, origin): one network trained on the
    history before each series' first origin; later origins refresh only its ES part."""
    t0, c0 = time.monotonic(), time.process_time()
    hy = HybridEnsemble.fit(
        [s.values[: first[s.name]] for s in ss.series],
        [s.name for s in ss.series],
        **{"horizon": H, "season": ss.season, **options},
    )
    fit_s = time.monotonic() - t0
    fcs, t1 = {}, time.monotonic()
    for i, s in enumerate(ss.series):
        for k in range(origins):
            fcs[i, k] = hy.forecast(s.values[: first[s.name] + k * step], s.name)
    info = {
        "train_s": fit_s,
        "train_cpu_s": time.process_time() - c0,
        "predict_ms": 1000 * (time.monotonic() - t1) / (origins * len(ss.series)),
        "lookbacks": hy.lookbacks,
        "notes": [f"esrnn: {n}" for n in hy.notes],
    }
    return fcs, info


def mase_ranks(per_series: dict[str, Any], methods: tuple[str, ...]) -> dict[str, float]:
    """Each method's mean rank by MASE over the series (1 = best; ties share the mean rank).

    >>> mase_ranks({"a": {"x": {"MASE": 1.0}, "y": {"MASE": 2.0}}}, ("x", "y"))
    {'x': 1.0, 'y': 2.0}
    """
    from scipy.stats import rankdata

    r = [rankdata([v[k]["MASE"] for k in methods]) for v in per_series.values()]
    return {k: float(np.mean([x[j] for x in r])) for j, k in enumerate(methods)}


def backtest_table(res: dict[str, Any]) -> Any:
    """A rich table: one row per (series, method), best MASE of each series in bold."""
    from rich.table import Table

    t = Table(title=f"rolling-origin backtest: horizon {res['horizon']}, {res['origins']} origins")
    t.add_column("series")
    t.add_column("method")
    for k in bl.METRICS:
        t.add_column(k, justify="right")
    blocks = list(res["series"].items()) + [("mean", res["mean"])]
    for name, per in blocks:
        methods = [k for k in per if not k.startswith("_")]
        best = min(methods, key=lambda k: per[k]["MASE"])
        for j, meth in enumerate(methods):
            cells = [
                f"{per[meth][k]:.3f}" if not k.startswith("cov") else f"{per[meth][k]:.0%}"
                for k in bl.METRICS
            ]
            style = "bold" if meth == best else None
            t.add_row(name if j == 0 else "", meth, *cells, style=style)
        t.add_section()
    return t
