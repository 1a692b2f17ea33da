"""Budget-aware defaults of ``rnnlab lm train``: what to train for a wall-clock budget.

``rnnlab lm train --data X --time-budget T`` (without ``--steps``) takes model size, cell,
batch, sequence length, dropout, learning rate and thread count from the row of ``TABLE``
for its level with the largest budget <= T (the shortest row below that), prints one line
naming the row and its evidence, and every flag given on the command line overrides the row.
Without ``--time-budget``, or with ``--steps``, nothing here applies: today's defaults stay.

Each row states the measurement it comes from (``benchmarks/RESULTS.md``) or says
"not measured yet"; ``benchmarks/lm_recipes.py`` trains the candidates for a budget and
rewrites a row (``--write``).

>>> r = choose(15 * 60, "char")
>>> r.settings["cell"], r.threads
('lstm', 2)
>>> settings, line = apply_recipe({"cell": "gru"}, 15 * 60, cores=2)
>>> settings["cell"], settings["dropout"]
('gru', 0.2)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from rnnlab.data.corpus import tokenizer_name
from rnnlab.train.util import parse_duration


@dataclass(frozen=True)
class Recipe:
    """One row: for ``level`` and budgets from ``budget`` seconds up to the next row's.
    ``settings`` are fields of ``LMModel`` / ``LMTrain``; the others keep their defaults."""

    level: str
    budget: float
    settings: dict[str, Any] = field(hash=False)
    evidence: str = "not measured yet"

    @property
    def threads(self) -> int:
        return int(self.settings.get("threads", 1))

    @property
    def name(self) -> str:
        s = self.settings
        return f"{s['cell']} {s['layers']}x{s['hidden']}"


# --- TABLE (benchmarks/lm_recipes.py --write rewrites this block) ---
TABLE: tuple[Recipe, ...] = (
    Recipe("char", 0, {"cell": "gru", "hidden": 256, "layers": 2, "embed": 64, "dropout": 0.0, "seq_len": 64, "batch": 16, "lr": 0.003, "threads": 1},
           "benchmarks/RESULTS.md, issue 22 race (Tiny Shakespeare, 1 thread, fused kernels): 1.489 nats/char at 3 min; issue 5: 1.495 at 3 min, 1.490 at 5 min"),
    Recipe("char", 900, {"cell": "lstm", "hidden": 256, "layers": 2, "embed": 64, "dropout": 0.2, "seq_len": 64, "batch": 16, "lr": 0.003, "threads": 2},
           "benchmarks/RESULTS.md, issue 22 race (Tiny Shakespeare, 1 thread, fused kernels): 1.457 nats/char at 15 min, 1.608 at 3 min; issue 5: 1.439 at 15 min with batch 32 on 2 threads"),
    Recipe("char", 3600, {"cell": "lstm", "hidden": 256, "layers": 2, "embed": 64, "dropout": 0.2, "seq_len": 64, "batch": 32, "lr": 0.003, "threads": 2},
           "not measured yet at 60 min: the 15-minute row (1.439 nats/char at 15 min)"),
    Recipe("word", 0, {"cell": "lstm", "hidden": 256, "layers": 1, "embed": 128, "dropout": 0.5, "seq_len": 35, "batch": 20, "lr": 0.01, "threads": 1, "tie": True, "weight_drop": 0.5, "embed_dropout": 0.1},
           "benchmarks/RESULTS.md, issue 22 race (PTB small-data, 1 thread): 1.369 bits/char at 5 min, 1.366 at 10 min (word_language_model peer 1.428, 1.427)"),
)  # fmt: skip
# --- end of TABLE ---


def choose(budget_s: float, level: str = "char", table: tuple[Recipe, ...] | None = None) -> Recipe:
    """The row of ``level`` with the largest budget <= ``budget_s`` (the shortest if none).

    A row measured at a shorter budget still trains well for longer; one tuned for a longer
    budget is behind early (the 15-minute LSTM is at 1.579 after 3 minutes, the GRU 1.495).
    """
    table = TABLE if table is None else table
    rows = sorted((r for r in table if r.level == level), key=lambda r: r.budget)
    if not rows:
        raise ValueError(
            f"no recipe for level {level!r}: the table has {sorted({r.level for r in table})}"
        )
    fit = [r for r in rows if r.budget <= budget_s]
    return fit[-1] if fit else rows[0]


def applies(given: dict[str, Any]) -> bool:
    """Whether a recipe is used: a time budget without a step count."""
    return given.get("time_budget") is not None and given.get("steps") is None


def usable_cores() -> int:
    """The CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def for_command(
    opts: dict[str, Any], given: set[str], table: tuple[Recipe, ...] | None = None
) -> tuple[dict[str, Any], str | None]:
    """``rnnlab lm train``'s settings: ``opts`` (every option, defaults included) with the
    recipe's choices for the options not in ``given`` (those on the command line), and the
    line to print; ``(opts, None)`` unchanged when no recipe applies.

    >>> opts = {"time_budget": "3m", "steps": None, "cell": "gru", "batch": 16}
    >>> for_command(opts, {"time_budget"})[0]["batch"]
    16
    """
    mine = {k: opts[k] for k in given if k in opts}
    if not applies(mine):
        return opts, None
    world = int(os.environ.get("WORLD_SIZE", "1"))  # torchrun: the processes share the cores
    cores = max(1, usable_cores() // max(1, world))
    settings, line = apply_recipe(mine, parse_duration(mine["time_budget"]), cores=cores,
                                  table=table)  # fmt: skip
    return {**opts, **settings}, line


def apply_recipe(
    given: dict[str, Any],
    budget_s: float,
    *,
    cores: int | None = None,
    table: tuple[Recipe, ...] | None = None,
) -> tuple[dict[str, Any], str]:
    """``given`` (the settings the user named) on top of the recipe for ``budget_s``; returns
    the settings to train with and the line that says what was chosen and why.

    ``cores`` caps the recipe's thread count (the CPUs this process may use).
    """
    # --tokenizer whitespace makes a word-level run without --level word
    name = tokenizer_name(given.get("level", "char"), given.get("tokenizer_name"))
    level = "char" if name == "char" else "word"
    r = choose(budget_s, level, table)
    chosen = {k: v for k, v in r.settings.items() if k not in given}
    if "threads" in chosen and cores is not None and chosen["threads"] > cores:
        chosen["threads"] = cores
    what = ", ".join(f"{k} {v}" for k, v in chosen.items()) or "nothing (every setting given)"
    kept = sorted(k for k in r.settings if k in given)
    line = (
        f"recipe for {_duration(budget_s)} at {level} level ({_span(r, table)} row): "
        f"{what}"
        + (f"; yours kept: {', '.join(kept)}" if kept else "")
        + f". Evidence: {r.evidence}"
    )
    return {**chosen, **given}, line


def _duration(s: float) -> str:
    return f"{s:g} s" if s < 60 else f"{s / 60:g} min"


def _span(r: Recipe, table: tuple[Recipe, ...] | None) -> str:
    """The budgets a row is for: ``0-15 min``, ``60 min+``."""
    later = [x.budget for x in (TABLE if table is None else table)
             if x.level == r.level and x.budget > r.budget]  # fmt: skip
    lo = "0" if not r.budget else _duration(r.budget).split()[0]
    if not later:
        return f"{_duration(r.budget)}+" if r.budget else "any-budget"
    return f"{lo}-{_duration(min(later))}"
