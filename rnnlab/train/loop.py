"""The training loop every task uses: AdamW (or SGD, NT-ASGD: ``rnnlab.train.optim``),
clipping, warmup + cosine, budgets, eval, best-checkpoint keeping, early stop, CSV/JSONL log,
progress bar and exact resume.

A task supplies four small things (see ``fit``): a batch source with ``state_dict`` /
``load_state_dict`` (so ``--resume`` restarts at the same data position), a ``step_fn``
returning the loss of one batch, an ``eval_fn`` returning validation metrics, and a
``save_fn`` writing the best model with its task config.

The LR schedule runs on the fraction of the budget used, ``max(step/steps, elapsed/time)``,
so a time-budgeted run still gets a full warmup-then-cosine schedule.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from rnnlab.errors import InputError
from rnnlab.io import atomic_write_bytes, remove_stale_temps
from rnnlab.train.checkpoint import load_state, save_state
from rnnlab.train.optim import OPTIMIZERS, NTAverage, make_optimizer
from rnnlab.train.util import progress_bar

_F32_MAX = float(torch.finfo(torch.float32).max)


@dataclass
class TrainConfig:
    steps: int | None = None  # stop after this many optimizer steps
    time_budget: float | None = None  # ... or after this many seconds (whichever first)
    lr: float = 3e-3
    weight_decay: float = 0.01
    betas: tuple[float, float] = (0.9, 0.99)
    clip: float = 1.0  # max global grad norm (0 = off)
    warmup: int = 50  # linear warmup steps
    min_lr_ratio: float = 0.1  # cosine decays to lr * min_lr_ratio
    eval_every: int = 200  # steps between validations
    eval_every_s: float | None = None  # ... or seconds between validations
    patience: int = 0  # stop after this many evals without improvement (0 = never)
    log_every: int = 10
    metric: str = "val_loss"  # lower is better
    extra: dict[str, Any] = field(default_factory=dict)
    optimizer: str = "adamw"  # adamw, sgd or ntasgd (rnnlab.train.optim)
    nonmono: int = 5  # ntasgd: average once no better than before the last N evaluations

    def __post_init__(self) -> None:
        if self.steps is None and self.time_budget is None:
            raise InputError("give a training budget: --steps N or --time-budget 5m")
        if self.steps is not None and self.steps <= 0:
            raise InputError(f"--steps must be positive, got {self.steps}")
        if self.time_budget is not None and not 0 < self.time_budget < math.inf:
            raise InputError(f"--time-budget must be a positive duration, got {self.time_budget}")
        # NaN fails every comparison, so each check is written to be False for it
        if not 0 < self.lr < _F32_MAX:  # the optimizer's step is computed in float32
            raise InputError(f"--lr must be a positive number (e.g. 3e-3), got {self.lr}")
        if not 0 <= self.clip < math.inf:
            raise InputError(f"--clip must be a number >= 0 (0 = off), got {self.clip}")
        if not 0 <= self.weight_decay < math.inf:
            raise InputError(f"weight decay must be a number >= 0, got {self.weight_decay}")
        if self.warmup < 0:
            raise InputError(f"--warmup must be >= 0, got {self.warmup}")
        if self.eval_every < 1:
            raise InputError(f"--eval-every must be >= 1, got {self.eval_every}")
        if self.eval_every_s is not None and not 0 < self.eval_every_s < math.inf:
            raise InputError(f"the evaluation interval must be positive, got {self.eval_every_s}")
        if self.optimizer not in OPTIMIZERS:
            raise InputError(
                f"--optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}"
            )
        if self.nonmono < 1:
            raise InputError(f"--nonmono must be >= 1 evaluations, got {self.nonmono}")
        if self.patience < 0:
            raise InputError(f"--patience must be >= 0 (0 = never stop early), got {self.patience}")


class BatchSource(Protocol):
    def __next__(self) -> Any: ...
    def state_dict(self) -> dict[str, Any]: ...
    def load_state_dict(self, state: dict[str, Any]) -> None: ...


def lr_factor(cfg: TrainConfig, step: int, elapsed: float) -> float:
    frac = 0.0
    if cfg.steps:
        frac = max(frac, step / cfg.steps)
    if cfg.time_budget:
        frac = max(frac, elapsed / cfg.time_budget)
    frac = min(frac, 1.0)
    warm = min(1.0, (step + 1) / max(1, cfg.warmup))
    if cfg.optimizer == "ntasgd":  # AWD-LSTM's constant lr: the average does the annealing
        return warm
    cos = cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * frac))
    return warm * cos


def _optimizer(
    model: torch.nn.Module, cfg: TrainConfig, parameters: Any = None
) -> tuple[list[torch.nn.Parameter], torch.optim.Optimizer]:
    params = [p for p in (parameters or model.parameters()) if p.requires_grad]
    return params, make_optimizer(
        params, cfg.optimizer, lr=cfg.lr, betas=cfg.betas, weight_decay=cfg.weight_decay
    )


def _update(
    opt: torch.optim.Optimizer,
    params: list[torch.nn.Parameter],
    cfg: TrainConfig,
    factor: float,
    step_fn: Callable[[Any], tuple[torch.Tensor, int]],
    data: BatchSource,
) -> tuple[torch.Tensor, int]:
    """One optimizer step at ``cfg.lr * factor`` on the next batch: forward, backward,
    clipping; returns ``step_fn``'s ``(loss, n_tokens)``."""
    for g in opt.param_groups:
        g["lr"] = cfg.lr * factor
    loss, ntok = step_fn(next(data))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if cfg.clip:
        torch.nn.utils.clip_grad_norm_(params, cfg.clip)
    opt.step()
    return loss, ntok


