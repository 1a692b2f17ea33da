"""The default demo models: trained once on the built-in corpus, cached, then served.

Five word-level models of the same size on the same data, one per idea the explorer shows:
vanilla RNN, GRU, LSTM (next-word models), a 2-layer "deep" GRU, and a bidirectional GRU
trained to fill in a blank (``rnnlab.tasks.fillin``: a bidirectional model cannot honestly
predict the next word, it has already read it).

>>> root = ensure_demo()              # trains on the first call (< 3 min on 2 cores)  # doctest: +SKIP
>>> reg = rnnlab.serve.demo.demo_registry(root)                                     # doctest: +SKIP
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import multiprocessing as mp
import os
import time
from pathlib import Path
from typing import Any

from rnnlab.data.builtin import CORPUS, DESCRIPTION, corpus_text, sentences
from rnnlab.data.tokenize import WordTokenizer
from rnnlab.errors import InputError
from rnnlab.io import atomic_write_json
from rnnlab.tasks.fillin.train import train_fill
from rnnlab.tasks.lm.train import train_lm
from rnnlab.train.threads import SMALL_MODEL_THREADS, cpu_threads
from rnnlab.train.util import progress_bar

# 3: the sectioned config.json of architecture v2 (format 2): older cached models do not load
DEMO_VERSION = 3
SIZE = {"embed": 64, "hidden": 128}
# short windows, small batches, a high lr and a short warmup: the most progress in a budget of
# under a minute (measured on the GRU at 30 s: val perplexity 4.2, against 10.6 with
# batch 64, lr 4e-3, warmup 50)
LM_OPTS = {"seq_len": 32, "batch": 32, "lr": 1e-2, "warmup": 10}
# name, label, kind, architecture, seconds of training (of one core: two train side by side).
# 80 s of wall clock in all: the validation perplexities are the same as with 1.7x the time
# (GRU 3.8, LSTM 3.8, deep 3.9, fill-in 2.3; measured 2026-12-01), this corpus saturates them.
MODELS: list[tuple[str, str, str, dict[str, Any], float]] = [
    ("rnn", "Vanilla RNN", "lm", {"cell": "rnn", "layers": 1}, 20.0),
    ("gru", "GRU", "lm", {"cell": "gru", "layers": 1}, 30.0),
    ("lstm", "LSTM", "lm", {"cell": "lstm", "layers": 1}, 30.0),
    ("deep", "Deep GRU (2 layers)", "lm", {"cell": "gru", "layers": 2}, 50.0),
    ("bigru", "Bidirectional GRU (fill-in)", "fill", {"cell": "gru", "layers": 1}, 30.0),
]
WORKERS = 2  # two single-threaded trainings beat one two-threaded one for models this small
DONE = "demo.done"


def rnnlab_home() -> Path:
    """``$RNNLAB_HOME`` or ``~/.cache/rnnlab``."""
    return Path(os.environ.get("RNNLAB_HOME") or "~/.cache/rnnlab").expanduser()


def demo_root() -> Path:
    """Cache folder of this version of the demo (a new corpus or recipe gets a new folder)."""
    recipe = repr((DEMO_VERSION, SIZE, LM_OPTS, MODELS, WORKERS)).encode() + CORPUS.read_bytes()
    return rnnlab_home() / "demo" / f"v{DEMO_VERSION}-{hashlib.sha256(recipe).hexdigest()[:10]}"


def data_description() -> str:
    """What the demo models learned from (shown on their model cards)."""
    return DESCRIPTION


def is_trained(root: Path) -> bool:
    return (
        all((root / name / "config.json").exists() for name, *_ in MODELS)
        and (root / DONE).exists()
    )


def _train_one(
    root: str, name: str, kind: str, arch: dict[str, Any], budget: float, progress: bool
) -> tuple[str, float, dict[str, float]]:
    """Train one demo model into ``root/name`` (runs in a worker process)."""
    t0 = time.monotonic()
    out = Path(root) / name
    with cpu_threads(SMALL_MODEL_THREADS):
        s = _train_kind(out, kind, arch, budget, progress)
    metrics = {k: round(float(v), 4) for k, v in s["metrics"].items()}
    return name, round(time.monotonic() - t0, 1), {**metrics, "steps": s["steps"]}


def _train_kind(
    out: Path, kind: str, arch: dict[str, Any], budget: float, progress: bool
) -> dict[str, Any]:
    if kind == "lm":
        return train_lm(
            corpus_text("train"),
            out,
            level="word",
            val=corpus_text("val"),
            seed=0,
            time_budget=budget,
            progress=progress,
            dropout=0.0,
            **SIZE,
            **LM_OPTS,
            **arch,
        )
    # the same vocabulary train_lm builds from the same text
    tok = WordTokenizer.fit(corpus_text("train"))
    return train_fill(
        tok,
        sentences("train"),
        sentences("val"),
        out,
        seed=0,
        lr=LM_OPTS["lr"],
        batch=LM_OPTS["batch"],
        warmup=LM_OPTS["warmup"],
        time_budget=budget,
        progress=progress,
        **SIZE,
        **arch,
    )


def train_demo(
    root: Path, progress: bool = True, scale: float = 1.0, workers: int = WORKERS, log=print
) -> dict[str, Any]:
    """Train every demo model into ``root/<name>``, ``workers`` at a time (longest first);
    returns per model its seconds and final metrics."""
    root.mkdir(parents=True, exist_ok=True)
    (root / DONE).unlink(missing_ok=True)
    order = sorted(MODELS, key=lambda m: -m[4])
    # longest-first onto `workers` lanes: the wall time is the busiest lane
    lanes = [0.0] * max(1, workers)
    for *_, b in order:
        lanes[lanes.index(min(lanes))] += b * scale
    total = max(lanes)
    labels = {m[0]: m[1] for m in MODELS}
    log(
        f"training {len(MODELS)} demo models on the built-in corpus, {workers} at a time "
        f"(about {total + 15:.0f} s; cached in {root})"
    )
    results: dict[str, Any] = {}
    t0 = time.monotonic()
    ctx = mp.get_context("spawn")  # no fork of a process that may hold torch threads
    with (
        cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool,
        progress_bar(disable=not progress) as bar,
    ):
        task = bar.add_task("demo models", total=round(total), info="")
        futs = [
            pool.submit(_train_one, str(root), n, k, a, b * scale, False)
            for n, _l, k, a, b in order
        ]
        pending = set(futs)
        while pending:
            done, pending = cf.wait(pending, timeout=0.5, return_when=cf.FIRST_COMPLETED)
            for f in done:
                name, secs, metrics = f.result()
                results[name] = {"seconds": secs, **metrics}
                ppl = metrics.get("val_ppl")
                bar.console.print(
                    f"  {labels[name]}: {metrics['steps']} steps in {secs:.0f} s, "
                    f"val perplexity {ppl:.1f}"
                )
            bar.update(
                task,
                completed=min(total, time.monotonic() - t0),
                info=f"{len(results)}/{len(MODELS)} done",
            )
    results["wall_seconds"] = round(time.monotonic() - t0, 1)
    atomic_write_json(root / DONE, results)
    return results


def ensure_demo(retrain: bool = False, no_train: bool = False, progress: bool = True) -> Path:
    """The folder of trained demo models, training them if needed."""
    root = demo_root()
    if retrain and no_train:
        raise InputError("--retrain and --no-train contradict each other: pick one")
    if is_trained(root) and not retrain:
        return root
    if no_train:
        raise InputError(
            f"no trained demo models in {root}: run `rnnlab demo` once without "
            "--no-train (trains them in about 90 seconds)"
        )
    train_demo(root, progress=progress)
    return root
