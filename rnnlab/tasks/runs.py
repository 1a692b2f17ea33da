"""Any run the explorer shows, loaded by its own task, and its training curve.

The web layer loads models only through here (it imports nothing of ``rnnlab.train``).

>>> model = load_explorable("runs/gru")        # an lm or lm-fill run   # doctest: +SKIP
>>> training_curve("runs/gru")["val"][-1]                               # doctest: +SKIP
[2000, 1.4721]
>>> training_seconds("runs/gru")                                        # doctest: +SKIP
81.3
"""

from __future__ import annotations

from pathlib import Path

from torch import nn

from rnnlab.tasks.fillin.config import TASK as FILL
from rnnlab.tasks.fillin.model import load_fill
from rnnlab.tasks.lm.model import load_lm
from rnnlab.train.checkpoint import read_config
from rnnlab.train.loop import read_log


def load_explorable(run_dir: str | Path) -> nn.Module:
    """Load a run written by ``rnnlab lm train`` or a demo fill-in model (eval mode); a run
    of another task is a ``CheckpointError`` naming it."""
    if read_config(run_dir).get("task") == FILL:
        return load_fill(run_dir)
    return load_lm(run_dir)


def training_curve(run_dir: str | Path) -> dict[str, list[list[float]]]:
    """``{"train": [[step, loss], ...], "val": [[step, val_loss], ...]}`` from the run's log."""
    curve: dict[str, list[list[float]]] = {"train": [], "val": []}
    for row in read_log(run_dir):
        if row.get("split") == "train" and row.get("train_loss") is not None:
            curve["train"].append([row["step"], round(row["train_loss"], 4)])
        elif row.get("split") == "val" and row.get("metrics"):
            v = row["metrics"].get("val_loss")
            if v is not None:
                curve["val"].append([row["step"], round(v, 4)])
    return curve


def training_seconds(run_dir: str | Path) -> float | None:
    """Seconds the run trained for (the last ``elapsed`` its log recorded), None without a log."""
    times = [row["elapsed"] for row in read_log(run_dir) if row.get("elapsed") is not None]
    return round(float(max(times)), 1) if times else None
