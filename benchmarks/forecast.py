"""Forecasting benchmark (issues 8, 23): rolling-origin backtests of rnnlab's forecasters
against its own baselines and Nixtla's statsforecast (AutoARIMA, AutoETS, AutoTheta,
SeasonalNaive) on 13 series that ship inside statsmodels (nothing is downloaded):

- monthly (horizon 18): co2 (Mauna Loa, weekly averaged to months, 526), elnino (sea surface
  temperature, 732), elec_equip (euro-area electrical equipment orders, 257)
- quarterly (horizon 8): macrodata realgdp, realinv, cpi, unemp (203 each), interest_inflation
  R (107), danish_data lrm (55)
- yearly (horizon 6): sunspots (309), nile (100), fertility India, Japan (54 each)

M4-style horizons, 5 rolling origins one horizon apart, season 12 / 4 / 1. Each frequency is
one SeriesSet: the RNNs (``rnn``: the direct quantile ensemble; ``esrnn``: the ES-RNN hybrid)
are trained once per frequency on all its series (global), before each series' first origin;
the classical models are refit at every origin. Printed: per series and on average, MASE,
sMAPE and 80/95% coverage of every method; each method's mean MASE rank; the targets of
issue 23.

    python benchmarks/forecast.py                      # everything (several minutes)
    python benchmarks/forecast.py --quick              # esrnn + statsforecast, short training
    python benchmarks/forecast.py --freq monthly --methods esrnn,AutoETS,SeasonalNaive
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from rnnlab.data.series import Series, SeriesSet
from rnnlab.tasks.forecast.backtest import backtest, mase_ranks
from rnnlab.tasks.forecast.config import ALL_METHODS

FREQS = {"monthly": (12, 18), "quarterly": (4, 8), "yearly": (1, 6)}  # season, M4 horizon
SF = ("AutoARIMA", "AutoETS", "AutoTheta")


def benchmark_set() -> dict[str, dict[str, np.ndarray]]:
    """{frequency: {name: values}}: the 13 series, from statsmodels' bundled CSVs."""
    from statsmodels import datasets as sd
    from statsmodels.datasets import elec_equip

    co2 = sd.co2.load_pandas().data["co2"].resample("MS").mean().interpolate()
    e = sd.elnino.load_pandas().data.iloc[:, 1:].to_numpy().ravel()
    ee = elec_equip.load().data.iloc[:, 0].to_numpy()
    mac = sd.macrodata.load_pandas().data
    ii = sd.interest_inflation.load_pandas().data
    dk = sd.danish_data.load_pandas().data
    fert = sd.fertility.load_pandas().data.set_index("Country Name").iloc[:, 3:]
    sun = sd.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy()
    nile = sd.nile.load_pandas().data["volume"].to_numpy()
    return {
        "monthly": {"co2": co2.to_numpy(), "elnino": e, "elec_equip": ee},
        "quarterly": {
            **{k: mac[k].to_numpy() for k in ("realgdp", "realinv", "cpi", "unemp")},
            "interest_R": ii["R"].to_numpy(),
            "danish_lrm": dk["lrm"].to_numpy(),
        },
        "yearly": {
            "sunspots": sun,
            "nile": nile,
            **{f"fert_{c}": fert.loc[c].dropna().to_numpy(float) for c in ("India", "Japan")},
        },
    }


def series_set(values: dict[str, np.ndarray], season: int) -> SeriesSet:
    ss = [
        Series(k, np.asarray(v, float), np.zeros((len(v), 0)), [str(i) for i in range(len(v))])
        for k, v in values.items()
    ]
    return SeriesSet(ss, None, season)


