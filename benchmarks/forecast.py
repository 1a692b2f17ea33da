"""Forecasting benchmark (issue 8): rolling-origin backtest of the RNN against naive, seasonal
naive, ARIMA and ETS on three series shipped inside statsmodels (no download):

- co2: Mauna Loa CO2, weekly 1958-2001 averaged to months (526 points, season 12, trend)
- sunspots: yearly sunspot numbers 1700-2008 (309 points, ~11-year cycle, detected)
- elnino: monthly sea surface temperature 1950-2010 (732 points, season 12)

Targets: the RNN beats seasonal naive (sMAPE) on every series, and matches or beats the best
of ARIMA/ETS on at least two of three; RNN training under 2 minutes per series.

The RNN runs with the library defaults (``ForecastModel``, ``ForecastTrain``): an ensemble of 5 LSTMs (hidden 16,
lookbacks 1x/1.5x/2x two seasons), 400 steps each, a 100-step refit on all the data and
again at each of the 8 origins. Its training time (refits included) is reported as wall
clock and as CPU seconds of the process: with one torch thread the CPU seconds are what an
idle core would take, the wall clock grows with whatever else the machine runs.

    python benchmarks/forecast.py            # the full run (a few minutes)
    python benchmarks/forecast.py --quick    # a smoke run with a short training budget
    taskset -c 1 python benchmarks/forecast.py --members 10 --steps 500   # other settings
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import pandas as pd

from rnnlab.data.series import read_series
from rnnlab.tasks.forecast.backtest import backtest, backtest_table

# name -> (target column, time column, horizon)
SERIES = {
    "co2": ("co2", "date", 12),
    "sunspots": ("SUNACTIVITY", "YEAR", 11),
    "elnino": ("sst", "date", 12),
}


def write_csvs(d: Path) -> None:
    """The three statsmodels datasets as the CSVs a user would bring."""
    from statsmodels import datasets as sd

    co2 = sd.co2.load_pandas().data.resample("MS").mean()  # 5 empty months: interpolated
    co2.index.name = "date"
    co2.to_csv(d / "co2.csv")
    s = sd.sunspots.load_pandas().data
    s["YEAR"] = s["YEAR"].astype(int)
    s.to_csv(d / "sunspots.csv", index=False)
    e = sd.elnino.load_pandas().data  # wide: one row per year, one column per month
    vals = e.iloc[:, 1:].to_numpy().ravel()
    idx = pd.date_range(f"{int(e['YEAR'].iloc[0])}-01-01", periods=len(vals), freq="MS")
    pd.DataFrame({"date": idx.strftime("%Y-%m-%d"), "sst": vals}).to_csv(
        d / "elnino.csv", index=False
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short training, 3 origins")
    ap.add_argument("--origins", type=int, default=8)
    ap.add_argument("--steps", type=int, default=None, help="per member (default 400)")
    ap.add_argument("--members", type=int, default=None, help="ensemble size (default 5)")
    ap.add_argument("--refit-steps", type=int, default=None, help="per origin (default 100)")
    ap.add_argument("--series", default=",".join(SERIES))
    ap.add_argument("--cell", default=None, help="default lstm")
    ap.add_argument("--out", default="runs/bench-forecast")
    a = ap.parse_args()
    if a.quick:
        a.origins, a.steps, a.members, a.refit_steps = 3, 150, 2, 20
    opts = {
        k: v
        for k, v in dict(
            steps=a.steps, members=a.members, refit_steps=a.refit_steps, cell=a.cell
        ).items()
        if v is not None
    }
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    out = Path(a.out)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        write_csvs(Path(tmp))
        for name in a.series.split(","):
            target, tcol, h = SERIES[name]
            ss = read_series(Path(tmp) / f"{name}.csv", target, time_col=tcol)
            t0 = time.monotonic()
            res = backtest(
                ss,
                horizon=h,
                origins=a.origins,
                out=out / name,
                progress=False,
                source=dict(target=target, time_col=tcol, season=ss.season),
                **opts,
            )
            res["wall_s"] = time.monotonic() - t0
            results[name] = res
            from rich.console import Console

            Console().print(backtest_table(res))
            print(f"{name}: season {ss.season}, RNN {res['rnn']}")
    rows, wins_sn, wins_cl = [], 0, 0
    for name, res in results.items():
        r = res["mean"]
        best_cl = min(r["arima"]["sMAPE"], r["ets"]["sMAPE"])
        beat_sn = r["rnn"]["sMAPE"] < r["snaive"]["sMAPE"]
        beat_cl = r["rnn"]["sMAPE"] <= best_cl * 1.0
        wins_sn += beat_sn
        wins_cl += beat_cl
        rows.append(
            f"| {name} | "
            + " | ".join(f"{r[k]['sMAPE']:.2f}" for k in ("rnn", "naive", "snaive", "arima", "ets"))
            + f" | {r['rnn']['MASE']:.3f} | {r['rnn']['cov80']:.0%} / {r['rnn']['cov95']:.0%}"
            f" | {res['train_s']:.0f} s / {res['train_cpu_s']:.0f} s |"
        )
    print(
        "\n| series | RNN | naive | s-naive | ARIMA | ETS | RNN MASE | RNN cov 80/95"
        " | train wall / CPU |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    n = len(results)
    print(f"\nRNN beats seasonal naive (sMAPE) on {wins_sn}/{n} series (target {n}/{n})")
    print(f"RNN <= best of ARIMA/ETS (sMAPE) on {wins_cl}/{n} series (target 2/3)")
    tmax = max(r["train_s"] for r in results.values())
    cmax = max(r["train_cpu_s"] for r in results.values())
    print(f"longest RNN training {tmax:.0f}s wall, {cmax:.0f}s CPU (target < 120 s)")
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    out.mkdir(parents=True, exist_ok=True)
    summary = {
        k: {
            "mean": v["mean"],
            "train_s": v["train_s"],
            "train_cpu_s": v["train_cpu_s"],
            "rnn": v["rnn"],
        }
        for k, v in results.items()
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=float))


if __name__ == "__main__":
    main()
