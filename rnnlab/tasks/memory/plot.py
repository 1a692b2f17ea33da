"""The memory lab's figures: one run's learning and gradient curves, a sweep's verdicts.

matplotlib is imported when a figure is drawn (an optional, heavy dependency).

>>> plot_run(json.load(open("runs/m/results.json")), "memory.png")   # doctest: +SKIP
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

from rnnlab.data import synthetic
from rnnlab.io import atomic_write_bytes
from rnnlab.tasks.memory.config import ACC_SOLVED
from rnnlab.tasks.memory.report import metric_name, run_length


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return buf.getvalue()


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _distance_axis(curve: list[float]) -> tuple[list[int], list[float]]:
    """(distance from the loss, norm) with exact zeros dropped (log axis)."""
    T = len(curve)
    pts = [(T - 1 - t, v) for t, v in enumerate(curve) if v > 0 and math.isfinite(v)]
    return [d for d, _ in pts], [v for _, v in pts]


def plot_run(result: dict[str, Any], path: str | Path) -> Path:
    """Learning curve (left) and ‖∂L/∂h_t‖ vs distance (right) of one run, as a PNG."""
    plt = _pyplot()
    c = result["config"]
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.3))
    tr = result["curve"]["train"]
    if tr:
        a.plot([s for s, _ in tr], [v for _, v in tr], label="train loss", lw=1)
    key = metric_name(c["memory_task"])
    va = result["curve"]["val"]
    a.plot([s for s, _ in va], [m[key] for _, m in va], "o-", ms=3, label=f"val {key}")
    if key == "mse":
        a.axhline(synthetic.ADDING_BASELINE_MSE, color="gray", ls=":", label="trivial 1/6")
        a.axhline(c["solved_ratio"] / 6, color="green", ls="--", lw=0.8, label="solved below")
        a.set_yscale("log")
    a.set_xlabel("step")
    a.set_title(f"{c['memory_task']} T={c['length']} {c['cell']}: {result['verdict']}")
    a.legend(fontsize=7)
    for name, style in (("init", "--"), ("trained", "-")):
        d, v = _distance_axis(result["grad_norm"][name])
        b.plot(d, v, style, label=name)
    b.set_yscale("log")
    b.set_xlabel("distance from the end of the sequence (steps)")
    b.set_ylabel("‖∂L/∂h_t‖")
    b.set_title("gradient reaching step t (engine trace)")
    b.legend(fontsize=7)
    fig.tight_layout()
    atomic_write_bytes(path, _png(fig))
    plt.close(fig)
    return Path(path)


def plot_sweep(results: list[dict[str, Any]], path: str | Path) -> Path:
    """Left: the task metric vs length per cell (solved threshold dashed). Right: gradient norm
    vs distance for the longest length, after training (solid) and at initialisation (dotted)."""
    plt = _pyplot()
    task = results[0]["config"]["memory_task"]
    key = metric_name(task)
    cells = list(dict.fromkeys(r["config"]["cell"] for r in results))
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.2))
    for i, cell in enumerate(cells):
        rs = sorted((r for r in results if r["config"]["cell"] == cell), key=run_length)
        line = a.plot(
            [run_length(r) for r in rs],
            [r["test"][key] for r in rs],
            "o-",
            color=f"C{i}",
            label=cell,
        )
        solved_pts = [r for r in rs if r["verdict"] == "solved"]
        a.plot(
            [run_length(r) for r in solved_pts],
            [r["test"][key] for r in solved_pts],
            "*",
            ms=11,
            color=line[0].get_color(),
        )
    if key == "mse":
        ratio = results[0]["config"]["solved_ratio"]
        a.axhline(1 / 6, color="gray", ls=":", lw=1, label="trivial 1/6")
        a.axhline(ratio / 6, color="green", ls="--", lw=1, label=f"solved < {ratio:g}×1/6")
        a.set_yscale("log")
        a.set_ylabel("test MSE (star = solved)")
    else:
        a.axhline(ACC_SOLVED, color="green", ls="--", lw=1, label="solved ≥ 99%")
        a.set_ylabel("test accuracy (star = solved)")
    lengths = sorted({run_length(r) for r in results})
    a.set_xscale("log")
    a.set_xticks(lengths, [str(T) for T in lengths])
    a.minorticks_off()
    a.set_xlabel("sequence length T")
    a.set_title(f"{task}: {results[0]['config']['steps']} steps each")
    a.legend(fontsize=7)
    longest = lengths[-1]
    for i, cell in enumerate(cells):
        for r in results:
            if r["config"]["cell"] == cell and run_length(r) == longest:
                color = f"C{i}"
                d, v = _distance_axis(r["grad_norm"]["trained"])
                b.plot(d, v, color=color, label=f"{cell} ({r['verdict']})")
                d, v = _distance_axis(r["grad_norm"]["init"])
                b.plot(d, v, color=color, ls=":", lw=1)
    b.set_yscale("log")
    b.set_xlabel("distance from the loss (steps)")
    b.set_ylabel("‖∂L/∂h_t‖")
    b.set_title(f"gradient reaching back, T={longest} (dotted: at init)")
    b.legend(fontsize=7)
    fig.tight_layout()
    atomic_write_bytes(path, _png(fig))
    plt.close(fig)
    return Path(path)