def run_steps(
    model: torch.nn.Module,
    cfg: TrainConfig,
    data: BatchSource,
    step_fn: Callable[[Any], tuple[torch.Tensor, int]],
    parameters: Any = None,
) -> None:
    """``cfg.steps`` optimizer steps as ``fit`` takes them (AdamW, clipping, the
    ``lr_factor`` schedule on the step count), with no evaluation, checkpoint, log or run
    directory: a short fine-tune from the current weights. Leaves the model in eval mode.

    >>> cfg = TrainConfig(steps=100, lr=1e-3, warmup=0, min_lr_ratio=0.0)  # cosine to 0
    >>> run_steps(model, cfg, batches, lambda b: (loss_of(model, b), 0))  # doctest: +SKIP
    """
    params, opt = _optimizer(model, cfg, parameters)
    model.train()
    for step in range(cfg.steps or 0):
        _update(opt, params, cfg, lr_factor(cfg, step, 0.0), step_fn, data)
    model.eval()


def _rng_state() -> dict[str, Any]:
    return {
        "torch": torch.get_rng_state(),
        "python": json.dumps(random.getstate()),
        "numpy": json.dumps(np.random.get_state(legacy=True)[1].tolist()),
        "numpy_pos": int(np.random.get_state(legacy=True)[2]),
    }


def _set_rng_state(s: dict[str, Any]) -> None:
    torch.set_rng_state(s["torch"])
    st = json.loads(s["python"])
    random.setstate((st[0], tuple(st[1]), st[2]))
    np.random.set_state(
        ("MT19937", np.array(json.loads(s["numpy"]), dtype=np.uint32), s["numpy_pos"], 0, 0.0)
    )


