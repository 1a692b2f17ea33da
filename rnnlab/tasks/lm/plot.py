"""The training and validation loss curves of a run, as a PNG.

>>> plot_run("runs/gru")       # writes runs/gru/loss.png    # doctest: +SKIP
"""

from __future__ import annotations

import io
from pathlib import Path

from rnnlab.errors import CheckpointError, InputError
from rnnlab.io import atomic_write_bytes
from rnnlab.tasks.lm.config import TASK
from rnnlab.train.checkpoint import read_config
from rnnlab.train.loop import read_log


def plot_run(run: str | Path, out: str | Path | None = None) -> Path:
    """Plot ``run``'s curves to ``out`` (default ``RUN/loss.png``); returns the path."""
    import matplotlib  # optional and slow to import: only here

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cfg = read_config(run)
    if cfg.get("task") != TASK:
        raise CheckpointError(f"{run} holds a '{cfg.get('task')}' run, not an 'lm' run")
    rows = read_log(run)
    tr = [(r["step"], r["train_loss"]) for r in rows if r.get("split") == "train"]
    va = [(r["step"], r["metrics"]["val_loss"]) for r in rows if r.get("split") == "val"]
    if not tr and not va:
        raise InputError(f"{run}/log.jsonl has no curve yet (train longer than one log interval)")
    arch, data = cfg["model"], cfg["data"]
    fig, ax = plt.subplots(figsize=(7, 4))
    if tr:
        ax.plot(*zip(*tr), label="train (smoothed)", lw=1)
    if va:
        ax.plot(*zip(*va), "o-", label="validation", lw=1.5)
    ax.set_xlabel("step")
    ax.set_ylabel(f"loss (nats/{data.get('level', 'token')})")
    name = Path(str(data.get("source", ""))).name
    ax.set_title(f"{arch.get('cell', '?')} {arch.get('layers')}x{arch.get('hidden')} on {name}")
    ax.grid(alpha=0.3)
    ax.legend()
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=120)
    plt.close(fig)
    dest = Path(out) if out else Path(run) / "loss.png"
    atomic_write_bytes(dest, buf.getvalue())
    return dest
