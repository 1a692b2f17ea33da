"""The long-range memory lab: adding, copy, delayed recall, parity; vanishing gradients, measured.

``rnnlab memory run --task adding --length 100 --cell gru`` trains one cell on one synthetic task
(``rnnlab.data.synthetic``), gives the solved/unsolved verdict on a held-out test set, and plots
the learning curve next to ‖∂L/∂h_t‖ against the distance from the loss, at initialisation and
after training. The gradient curve comes from the engine's ``trace`` (``grad_h``), the same
numbers the explorer and the tests see. ``rnnlab memory sweep`` repeats that over cells × lengths
with one fixed step budget and draws which cell solves which length.

Verdicts: adding = test MSE below ``solved_ratio`` (default 1%) of the trivial predictor's
1/6 ≈ 0.167; copy / recall = per-symbol accuracy ≥ 99% on the recall steps; parity = accuracy
≥ 99%.

>>> res = run_memory("adding", 10, "gru", steps=50, out="runs/m", progress=False)  # doctest: +SKIP
>>> res["verdict"], res["test"]["mse"]                                             # doctest: +SKIP
"""

from __future__ import annotations

import copy
import io
import json
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import typer
from torch import Tensor, nn

from rnnlab.data import synthetic
from rnnlab.errors import InputError

app = typer.Typer(
    help="The long-range memory lab: adding, copy, parity; vanishing gradients, measured.",
    no_args_is_help=True,
)

ACC_SOLVED = 0.99


@dataclass(frozen=True)
class TaskSpec:
    name: str
    in_features: int
    out_features: int
    per_step: bool  # a prediction at every step (copy) or one at the last step
    regression: bool
    chance: str  # what a model that learned nothing scores, for the report


def task_spec(task: str, *, alphabet: int = 8, modulus: int = 2) -> TaskSpec:
    """The input/output shape of a memory task."""
    if task == "adding":
        return TaskSpec("adding", 2, 1, False, True, "MSE 0.167 (always answer 1.0)")
    if task in ("copy", "recall"):
        return TaskSpec(task, alphabet + 2, alphabet, True, False, f"accuracy {1 / alphabet:.1%}")
    if task == "parity":
        return TaskSpec("parity", 1, modulus, False, False, f"accuracy {1 / modulus:.1%}")
    raise InputError(f"unknown memory task {task!r}: choose adding, copy, recall or parity")


def make_batch(task: str, batch: int, length: int, gen: torch.Generator, **opt: int):
    """One batch ``(x, y)`` of ``task`` with memory span ``length`` (see ``rnnlab.data.synthetic``)."""
    if task == "adding":
        return synthetic.adding(batch, length, gen)
    if task in ("copy", "recall"):
        return synthetic.copy_task(
            batch,
            length,
            gen,
            n_symbols=opt.get("n_symbols", 10),
            alphabet=opt.get("alphabet", 8),
            variable=task == "recall",
        )
    if task == "parity":
        return synthetic.parity(batch, length, gen, modulus=opt.get("modulus", 2))
    raise InputError(f"unknown memory task {task!r}: choose adding, copy, recall or parity")


class MemoryModel(nn.Module):
    """Features → recurrent layer (``rnnlab.core.make_rnn``) → linear head, read at the last
    step (adding, parity) or at every step (copy).

    ``forget_bias`` (LSTM only) sets the forget gate's total bias: 1.0 is the standard
    recommendation (Gers et al. 2000; Jozefowicz et al. 2015) so that the cell starts out
    remembering; ``None`` keeps torch.nn's initialisation.
    """

    def __init__(
        self,
        spec: TaskSpec,
        cell: str,
        hidden: int,
        layers: int = 1,
        forget_bias: float | None = None,
    ):
        super().__init__()
        from rnnlab.core import make_rnn

        self.spec = spec
        self.rnn = make_rnn(cell, spec.in_features, hidden, num_layers=layers)
        self.head = nn.Linear(hidden, spec.out_features)
        if cell == "lstm" and forget_bias is not None:
            with torch.no_grad():  # gate order i, f, g, o: the forget rows are [H, 2H)
                for k in range(layers):
                    getattr(self.rnn, f"bias_ih_l{k}")[hidden : 2 * hidden] = forget_bias
                    getattr(self.rnn, f"bias_hh_l{k}")[hidden : 2 * hidden] = 0.0

    def readout(self, out: Tensor) -> Tensor:
        """Predictions from the layer's output (B, T, H)."""
        return self.head(out) if self.spec.per_step else self.head(out[:, -1])

    def forward(self, x: Tensor) -> Tensor:
        out, _ = self.rnn(x)
        return self.readout(out)

    def loss(self, pred: Tensor, y: Tensor) -> Tensor:
        if self.spec.regression:
            return nn.functional.mse_loss(pred.squeeze(-1), y.to(pred.dtype))
        if self.spec.per_step:
            return nn.functional.cross_entropy(
                pred.flatten(0, 1), y.flatten(), ignore_index=synthetic.IGNORE
            )
        return nn.functional.cross_entropy(pred, y)


