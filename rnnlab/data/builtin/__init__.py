"""The built-in texts of the demo (see ``NOTICE.md``): real everyday English from Tatoeba
(the word models learn from it) and the held-out tail of Tiny Shakespeare (the character
model is validated on it).

>>> train = corpus_text("train")      # one sentence per line
>>> "I'm hungry." in train
True
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

CORPUS = Path(__file__).with_name("english.txt.gz")
SHAKESPEARE_VAL = Path(__file__).with_name("shakespeare_val.txt.gz")
NOTICE = Path(__file__).with_name("NOTICE.md")
VAL_EVERY = 20  # every 20th sentence is held out (validation, game sentences)
DESCRIPTION = (
    "Real everyday English: the 47,597 distinct English sentences of 73,526 Tatoeba "
    "English-French pairs (tatoeba.org, CC-BY 2.0 France), every 20th held out"
)


@lru_cache(maxsize=1)
def _lines() -> tuple[str, ...]:
    text = gzip.decompress(CORPUS.read_bytes()).decode("utf-8")
    return tuple(line for line in text.splitlines() if line)


def sentences(split: str = "train") -> list[str]:
    """The sentences of ``split``: "train", "val" (held out, every 20th) or "all"."""
    if split not in ("train", "val", "all"):
        raise ValueError(f"split must be train, val or all, got {split!r}")
    rows = _lines()
    if split == "all":
        return list(rows)
    want_val = split == "val"
    return [s for i, s in enumerate(rows) if (i % VAL_EVERY == VAL_EVERY - 1) == want_val]


def corpus_text(split: str = "train") -> str:
    """The sentences of ``split`` joined by newlines (ends with a newline)."""
    return "\n".join(sentences(split)) + "\n"


@lru_cache(maxsize=1)
def shakespeare_val() -> str:
    """The last 10% of Tiny Shakespeare: the character model's held-out text."""
    return gzip.decompress(SHAKESPEARE_VAL.read_bytes()).decode("utf-8")


def heldout_run(encode: Callable[[str], list[int]], max_tokens: int) -> str:
    """Held-out sentences joined by spaces, as many as ``encode`` reads in at most
    ``max_tokens`` tokens (a long real text, e.g. to time the explorer on).

    >>> len(heldout_run(str.split, 12).split()) <= 12
    True
    """
    out: list[str] = []
    for s in sentences("val"):
        if len(encode(" ".join([*out, s]))) > max_tokens:
            break
        out.append(s)
    return " ".join(out)
