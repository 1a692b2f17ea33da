"""One memory-lab run (``run_memory``, on ``rnnlab.train.run``) and the sweep over cells ×
lengths (``sweep``), whose finished runs are reused.

>>> res = run_memory("adding", 10, "gru", steps=50, out="runs/m", progress=False)  # doctest: +SKIP
>>> res["verdict"], res["test"]["mse"]                                             # doctest: +SKIP
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rnnlab.config import pick_all
from rnnlab.core import make_rnn
from rnnlab.errors import InputError
from rnnlab.io import atomic_write_bytes, atomic_write_json
from rnnlab.tasks.memory.config import TASK, MemoryData, MemoryNet, MemoryTrain
from rnnlab.tasks.memory.curves import grad_norm_curve
from rnnlab.tasks.memory.data import (
    TEST_STREAM,
    VAL_STREAM,
    TaskStream,
    fixed_set,
    split_record,
    task_spec,
)
from rnnlab.tasks.memory.model import MemoryModel, evaluate, solved
from rnnlab.tasks.memory.plot import plot_run, plot_sweep
from rnnlab.tasks.memory.report import sweep_table
from rnnlab.train.loop import TrainConfig, read_log
from rnnlab.train.run import guard_out, train_run
from rnnlab.train.threads import cpu_threads
from rnnlab.train.util import set_seed

SECTIONS = (MemoryNet, MemoryData, MemoryTrain)


def default_out(task: str, length: int, cell: str, seed: int) -> Path:
    return Path(f"runs/memory/{task}-{cell}-T{length}-s{seed}")


def flat_config(net: MemoryNet, data: MemoryData, tr: MemoryTrain) -> dict[str, Any]:
    """The one-level summary of a run's settings kept in ``results.json`` (and ``sweep.json``,
    which the explorer reads): the shape these files have always had."""
    return dict(
        task=TASK,
        memory_task=data.task,
        length=data.length,
        cell=net.cell,
        hidden=net.hidden,
        layers=net.layers,
        steps=tr.steps,
        batch=tr.batch,
        lr=tr.lr,
        seed=tr.seed,
        solved_ratio=tr.solved_ratio,
        forget_bias=net.forget_bias,
        alphabet=data.alphabet,
        n_symbols=data.n_symbols,
        modulus=data.modulus,
    )


def run_memory(
    task: str,
    length: int,
    cell: str,
    *,
    out: str | Path | None = None,
    progress: bool = True,
    plot: bool = True,
    **kw: Any,
) -> dict[str, Any]:
    """Train ``cell`` on ``task`` with memory span ``length``; return (and write to
    ``out/results.json``) the verdict, test metrics, learning curve and gradient curves.
    ``kw`` are the fields of ``MemoryNet``, ``MemoryData`` and ``MemoryTrain``.

    >>> r = run_memory("parity", 8, "lstm", steps=20, out="runs/p", progress=False)  # doctest: +SKIP
    """
    kw = {"task": task, "length": length, "cell": cell, **kw}
    net, data, tr = pick_all(kw, *SECTIONS, where="run_memory()")
    spec = task_spec(task, alphabet=data.alphabet, modulus=data.modulus)
    if not isinstance(length, int) or length < 2:
        raise InputError(f"--length must be an integer >= 2, got {length!r}")
    if not 0 < tr.solved_ratio < 1:
        raise InputError(f"--solved-ratio must be in (0, 1), got {tr.solved_ratio}")
    opt = dict(alphabet=data.alphabet, n_symbols=data.n_symbols, modulus=data.modulus)
    run_dir = Path(out or default_out(task, length, cell, tr.seed))
    net = net.replace(forget_bias=net.forget_bias if cell == "lstm" else None)
    data = data.replace(split=split_record(tr.seed, data.n_val, data.n_test))
    set_seed(tr.seed)
    model = MemoryModel(spec, cell, net.hidden, net.layers, net.forget_bias)  # bad cell: here
    guard_out(run_dir, TASK, resume=False)
    val = fixed_set(task, length, data.n_val, tr.seed, VAL_STREAM, **opt)
    test = fixed_set(task, length, data.n_test, tr.seed, TEST_STREAM, **opt)
    probe = (test[0][:64], test[1][:64])  # the batch whose gradients are drawn

    def step_fn(b):
        x, y = b
        return model.loss(model(x), y), x.shape[0] * x.shape[1]

    def val_metrics() -> dict[str, float]:
        m = evaluate(model, val)
        return {"val_loss": m["loss"], **m}

    cfg = TrainConfig(steps=tr.steps, lr=tr.lr, clip=1.0, warmup=min(50, tr.steps // 10 + 1))
    cfg.eval_every = tr.eval_every
    cfg.log_every = max(1, min(10, tr.steps // 20))
    config = {"task": TASK, "model": net.to_dict(), "data": data.to_dict(), "train": tr.to_dict()}
    test_metrics: dict[str, float] = {}

    def final_eval() -> dict[str, Any]:  # the best model on the test set, kept in config.json
        test_metrics.update(evaluate(model, test))
        return {"test": test_metrics}

    t0 = time.monotonic()
    # one thread, subnormals flushed: see rnnlab.train.threads (the curves are in float64)
    with cpu_threads(tr.threads, flush_denormal=True):
        grad_init = grad_norm_curve(model, *probe)
        summary = train_run(
            model,
            cfg,
            run_dir,
            config=config,
            data=TaskStream(task, length, tr.batch, tr.seed, **opt),
            step_fn=step_fn,
            eval_fn=val_metrics,
            final_eval=final_eval,
            progress=progress,
        )
        grad_trained = grad_norm_curve(model, *probe)  # the best checkpoint, reloaded
    rows = read_log(run_dir)
    val_curve = [[r["step"], r["metrics"]] for r in rows if r.get("split") == "val"]
    solved_at = next((s for s, m in val_curve if solved(spec, m, tr.solved_ratio)), None)
    result = {
        "config": flat_config(net, data, tr),
        "verdict": "solved" if solved(spec, test_metrics, tr.solved_ratio) else "unsolved",
        "test": test_metrics,
        "solved_at_step": solved_at,
        "steps_run": summary["steps"],
        "stop_reason": summary["stop_reason"],
        "train_seconds": round(time.monotonic() - t0, 1),
        "chance": spec.chance,
        "curve": {
            "train": [[r["step"], r["train_loss"]] for r in rows if r.get("split") == "train"],
            "val": val_curve,
        },
        "grad_norm": {"init": grad_init, "trained": grad_trained},
    }
    atomic_write_json(run_dir / "results.json", result)
    if plot:
        plot_run(result, run_dir / "memory.png")
    return result


# ---- sweep ---------------------------------------------------------------------------------


def sweep(
    task: str,
    lengths: list[int],
    cells: list[str],
    *,
    out: str | Path = "runs/memory-sweep",
    plot_path: str | Path | None = None,
    on_result: Callable[[dict[str, Any]], None] | None = None,
    **kw: Any,
) -> list[dict[str, Any]]:
    """``run_memory`` for every (cell, length); a finished run with the same settings is reused
    (so an interrupted sweep continues). Writes ``sweep.json``, ``sweep.md`` and the plot."""
    for cell in cells:  # fail before hours of training, not in the middle
        make_rnn(cell, 2, 2)
    task_spec(task)
    out = Path(out)
    results = []
    for cell in cells:
        for T in lengths:
            run_dir = out / f"{task}-{cell}-T{T}"
            res = _reusable(run_dir, task, T, cell, kw)
            if res is None:
                res = run_memory(task, T, cell, out=run_dir, progress=False, **kw)
            results.append(res)
            if on_result:
                on_result(res)
    atomic_write_json(out / "sweep.json", results)
    atomic_write_bytes(out / "sweep.md", sweep_table(results).encode())
    plot_sweep(results, plot_path or out / "sweep.png")
    return results


def _reusable(run_dir: Path, task: str, T: int, cell: str, kw: dict) -> dict | None:
    p = run_dir / "results.json"
    if not p.exists():
        return None
    try:
        res = json.loads(p.read_text())
    except json.JSONDecodeError:
        return None
    c = res.get("config", {})
    same = c.get("memory_task") == task and c.get("length") == T and c.get("cell") == cell
    return res if same and all(c.get(k) == v for k, v in kw.items() if k in c) else None