def score(model: MemoryModel, pred: Tensor, y: Tensor) -> dict[str, float]:
    """``loss`` plus the task metric: ``mse`` (adding) or ``acc`` (per symbol / per sequence)."""
    out = {"loss": float(model.loss(pred.detach(), y))}
    if model.spec.regression:
        out["mse"] = out["loss"]
        out["nmse"] = out["mse"] / synthetic.ADDING_BASELINE_MSE
    else:
        keep = y != synthetic.IGNORE
        out["acc"] = float((pred.argmax(-1)[keep] == y[keep]).float().mean())
    return out


def solved(spec: TaskSpec, metrics: dict[str, float], solved_ratio: float = 0.01) -> bool:
    """The verdict: MSE < solved_ratio × 1/6 (adding), accuracy ≥ 99% (the others)."""
    if spec.regression:
        return metrics["mse"] < solved_ratio * synthetic.ADDING_BASELINE_MSE
    return metrics["acc"] >= ACC_SOLVED


def grad_norm_curve(model: MemoryModel, x: Tensor, y: Tensor) -> list[float]:
    """‖∂L/∂h_t‖ for every step t (mean over the batch), from the engine's trace.

    L is the task loss of the batch; h_t the first layer's state. Computed on a float64 copy so
    that a vanishing gradient shows its true size (1e-40 and below) instead of underflowing.
    Index 0 is the first step; the loss is read at the end, so distance = T - 1 - t.
    """
    m = copy.deepcopy(model).double().eval()
    y = y if not y.is_floating_point() else y.double()
    tr = m.rnn.trace(x.double(), grad_of=lambda out: m.loss(m.readout(out), y))
    return tr.grad_h[0][0].norm(dim=-1).mean(0).tolist()


class TaskStream:
    """Training batches for ``fit``: batch i is a pure function of (seed, i), so ``--resume``
    continues with exactly the batches an uninterrupted run would have seen."""

    def __init__(self, task: str, length: int, batch: int, seed: int, **opt: int):
        self.task, self.length, self.batch, self.seed, self.opt = task, length, batch, seed, opt
        self.i = 0

    def __iter__(self) -> Iterator:
        return self

    def __next__(self):
        gen = synthetic.seeded(self.seed, 0, self.i)
        self.i += 1
        return make_batch(self.task, self.batch, self.length, gen, **self.opt)

    def state_dict(self) -> dict[str, Any]:
        return {"i": self.i}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.i = int(state["i"])


def fixed_set(task: str, length: int, n: int, seed: int, stream: int, **opt: int):
    """A fixed evaluation set (stream 1 = validation, 2 = test)."""
    return make_batch(task, n, length, synthetic.seeded(seed, stream, 0), **opt)


@contextmanager
def cpu_settings(threads: int = 1):
    """Small-model CPU settings for the duration of a run, restored afterwards.

    * one thread: at H=64 the per-step work is tiny and OpenMP threads mostly wait on each
      other; on a loaded machine 2 threads made a GRU step 10-30x slower than 1;
    * subnormal floats flushed to zero: vanishing gradients are full of them, and x86
      arithmetic on subnormals is very slow (a vanilla RNN step at T=200 went from 66 ms to
      14 ms). The gradient curve is computed in float64, where this changes nothing visible.
    """
    old = torch.get_num_threads()
    torch.set_num_threads(max(1, threads))
    ok = torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_num_threads(old)
        if ok:
            torch.set_flush_denormal(False)


def _evaluate(model: MemoryModel, data: tuple[Tensor, Tensor], chunk: int = 250) -> dict:
    x, y = data
    with torch.no_grad():
        pred = torch.cat([model(x[i : i + chunk]) for i in range(0, len(x), chunk)])
    return score(model, pred, y)