def _table(per: dict[str, dict], methods: list[str]) -> str:
    head = "| series | " + " | ".join(methods) + " |"
    rows = [head, "|" + "---|" * (len(methods) + 1)]
    for name, r in per.items():
        here = [k for k in methods if k in r]
        best = min(here, key=lambda k: r[k]["MASE"])
        cells = [
            "-"
            if k not in r
            else (f"**{r[k]['MASE']:.3f}**" if k == best else f"{r[k]['MASE']:.3f}")
            + f" / {r[k]['sMAPE']:.1f} / {r[k]['cov80']:.0%} / {r[k]['cov95']:.0%}"
            for k in methods
        ]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def report(per: dict, groups: dict[str, list[str]], info: dict, methods: list[str]) -> dict:
    """The average rows, the ranks and the targets of issue 23 (printed); returns them.
    A method that skipped a series (the ``rnn`` on too short a history) is left out of the
    ranks and of the rows of its frequency and of "all"."""
    print("\ncells: MASE / sMAPE / cov80 / cov95; bold = best MASE of the row")
    means = {}
    for freq, names in [*groups.items(), ("all", [n for g in groups.values() for n in g])]:
        means[freq] = {
            k: {q: float(np.mean([per[n][k][q] for n in names])) for q in per[names[0]][k]}
            for k in methods
            if all(k in per[n] for n in names)
        }
    print(_table(means, methods))
    everywhere = tuple(k for k in methods if all(k in v for v in per.values()))
    ranks = mase_ranks(per, everywhere)
    print(
        f"\nmean MASE rank over the {len(per)} series (1 = best): "
        + ", ".join(f"{k} {r:.2f}" for k, r in sorted(ranks.items(), key=lambda kv: kv[1]))
    )
    if "esrnn" in methods:
        for freq, mm in means.items():
            best_sf = min((k for k in SF if k in mm), key=lambda k: mm[k]["MASE"], default=None)
            msg = f"{freq}: esrnn MASE {mm['esrnn']['MASE']:.3f}"
            if best_sf:
                msg += f" vs best statsforecast {best_sf} {mm[best_sf]['MASE']:.3f}"
            if "SeasonalNaive" in mm:
                msg += f", SeasonalNaive {mm['SeasonalNaive']['MASE']:.3f}"
            msg += f"; coverage {mm['esrnn']['cov80']:.0%} / {mm['esrnn']['cov95']:.0%}"
            print(msg)
        for freq, v in info.items():
            e = v["esrnn"]
            print(
                f"{freq}: esrnn train {e['train_s']:.1f}s ({e['train_cpu_s']:.1f}s CPU), "
                f"predict {e['predict_ms']:.1f} ms per forecast; backtest {v['wall_s']:.0f}s"
            )
    return {"mean": means, "ranks": ranks}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="no rnn/arima/ets; short training")
    ap.add_argument("--origins", type=int, default=5)
    ap.add_argument("--freq", default=",".join(FREQS))
    ap.add_argument("--methods", default=",".join(ALL_METHODS))
    ap.add_argument("--steps", type=int, default=None, help="esrnn steps (default 400)")
    ap.add_argument("--members", type=int, default=None, help="esrnn members per ES fit (3)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="runs/bench-forecast")
    ap.add_argument("--merge", default=None, help="out dirs of runs to report together (a,b)")
    a = ap.parse_args()
    if a.merge:  # e.g. one run per frequency, in parallel
        runs = [json.loads((Path(d) / "summary.json").read_text()) for d in a.merge.split(",")]
        per = {k: v for r in runs for k, v in r["series"].items()}
        groups = {k: v for r in runs for k, v in r["groups"].items()}
        info = {k: v for r in runs for k, v in r["info"].items()}
        for freq, names in groups.items():
            print(f"\n{freq}: " + ("; ".join(info[freq]["notes"]) or "no fallbacks"))
            print(_table({n: per[n] for n in names}, runs[0]["methods"]))
        report(per, groups, info, runs[0]["methods"])
        return
    methods = tuple(a.methods.split(","))
    hyb = {k: v for k, v in dict(steps=a.steps, members=a.members).items() if v is not None}
    hyb["seed"] = a.seed
    if a.quick:
        methods = ("esrnn", "snaive", *SF, "SeasonalNaive")
        hyb.setdefault("steps", 150)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    data = benchmark_set()
    per: dict[str, dict] = {}
    groups: dict[str, list[str]] = {}
    info = {}
    for freq in a.freq.split(","):
        m, h = FREQS[freq]
        t0 = time.monotonic()
        res = backtest(
            series_set(data[freq], m),
            horizon=h,
            origins=a.origins,
            methods=methods,
            progress=False,
            hybrid=hyb,
        )
        info[freq] = {
            "wall_s": time.monotonic() - t0,
            "fit_predict_s": res["fit_predict_s"],
            "esrnn": res.get("esrnn"),
            "rnn_train_s": res.get("train_s"),
            "notes": res["notes"],
        }
        groups[freq] = list(res["series"])
        per.update({k: {q: v[q] for q in methods if q in v} for k, v in res["series"].items()})
        print(
            f"\n{freq} (season {m}, horizon {h}): {time.monotonic() - t0:.0f}s; "
            + ("; ".join(res["notes"]) or "no fallbacks")
        )
        print(_table({k: per[k] for k in groups[freq]}, list(methods)))
    out_ = report(per, groups, info, list(methods))
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    summary = {"series": per, "groups": groups, "info": info, "methods": list(methods), **out_}
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=float))


if __name__ == "__main__":
    pd.set_option("display.width", 200)
    main()
