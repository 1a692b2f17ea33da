"""The built-in numbers model (English → French number words) that the explorer's
``/translate`` page shows when no run is given: trained on first use (about a minute), cached.

>>> run = builtin_run(Path("~/.cache/rnnlab").expanduser())      # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from rnnlab.tasks.translate.train import train_translate

BUILTIN_RECIPE = dict(
    hidden=64, embed=32, batch=32, steps=800, lr=1e-2, eval_every=200, threads=1
)  # fmt: skip
VERSION = "numbers-v2"  # v2: config.json format 2 (a v1 cache is not readable any more)


def builtin_run(home: str | Path) -> Path:
    """The run directory of the numbers model under ``home``, trained there on first use."""
    run = Path(home) / "translate" / VERSION
    if not (run / "config.json").exists():
        train_translate(None, run, progress=False, **BUILTIN_RECIPE)
    return run
