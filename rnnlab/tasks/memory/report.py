"""The text a user reads: a run's verdict line, its gradient summary, the sweep table.

>>> print(sweep_table(json.load(open("runs/memory-sweep/sweep.json"))))   # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any


def metric_name(task: str) -> str:
    """The metric a task is judged by: ``mse`` (adding) or ``acc``."""
    return "mse" if task == "adding" else "acc"


def run_length(r: dict[str, Any]) -> int:
    return int(r["config"]["length"])


def sweep_table(results: list[dict[str, Any]]) -> str:
    """Markdown table: one row per cell, one column per length, metric and ✓ when solved."""
    key = metric_name(results[0]["config"]["memory_task"])
    lengths = sorted({run_length(r) for r in results})
    cells = list(dict.fromkeys(r["config"]["cell"] for r in results))
    lines = [
        "| cell | " + " | ".join(f"T={T}" for T in lengths) + " |",
        "|---|" + "---:|" * len(lengths),
    ]
    for cell in cells:
        cells_txt = []
        for T in lengths:
            r = next(
                (r for r in results if r["config"]["cell"] == cell and run_length(r) == T), None
            )
            if r is None:
                cells_txt.append("–")
                continue
            v = r["test"][key]
            txt = f"{v:.2g}" if key == "mse" else f"{v:.1%}"
            cells_txt.append(("✓ " if r["verdict"] == "solved" else "✗ ") + txt)
        lines.append(f"| {cell} | " + " | ".join(cells_txt) + " |")
    return "\n".join(lines) + "\n"


def describe(res: dict[str, Any]) -> str:
    c, t = res["config"], res["test"]
    if c["memory_task"] == "adding":
        m = (
            f"test MSE {t['mse']:.5f} = {t['nmse']:.2%} of the trivial baseline 0.1667 "
            f"(solved below {c['solved_ratio']:.0%} of it = {c['solved_ratio'] / 6:.5f})"
        )
    else:
        m = f"test accuracy {t['acc']:.2%} (solved at >= 99%; chance {res['chance']})"
    at = f", first solved on val at step {res['solved_at_step']}" if res["solved_at_step"] else ""
    return (
        f"{c['memory_task']} T={c['length']} {c['cell']}: {res['verdict'].upper()}: {m}; "
        f"{res['steps_run']} steps in {res['train_seconds']:.0f} s{at}"
    )


def grad_summary(res: dict[str, Any]) -> str:
    parts = []
    for name in ("init", "trained"):
        g = res["grad_norm"][name]
        n = len(g)  # copy/recall: the delay plus the symbols and the recall steps
        pts = sorted({0, n // 4, n // 2, n - 1})
        parts.append(f"  {name:8s}" + "  ".join(f"d={d}: {g[n - 1 - d]:.2e}" for d in pts))
    return "‖∂L/∂h_t‖ by distance d from the end of the sequence:\n" + "\n".join(parts)