def _val_metrics(model: MemoryModel, val: tuple[Tensor, Tensor]) -> dict[str, float]:
    m = _evaluate(model, val)
    return {"val_loss": m["loss"], **m}


def run_memory(
    task: str,
    length: int,
    cell: str,
    *,
    steps: int = 2000,
    seed: int = 0,
    out: str | Path | None = None,
    hidden: int = 64,
    layers: int = 1,
    batch: int = 64,
    lr: float = 1e-2,
    eval_every: int = 200,
    n_val: int = 500,
    n_test: int = 1000,
    solved_ratio: float = 0.01,
    alphabet: int = 8,
    n_symbols: int = 10,
    modulus: int = 2,
    forget_bias: float | None = 1.0,
    progress: bool = True,
    plot: bool = True,
    threads: int = 1,
) -> dict[str, Any]:
    """Train ``cell`` on ``task`` with memory span ``length``; return (and write to
    ``out/results.json``) the verdict, test metrics, learning curve and gradient curves.

    >>> r = run_memory("parity", 8, "lstm", steps=20, out="runs/p", progress=False)  # doctest: +SKIP
    """
    from rnnlab.io import atomic_write_json
    from rnnlab.train.checkpoint import load_run, load_weights_into, save_run
    from rnnlab.train.loop import TrainConfig, fit, read_log
    from rnnlab.train.util import set_seed

    spec = task_spec(task, alphabet=alphabet, modulus=modulus)
    if not isinstance(length, int) or length < 2:
        raise InputError(f"--length must be an integer >= 2, got {length!r}")
    if not 0 < solved_ratio < 1:
        raise InputError(f"--solved-ratio must be in (0, 1), got {solved_ratio}")
    opt = dict(alphabet=alphabet, n_symbols=n_symbols, modulus=modulus)
    run_dir = Path(out or f"runs/memory/{task}-{cell}-T{length}-s{seed}")
    config = dict(
        task="memory",
        memory_task=task,
        length=length,
        cell=cell,
        hidden=hidden,
        layers=layers,
        steps=steps,
        batch=batch,
        lr=lr,
        seed=seed,
        solved_ratio=solved_ratio,
        forget_bias=forget_bias if cell == "lstm" else None,
        **opt,
    )
    set_seed(seed)
    model = MemoryModel(spec, cell, hidden, layers, forget_bias)  # unknown cell: fails here
    val = fixed_set(task, length, n_val, seed, 1, **opt)
    test = fixed_set(task, length, n_test, seed, 2, **opt)
    probe = (test[0][:64], test[1][:64])  # the batch whose gradients are drawn

    def step_fn(b):
        x, y = b
        return model.loss(model(x), y), x.shape[0] * x.shape[1]

    def save_fn(d: Path, metrics: dict) -> None:
        save_run(d, model.state_dict(), {**config, "metrics": metrics})

    cfg = TrainConfig(steps=steps, lr=lr, clip=1.0, warmup=min(50, steps // 10 + 1))
    cfg.eval_every = eval_every
    cfg.log_every = max(1, min(10, steps // 20))
    t0 = time.monotonic()
    with cpu_settings(threads):
        grad_init = grad_norm_curve(model, *probe)
        # the initial model is the first checkpoint: a run that diverges before its first
        # evaluation still has one, and a stale model from an earlier run is never loaded
        save_fn(run_dir, {"step": 0})
        summary = fit(
            model,
            cfg,
            run_dir,
            data=TaskStream(task, length, batch, seed, **opt),
            step_fn=step_fn,
            eval_fn=lambda: _val_metrics(model, val),
            save_fn=save_fn,
            progress=progress,
        )
        tensors, _ = load_run(run_dir, task="memory")  # the best checkpoint (by val loss)
        load_weights_into(model, tensors, str(run_dir))
        model.eval()
        test_metrics = _evaluate(model, test)
        grad_trained = grad_norm_curve(model, *probe)
    solved_at = next((h["step"] for h in summary["history"] if solved(spec, h, solved_ratio)), None)
    rows = read_log(run_dir)
    result = {
        "config": config,
        "verdict": "solved" if solved(spec, test_metrics, solved_ratio) else "unsolved",
        "test": test_metrics,
        "solved_at_step": solved_at,
        "steps_run": summary["steps"],
        "stop_reason": summary["stop_reason"],
        "train_seconds": round(time.monotonic() - t0, 1),
        "chance": spec.chance,
        "curve": {
            "train": [[r["step"], r["train_loss"]] for r in rows if r.get("split") == "train"],
            "val": [[r["step"], r["metrics"]] for r in rows if r.get("split") == "val"],
        },
        "grad_norm": {"init": grad_init, "trained": grad_trained},
    }
    atomic_write_json(run_dir / "results.json", result)
    if plot:
        plot_run(result, run_dir / "memory.png")
    return result


# ---- plots ---------------------------------------------------------------------------------


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


def metric_name(task: str) -> str:
    return "mse" if task == "adding" else "acc"


def plot_run(result: dict[str, Any], path: str | Path) -> Path:
    """Learning curve (left) and ‖∂L/∂h_t‖ vs distance (right) of one run, as a PNG."""
    from rnnlab.io import atomic_write_bytes

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
    from rnnlab.io import atomic_write_bytes

    plt = _pyplot()
    task = results[0]["config"]["memory_task"]
    key = metric_name(task)
    cells = list(dict.fromkeys(r["config"]["cell"] for r in results))
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.2))
    for i, cell in enumerate(cells):
        rs = sorted((r for r in results if r["config"]["cell"] == cell), key=_length)
        line = a.plot(
            [_length(r) for r in rs], [r["test"][key] for r in rs], "o-", color=f"C{i}", label=cell
        )
        solved_pts = [r for r in rs if r["verdict"] == "solved"]
        a.plot(
            [_length(r) for r in solved_pts],
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
    lengths = sorted({_length(r) for r in results})
    a.set_xscale("log")
    a.set_xticks(lengths, [str(T) for T in lengths])
    a.minorticks_off()
    a.set_xlabel("sequence length T")
    a.set_title(f"{task}: {results[0]['config']['steps']} steps each")
    a.legend(fontsize=7)
    longest = lengths[-1]
    for i, cell in enumerate(cells):
        for r in results:
            if r["config"]["cell"] == cell and _length(r) == longest:
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


def _length(r: dict[str, Any]) -> int:
    return int(r["config"]["length"])


# ---- sweep ---------------------------------------------------------------------------------


def _parse_list(text: str, what: str, cast=str) -> list:
    items = [s.strip() for s in text.split(",") if s.strip()]
    if not items:
        raise InputError(f"{what} is empty: give a comma-separated list")
    try:
        return [cast(s) for s in items]
    except ValueError:
        raise InputError(f"{what} must be a comma-separated list, got {text!r}") from None


def sweep(
    task: str,
    lengths: list[int],
    cells: list[str],
    *,
    out: str | Path = "runs/memory-sweep",
    plot_path: str | Path | None = None,
    on_result=None,
    **kw: Any,
) -> list[dict[str, Any]]:
    """``run_memory`` for every (cell, length); a finished run with the same settings is reused
    (so an interrupted sweep continues). Writes ``sweep.json``, ``sweep.md`` and the plot."""
    from rnnlab.core import make_rnn
    from rnnlab.io import atomic_write_bytes, atomic_write_json

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


def sweep_table(results: list[dict[str, Any]]) -> str:
    """Markdown table: one row per cell, one column per length, metric and ✓ when solved."""
    key = metric_name(results[0]["config"]["memory_task"])
    lengths = sorted({_length(r) for r in results})
    cells = list(dict.fromkeys(r["config"]["cell"] for r in results))
    lines = [
        "| cell | " + " | ".join(f"T={T}" for T in lengths) + " |",
        "|---|" + "---:|" * len(lengths),
    ]
    for cell in cells:
        cells_txt = []
        for T in lengths:
            r = next((r for r in results if r["config"]["cell"] == cell and _length(r) == T), None)
            if r is None:
                cells_txt.append("–")
                continue
            v = r["test"][key]
            txt = f"{v:.2g}" if key == "mse" else f"{v:.1%}"
            cells_txt.append(("✓ " if r["verdict"] == "solved" else "✗ ") + txt)
        lines.append(f"| {cell} | " + " | ".join(cells_txt) + " |")
    return "\n".join(lines) + "\n"


# ---- CLI -----------------------------------------------------------------------------------


def _describe(res: dict[str, Any]) -> str:
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


def _grad_summary(res: dict[str, Any]) -> str:
    parts = []
    for name in ("init", "trained"):
        g = res["grad_norm"][name]
        n = len(g)  # copy/recall: the delay plus the symbols and the recall steps
        pts = sorted({0, n // 4, n // 2, n - 1})
        parts.append(f"  {name:8s}" + "  ".join(f"d={d}: {g[n - 1 - d]:.2e}" for d in pts))
    return "‖∂L/∂h_t‖ by distance d from the end of the sequence:\n" + "\n".join(parts)


TASK_HELP = "adding | copy | recall (copy with a randomly timed recall cue) | parity"


@app.command("run")
def run_cmd(
    task: str = typer.Option("adding", "--task", help=TASK_HELP),
    length: int = typer.Option(100, "--length", "-T", help="Memory span T (copy: the delay)."),
    cell: str = typer.Option(
        "gru", "--cell", help="rnn | rnn_relu | gru | lstm | mingru | minlstm"
    ),
    steps: int = typer.Option(2000, "--steps", help="Training steps (batches)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the data and the initialisation."),
    hidden: int = typer.Option(64, "--hidden", help="Hidden units."),
    layers: int = typer.Option(1, "--layers", help="Stacked layers."),
    batch: int = typer.Option(64, "--batch", help="Sequences per step."),
    lr: float = typer.Option(1e-2, "--lr", help="Peak learning rate (AdamW, warmup + cosine)."),
    solved_ratio: float = typer.Option(
        0.01, "--solved-ratio", help="adding: solved when MSE < this × 1/6."
    ),
    modulus: int = typer.Option(2, "--modulus", help="parity: count ones modulo this."),
    forget_bias: float = typer.Option(
        1.0, "--forget-bias", help="LSTM: initial forget-gate bias (torch.nn's own init: 0)."
    ),
    out: Path = typer.Option(None, "--out", help="Run directory (default runs/memory/...)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bar."),
) -> None:
    """Train one cell on one task; print the verdict; write results.json and memory.png."""
    res = run_memory(
        task,
        length,
        cell,
        steps=steps,
        seed=seed,
        out=out,
        hidden=hidden,
        layers=layers,
        batch=batch,
        lr=lr,
        solved_ratio=solved_ratio,
        modulus=modulus,
        forget_bias=forget_bias,
        progress=progress,
    )
    run_dir = out or Path(f"runs/memory/{task}-{cell}-T{length}-s{seed}")
    typer.echo(_describe(res))
    typer.echo(_grad_summary(res))
    typer.echo(f"learning curve + gradient plot: {run_dir / 'memory.png'}")


@app.command("sweep")
def sweep_cmd(
    task: str = typer.Option("adding", "--task", help=TASK_HELP),
    lengths: str = typer.Option("10,50,100,200,400", "--lengths", help="Comma-separated T."),
    cells: str = typer.Option("rnn,gru,lstm,mingru", "--cells", help="Comma-separated cells."),
    steps: int = typer.Option(2000, "--steps", help="The fixed step budget of every run."),
    seed: int = typer.Option(0, "--seed", help="Seed of the data and the initialisations."),
    hidden: int = typer.Option(64, "--hidden", help="Hidden units."),
    batch: int = typer.Option(64, "--batch", help="Sequences per step."),
    lr: float = typer.Option(1e-2, "--lr", help="Peak learning rate."),
    out: Path = typer.Option(Path("runs/memory-sweep"), "--out", help="Directory of the runs."),
    plot: Path = typer.Option(None, "--plot", help="PNG of the sweep (default OUT/sweep.png)."),
) -> None:
    """Every cell × every length with one step budget: a table and a plot."""
    Ls = _parse_list(lengths, "--lengths", int)
    if any(T < 2 for T in Ls):
        raise InputError(f"--lengths must all be >= 2, got {Ls}")
    res = sweep(
        task,
        Ls,
        _parse_list(cells, "--cells"),
        out=out,
        plot_path=plot,
        on_result=lambda r: typer.echo(_describe(r)),
        steps=steps,
        seed=seed,
        hidden=hidden,
        batch=batch,
        lr=lr,
    )
    typer.echo(sweep_table(res))
    typer.echo(f"plot: {plot or out / 'sweep.png'}   table: {out / 'sweep.md'}")
