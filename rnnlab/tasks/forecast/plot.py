"""The PNG of a forecast run: history, forecast with 80%/95% bands, and the errors.

>>> plot_run("runs/co2")            # doctest: +SKIP
PosixPath('runs/co2/forecast.png')
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from rnnlab.errors import CheckpointError
from rnnlab.io import atomic_write_bytes
from rnnlab.tasks.forecast.config import TASK
from rnnlab.train.checkpoint import load_run


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
