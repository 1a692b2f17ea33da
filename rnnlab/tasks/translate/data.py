"""The pairs a translator trains on, as id sequences and batches.

>>> pairs, source = load_pairs(None, "en", "fr", "en,fr")
>>> source, len(pairs) > 100
('builtin:numbers', True)
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from rnnlab.data import pairs as P
from rnnlab.data.subword import Subwords, Words
from rnnlab.errors import InputError
from rnnlab.tasks.translate.config import BUILTIN


def load_pairs(
    pairs: str | Path | None, src_lang: str, tgt_lang: str, columns: str
) -> tuple[list[P.Pair], str]:
    """The pairs to train on, oriented ``src_lang → tgt_lang``, and a description."""
    if pairs is None or str(pairs) == BUILTIN:
        if (src_lang, tgt_lang) != ("en", "fr"):
            raise InputError("the built-in number pairs are English → French only (en → fr)")
        return P.number_pairs(1000), BUILTIN
    cols = [c.strip() for c in columns.split(",")]
    if len(cols) != 2 or cols[0] == cols[1]:
        raise InputError(
            f"--columns must name the two languages of the file, e.g. en,fr; got {columns!r}"
        )
    if {src_lang, tgt_lang} != set(cols):
        raise InputError(
            f"--src-lang {src_lang} / --tgt-lang {tgt_lang} must be the two languages of the "
            f"file's columns ({cols[0]},{cols[1]}; set them with --columns)"
        )
    return P.read_pairs(pairs, swap=src_lang == cols[1]), str(Path(pairs).resolve())


def file_sha256(path: str) -> str | None:
    """SHA-256 of a file (None for the built-in pairs)."""
    p = Path(path)
    return hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None


def encode_pairs(
    pairs: list[P.Pair], src_vocab: P.Vocab, tgt_vocab: P.Vocab, seg: Words | Subwords
) -> tuple[list[list[int]], list[list[int]]]:
    """Source ids (ending in ``<eos>``) and target ids of each pair, cut by ``seg``."""
    src = [src_vocab.encode(seg.tokens(p.src)) + [P.EOS_ID] for p in pairs]
    tgt = [tgt_vocab.encode(seg.tokens(p.tgt)) for p in pairs]
    return src, tgt


class PairBatchesWithStep(P.PairBatches):
    """``PairBatches`` counting the batches drawn (the teacher-forcing schedule's clock)."""

    def __init__(self, *a: Any, **kw: Any):
        super().__init__(*a, **kw)
        self.steps = 0

    def __next__(self) -> P.Batch:
        self.steps += 1
        return super().__next__()

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "steps": self.steps}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.steps = int(state.get("steps", 0))
