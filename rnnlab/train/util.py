"""Small helpers shared by every task: durations, seeds, devices, the progress bar."""

from __future__ import annotations

import random
import re

import torch
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from rnnlab.errors import InputError

_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}


def parse_duration(text: str | float | int | None) -> float | None:
    """Seconds from ``"90s"``, ``"15m"``, ``"1h30m"``, ``"1.5h"`` or a plain number of seconds.

    >>> parse_duration("1h30m")
    5400.0
    """
    if text is None or text == "":
        return None
    if isinstance(text, (int, float)):
        secs = float(text)
    else:
        s = text.strip().lower()
        parts = re.findall(r"(\d+(?:\.\d+)?)\s*(h|min|m|sec|s)?", s)
        if not parts or re.sub(r"(\d+(?:\.\d+)?)\s*(h|min|m|sec|s)?", "", s).strip():
            raise InputError(f"invalid duration {text!r}: use e.g. 90s, 15m, 1h30m")
        secs = sum(float(n) * _UNITS[u or "s"] for n, u in parts)
    if secs <= 0:
        raise InputError(f"duration must be positive, got {text!r}")
    return secs


def set_seed(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)
    try:
        import numpy as np

        np.random.seed(seed % 2**32)
    except ImportError:  # pragma: no cover
        pass


def pick_device(name: str = "auto") -> torch.device:
    """``auto`` → cuda when available, else cpu. A request for an absent device is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise InputError(
            "--device cuda was asked for but no CUDA GPU is available; use --device cpu"
        )
    try:
        return torch.device(name)
    except RuntimeError:
        raise InputError(f"unknown device {name!r}: use auto, cpu or cuda") from None


def progress_bar(disable: bool = False) -> Progress:
    """The rich progress bar every training command uses (steps, elapsed, ETA, live metrics)."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        disable=disable,
        transient=False,
    )