class _Log:
    """Append-only CSV + JSONL log of the curve (flushed per line: a crash keeps what was seen),
    and TensorBoard scalars when a log directory is given (optional dependency)."""

    fields = ["step", "elapsed", "lr", "train_loss", "tokens_per_s", "split", "metrics"]

    def __init__(
        self,
        run_dir: Path,
        resume: bool,
        tb_dir: str | Path | None = None,
        resume_step: int = 0,
    ):
        self.jsonl = run_dir / "log.jsonl"
        self.csv = run_dir / "log.csv"
        if not resume:
            for p in (self.jsonl, self.csv):
                p.unlink(missing_ok=True)
        else:
            # continue the log where the resumed state is: drop the rows written after it
            # (they are trained again) and a line torn by a kill, which appending would glue
            # to the next row
            rows = [r for r in read_log(run_dir) if r.get("step", 0) <= resume_step]
            atomic_write_bytes(self.jsonl, "".join(json.dumps(r) + "\n" for r in rows).encode())
            buf = io.StringIO()
            w = csv.writer(buf)
            w.writerow(self.fields)
            w.writerows(self._csv_row(r) for r in rows)
            atomic_write_bytes(self.csv, buf.getvalue().encode())
        self.tb = None
        if tb_dir is not None:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                raise InputError(
                    "--log-dir needs TensorBoard: pip install -c constraints.txt 'rnnlab[tensorboard]'"
                ) from None
            self.tb = SummaryWriter(str(tb_dir))

    def close(self) -> None:
        if self.tb is not None:
            self.tb.close()

    def _csv_row(self, row: dict[str, Any]) -> list[Any]:
        return [row.get(k) if k != "metrics" else json.dumps(row.get(k)) for k in self.fields]

    def write(self, row: dict[str, Any]) -> None:
        if self.tb is not None:
            step = row["step"]
            for k in ("train_loss", "lr", "tokens_per_s"):
                if row.get(k) is not None:
                    self.tb.add_scalar(f"train/{k}", row[k], step)
            for k, v in (row.get("metrics") or {}).items():
                self.tb.add_scalar(f"val/{k}", v, step)
            self.tb.flush()
        with self.jsonl.open("a") as f:
            f.write(json.dumps(row) + "\n")
        new = not self.csv.exists()
        with self.csv.open("a", newline="") as f:
            w = csv.writer(f)
            if new:
                w.writerow(self.fields)
            w.writerow(self._csv_row(row))


def read_log(run_dir: str | Path) -> list[dict[str, Any]]:
    """The rows of a run's ``log.jsonl`` (for plots and model cards)."""
    p = Path(run_dir) / "log.jsonl"
    if not p.exists():
        return []
    rows = []
    for line in p.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:  # a torn last line after a kill
            break
    return rows


