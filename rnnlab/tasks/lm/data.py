"""A run's held-out text, read back from the split its ``config.json`` records.

``rnnlab lm train`` holds out its ``--val`` file, or the last 10% of ``--data``, and writes
where in ``data.split`` (``rnnlab.data.corpus``): ``lm eval`` and the explorer read exactly
that part, never cutting it again.

>>> text = heldout_text(load_lm("runs/gru").config)     # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from rnnlab.data.corpus import heldout_chunks
from rnnlab.data.textstream import count_chars, encode_chunks, iter_text
from rnnlab.data.tokenize import Tokenizer
from rnnlab.errors import InputError


def eval_text(
    config: dict[str, Any], tok: Tokenizer, data: str | None = None, run: str = "the run"
) -> tuple[np.ndarray, int, str]:
    """``(ids, chars, description)`` of the text to evaluate on: the file ``data``, else the
    run's held-out text (checked unchanged since training)."""
    if data is None:
        split = config.get("data", {}).get("split") or {}
        if not split.get("file") or not Path(split["file"]).is_file():
            raise InputError(f"{run} does not name a readable validation file: give --data PATH")
        chunks, what = heldout_chunks(split)
    else:
        count_chars(data, "data file")
        chunks, what = list(iter_text(data, "data file")), str(data)
    ids = encode_chunks(iter(chunks), tok.encode_array, len(tok))
    if len(ids) < 2:
        raise InputError(f"{what} is too short to evaluate (fewer than 2 tokens)")
    return ids, sum(len(c) for c in chunks), what


def heldout_text(config: dict[str, Any], limit: int = 200_000) -> str:
    """Best effort for the explorer: the run's held-out text (at most ``limit`` characters,
    from a line start), or "" when it is not a readable file any more."""
    split = config.get("data", {}).get("split")
    try:
        chunks, _ = heldout_chunks(split, check=False)
    except (InputError, OSError):
        return ""
    text = "".join(chunks)
    if split.get("kind") == "tail" and int(split.get("val_start") or 0) > 0:
        text = text[text.find("\n") + 1 :]  # the cut fell inside a line: start at the next
    return text[:limit]
