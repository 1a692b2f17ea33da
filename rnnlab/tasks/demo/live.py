"""``rnnlab demo --retrain``: watch the five word models train, live, on the built-in corpus.

The shipped models (``rnnlab.tasks.demo.shipped``) are what ``rnnlab demo`` serves; this is the
first-run experience for a person who wants to see training happen: the same five recipes
(``recipes.RECIPES``, group "words"), each for a short time budget instead of its step budget,
two at a time, with a progress bar, cached under ``$RNNLAB_HOME/demo``.

>>> root = train_live()                # about 90 s on 2 cores   # doctest: +SKIP
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import multiprocessing as mp
import time
from pathlib import Path
from typing import Any

from rnnlab.data.builtin import CORPUS, corpus_text, sentences
from rnnlab.data.tokenize import WordTokenizer
from rnnlab.io import atomic_write_json, rnnlab_home
from rnnlab.tasks.demo.recipes import RECIPES
from rnnlab.tasks.fillin.train import train_fill
from rnnlab.tasks.lm.train import train_lm
from rnnlab.train.threads import SMALL_MODEL_THREADS, cpu_threads
from rnnlab.train.util import progress_bar

LIVE_VERSION = 4  # 4: the real Tatoeba corpus and the shipped recipes
# name, label, kind, settings, seconds of training (of one core: two train side by side)
# (a vocabulary of 4,700 words learns little in this time: these models show training
# happen; the shipped ones, trained for minutes, are what the explorer shows by default)
SECONDS = {"rnn": 40.0, "gru": 50.0, "lstm": 50.0, "deep": 70.0, "bigru": 50.0}
BUDGET_KEYS = ("steps", "eval_every", "threads", "time_budget")
MODELS: list[tuple[str, str, str, dict[str, Any], float]] = [
    (r.name, r.label, r.kind, {k: v for k, v in r.settings.items() if k not in BUDGET_KEYS},
     SECONDS[r.name])
    for r in RECIPES if r.group == "words"
]  # fmt: skip
WORKERS = 2  # two single-threaded trainings beat one two-threaded one for models this small
DONE = "demo.done"


def demo_root() -> Path:
    """Cache folder of this version of the live demo (a new corpus or recipe: a new folder)."""
    recipe = repr((LIVE_VERSION, MODELS, WORKERS)).encode() + CORPUS.read_bytes()
    return rnnlab_home() / "demo" / f"v{LIVE_VERSION}-{hashlib.sha256(recipe).hexdigest()[:10]}"


def is_trained(root: Path) -> bool:
    return (
        all((root / name / "config.json").exists() for name, *_ in MODELS)
        and (root / DONE).exists()
    )


def _train_one(
    root: str, name: str, kind: str, settings: dict[str, Any], budget: float, progress: bool
) -> tuple[str, float, dict[str, float]]:
    """Train one demo model into ``root/name`` (runs in a worker process)."""
    t0 = time.monotonic()
    out = Path(root) / name
    with cpu_threads(SMALL_MODEL_THREADS):
        s = _train_kind(out, kind, settings, budget, progress)
    metrics = {k: round(float(v), 4) for k, v in s["metrics"].items()}
    return name, round(time.monotonic() - t0, 1), {**metrics, "steps": s["steps"]}


def _train_kind(
    out: Path, kind: str, settings: dict[str, Any], budget: float, progress: bool
) -> dict[str, Any]:
    if kind == "lm":
        return train_lm(
            corpus_text("train"), out, val=corpus_text("val"), time_budget=budget,
            progress=progress, **settings,
        )  # fmt: skip
    # the vocabulary the word models build from the same text
    tok = WordTokenizer.fit(corpus_text("train"), min_count=2)
    return train_fill(
        tok, sentences("train"), sentences("val"), out, time_budget=budget, progress=progress,
        **settings,
    )  # fmt: skip


def train_live(
    root: Path | None = None,
    progress: bool = True,
    scale: float = 1.0,
    workers: int = WORKERS,
    log: Any = print,
) -> Path:
    """Train every demo model into ``root/<name>``, ``workers`` at a time (longest first);
    returns the folder."""
    root = root or demo_root()
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
        f"training {len(MODELS)} word models on real English, live, {workers} at a time "
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
    return root