def fit(
    model: torch.nn.Module,
    cfg: TrainConfig,
    run_dir: str | Path,
    *,
    data: BatchSource,
    step_fn: Callable[[Any], tuple[torch.Tensor, int]],
    eval_fn: Callable[[], dict[str, float]],
    save_fn: Callable[[Path, dict[str, Any]], None],
    resume: bool = False,
    progress: bool = True,
    is_main: bool = True,
    describe: Callable[[dict[str, float]], str] = lambda m: "",
    parameters: Any = None,
    log_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Train ``model`` until the budget is spent; return a summary with the best metrics.

    ``step_fn(batch) -> (loss, n_tokens)`` runs the forward pass (the loop does backward,
    clipping and the optimizer step). ``save_fn(run_dir, metrics)`` saves the best model.
    ``is_main`` is False on non-zero DDP ranks: they neither log nor save.
    ``log_dir`` also writes TensorBoard scalars there (``--log-dir``).
    With ``cfg.optimizer == "ntasgd"`` evaluation and the saved model use the averaged
    weights once averaging has started (logged as a row with ``split="averaging"``), and the
    model holds them at the end; the summary's ``averaged_from`` is that step (else None).
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    params, opt = _optimizer(model, cfg, parameters)
    step, elapsed0, best, since_best, history = 0, 0.0, math.inf, 0, []
    avg = NTAverage(params, cfg.nonmono) if cfg.optimizer == "ntasgd" else None
    if resume:
        st = load_state(run_dir)
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["optimizer"])
        data.load_state_dict(st["data"])
        _set_rng_state(st["rng"])
        step, elapsed0, best, since_best = st["step"], st["elapsed"], st["best"], st["since_best"]
        if avg is not None:
            avg.load_state_dict(st["average"])
    if is_main:
        remove_stale_temps(run_dir)  # temp files of writes a kill interrupted
    log = _Log(run_dir, resume, log_dir, step) if is_main else None

    def checkpoint() -> None:
        if is_main:
            save_state(
                run_dir,
                {
                    "model": model.state_dict(),
                    "optimizer": opt.state_dict(),
                    "data": data.state_dict(),
                    "rng": _rng_state(),
                    "step": step,
                    "elapsed": time.monotonic() - t0 + elapsed0,
                    "best": best,
                    "since_best": since_best,
                    "config": asdict(cfg),
                    **({"average": avg.state_dict()} if avg is not None else {}),
                },
            )

    t0 = time.monotonic()
    metrics: dict[str, float] = {}

    def evaluate() -> bool:
        """Validate, keep the best model, write the resumable state; True = early stop."""
        nonlocal best, since_best, metrics
        model.eval()
        with torch.no_grad(), avg.applied() if avg is not None else nullcontext():
            metrics = {k: float(v) for k, v in eval_fn().items()}
            val = metrics[cfg.metric]
            if val < best:
                best, since_best = val, 0
                if is_main:
                    save_fn(run_dir, {**metrics, "step": step})
            else:
                since_best += 1
        model.train()
        history.append({"step": step, **metrics})
        if avg is not None and avg.observe(val, step) and log:
            log.write(dict(step=step, elapsed=round(time.monotonic() - t0 + elapsed0, 3),
                           split="averaging", metrics={"averaging_from": step}))  # fmt: skip
        if log:
            log.write(
                dict(
                    step=step,
                    elapsed=round(time.monotonic() - t0 + elapsed0, 3),
                    split="val",
                    metrics=metrics,
                )
            )
        checkpoint()
        return bool(cfg.patience) and since_best >= cfg.patience

    last_eval_t, tok_t0 = t0, t0
    tokens, run_loss, stop_reason = 0, None, "budget"
    bar = progress_bar(disable=not (progress and is_main))
    try:
        with bar:
            by_time = bool(cfg.time_budget and not cfg.steps)
            task = bar.add_task("train", total=cfg.time_budget if by_time else cfg.steps, info="")
            model.train()
            while True:
                elapsed = time.monotonic() - t0 + elapsed0
                if (cfg.steps and step >= cfg.steps) or (
                    cfg.time_budget and elapsed >= cfg.time_budget
                ):
                    break
                f = lr_factor(cfg, step, elapsed)
                loss, ntok = _update(opt, params, cfg, f, step_fn, data)
                if avg is not None:
                    avg.update()
                step += 1
                tokens += ntok
                lv = float(loss.detach())
                if not math.isfinite(lv):
                    stop_reason = "diverged (loss is not finite: lower --lr)"
                    break
                run_loss = lv if run_loss is None else 0.95 * run_loss + 0.05 * lv
                now = time.monotonic()
                if step % cfg.log_every == 0:
                    tps = tokens / max(now - tok_t0, 1e-9)
                    if log:
                        log.write(
                            dict(
                                step=step,
                                elapsed=round(now - t0 + elapsed0, 3),
                                lr=cfg.lr * f,
                                train_loss=run_loss,
                                tokens_per_s=round(tps, 1),
                                split="train",
                            )
                        )
                    tokens, tok_t0 = 0, now
                    info = f"loss {run_loss:.3f} {describe({'loss': run_loss})}{tps:,.0f} tok/s"
                    done = min(now - t0 + elapsed0, cfg.time_budget) if by_time else step
                    bar.update(task, completed=done, info=info)
                due = (
                    (now - last_eval_t >= cfg.eval_every_s)
                    if cfg.eval_every_s
                    else step % cfg.eval_every == 0
                )
                if due:
                    last_eval_t = now
                    if evaluate():
                        stop_reason = "early stop"
                        break
            if (
                step
                and (not history or history[-1]["step"] != step)
                and math.isfinite(run_loss or 0)
            ):
                evaluate()
        if stop_reason.startswith("diverged") and not math.isfinite(best):
            # nothing usable was trained: say so, rather than leave a run without a model
            raise InputError(
                f"training diverged at step {step} (the loss is not finite) before any "
                "model was good enough to save: lower --lr, or check the data for extreme values"
            )
    except KeyboardInterrupt:
        # Keep the state written at the last evaluation: it is consistent (model, optimizer,
        # data position and RNG of one step), so --resume continues exactly from there.
        raise
    finally:
        if log:
            log.close()
    if avg is not None:
        avg.finish()  # the model is what was evaluated and saved
    return {
        "steps": step,
        "best": best,
        "metrics": metrics,
        "stop_reason": stop_reason,
        "history": history,
        "elapsed": time.monotonic() - t0 + elapsed0,
        "averaged_from": avg.start if avg is not None else None,
    }
