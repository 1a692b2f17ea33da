"""The settings of a memory-lab run, declared once: the CLI options of ``rnnlab memory run`` /
``sweep`` and ``config.json``'s ``model`` / ``data`` / ``train`` sections. No torch here.

>>> MemoryData(task="parity", length=8).to_dict()["length"]
8
"""

from __future__ import annotations

from dataclasses import dataclass

from rnnlab.config import CELLS, Settings, setting

TASK = "memory"
MEMORY_TASKS = ("adding", "copy", "recall", "parity")
TASK_HELP = "adding | copy | recall (copy with a randomly timed recall cue) | parity"
ACC_SOLVED = 0.99  # copy / recall / parity are solved at this accuracy


@dataclass
class MemoryNet(Settings):
    """Features → recurrent layer → linear head (no embedding, dropout or second direction)."""

    cell: str = setting("gru", " | ".join(CELLS))
    hidden: int = setting(64, "Hidden units.")
    layers: int = setting(1, "Stacked layers.")
    forget_bias: float | None = setting(
        1.0, "LSTM: initial forget-gate bias (torch.nn's own init: 0).", "--forget-bias"
    )


@dataclass
class MemoryData(Settings):
    """Which synthetic task, and the fixed validation / test sets (seeded streams 1 and 2)."""

    task: str = setting("adding", TASK_HELP, "--task")
    length: int = setting(100, "Memory span T (copy: the delay).", "--length", "-T")
    modulus: int = setting(2, "parity: count ones modulo this.", "--modulus")
    alphabet: int = setting(8, "copy / recall: symbols to remember from.", cli=False)
    n_symbols: int = setting(10, "copy / recall: symbols per sequence.", cli=False)
    n_val: int = setting(500, "Validation sequences.", cli=False)
    n_test: int = setting(1000, "Test sequences.", cli=False)
    split: dict | None = setting(None, "How val / test are generated (train fills it).", cli=False)


@dataclass
class MemoryTrain(Settings):
    steps: int = setting(2000, "Training steps (batches).", "--steps")
    seed: int = setting(0, "Seed of the data and the initialisation.", "--seed")
    batch: int = setting(64, "Sequences per step.", "--batch")
    lr: float = setting(1e-2, "Peak learning rate (AdamW, warmup + cosine).", "--lr")
    solved_ratio: float = setting(0.01, "adding: solved when MSE < this × 1/6.", "--solved-ratio")
    eval_every: int = setting(200, "Validate every N steps.", cli=False)
    threads: int = setting(1, "CPU threads (1 is fastest for these small models).", cli=False)
