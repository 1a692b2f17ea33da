"""The recipe around ``fit`` that every task runs, written once.

``guard_out`` checks the run directory before anything is computed (another task's run is
never overwritten; ``--resume`` must continue a run of the same task with the same model);
``train_run`` writes the initial checkpoint, trains with ``fit``, reloads the best model,
adds the final metrics and returns one summary shape for every task.

>>> guard_out("runs/x", "lm", resume=False)                                 # doctest: +SKIP
>>> s = train_run(model, cfg, "runs/x", config=config, data=batches,       # doctest: +SKIP
...               step_fn=step, eval_fn=validate)
>>> s["steps"], s["best"], s["metrics"]                                     # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from rnnlab.errors import CheckpointError, InputError
from rnnlab.train.checkpoint import (
    CONFIG,
    STATE_META,
    load_run,
    load_weights_into,
    read_config,
    save_run,
)
from rnnlab.train.loop import BatchSource, TrainConfig, fit


def _get(cfg: dict[str, Any], dotted: str) -> Any:
    cur: Any = cfg
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def guard_out(
    out: str | Path, task: str, *, resume: bool, same: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """Check ``out`` before training; return its config when resuming.

    ``same`` maps dotted config paths to the values of this run (``{"model.cell": "gru"}``):
    a resumed run must have been trained with the same ones; the message names the option
    (``--cell gru (not lstm)``).
    """
    out = Path(out)
    if resume:
        old = read_config(out)
        if old.get("task") != task:
            raise CheckpointError(
                f"{out} holds a '{old.get('task')}' run, not a '{task}' run: "
                "use another --out, or drop --resume"
            )
        diff = []
        for path, v in (same or {}).items():
            was = _get(old, path)
            if was is not None and was != v:
                name = path.rsplit(".", 1)[-1].replace("_", "-")
                diff.append(f"--{name} {was} (not {v})")
        if diff:
            raise CheckpointError(
                f"{out} was trained with " + ", ".join(diff) + ": resume with those"
            )
        return old
    if (out / CONFIG).exists() or (out / STATE_META).exists():
        try:
            old_task = read_config(out).get("task")
        except CheckpointError:
            old_task = None
        if old_task not in (None, task):
            raise InputError(f"{out} holds a '{old_task}' run: choose another --out")
    return None


def train_run(
    model: torch.nn.Module,
    cfg: TrainConfig,
    out: str | Path,
    *,
    config: dict[str, Any],
    data: BatchSource,
    step_fn: Callable[[Any], tuple[torch.Tensor, int]],
    eval_fn: Callable[[], dict[str, float]],
    final_eval: Callable[[], dict[str, Any]] | None = None,
    net: torch.nn.Module | None = None,
    resume: bool = False,
    progress: bool = True,
    is_main: bool = True,
    reload_best: bool = True,
    describe: Callable[[dict[str, float]], str] = lambda m: "",
    parameters: Any = None,
    log_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Train ``model`` into run directory ``out`` and return the summary
    ``{run_dir, steps, elapsed, stop_reason, best, metrics, averaged_from}``.

    ``config`` is the run's ``config.json`` without ``metrics`` (sections ``task``,
    ``model``, ``data``, ``train``); every checkpoint is saved with it. ``net`` is what is
    trained when it differs from ``model`` (a DDP wrapper). With ``reload_best`` the best
    checkpoint is loaded back into ``model`` at the end; ``final_eval()`` then computes the
    final metrics (e.g. on the test split), which are saved beside the best validation ones.
    """
    out = Path(out)
    task = config["task"]

    def save(run_dir: Path, metrics: dict[str, Any]) -> None:
        save_run(run_dir, model.state_dict(), {**config, "metrics": metrics})

    if not resume and is_main:  # the initial model is the first checkpoint (never a stale one)
        save(out, {"step": 0})
    s = fit(
        net or model,
        cfg,
        out,
        data=data,
        step_fn=step_fn,
        eval_fn=eval_fn,
        save_fn=save,
        resume=resume,
        progress=progress,
        is_main=is_main,
        describe=describe,
        parameters=parameters,
        log_dir=log_dir if is_main else None,
    )
    best_metrics = dict(s["metrics"])
    if reload_best and is_main:
        tensors, saved = load_run(out, task=task)
        load_weights_into(model, tensors, str(out))
        best_metrics = saved.get("metrics", best_metrics)
    metrics = best_metrics
    if final_eval is not None:
        model.eval()
        with torch.no_grad():
            metrics = {**best_metrics, **final_eval()}
        if is_main:
            save(out, metrics)
    return {
        "run_dir": str(out),
        "steps": s["steps"],
        "elapsed": round(s["elapsed"], 1),
        "stop_reason": s["stop_reason"],
        "best": s["best"],
        "metrics": metrics,
        "averaged_from": s["averaged_from"],  # NT-ASGD's trigger step (rnnlab.train.optim)
    }
