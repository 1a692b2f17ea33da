"""What the lm tests share: a small text and a tiny untrained model of it."""

from __future__ import annotations

import torch

from rnnlab.data.tokenize import CharTokenizer
from rnnlab.tasks.lm.model import LanguageModel

# the sections every config.json has (rnnlab.train.checkpoint.SECTIONS)
EMPTY = {"model": {}, "data": {}, "train": {}, "metrics": {}}
TEXT = "the cat sat on the mat.\nthe dog sat on the log.\n" * 40
TINY = dict(hidden=24, layers=1, embed=8, seq_len=16, batch=4, progress=False, dropout=0.0)


def tiny_model(cell: str = "gru", text: str = TEXT, layers: int = 2, seed: int = 0):
    torch.manual_seed(seed)
    tok = CharTokenizer.fit(text)
    return LanguageModel(tok, cell=cell, embed=8, hidden=16, layers=layers).eval()
