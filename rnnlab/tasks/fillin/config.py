"""The settings of a fill-in-the-blank model, declared once (importable without torch).

>>> FillModel().bidirectional, FillTrain().batch
(True, 64)
"""

from __future__ import annotations

from dataclasses import dataclass

from rnnlab.config import RNNSpec, Settings, setting

TASK = "lm-fill"


@dataclass
class FillModel(RNNSpec):
    """A bidirectional recurrent model (it reads the sentence both ways)."""

    hidden: int = setting(128, "Hidden units per direction.")
    bidirectional: bool = setting(True, "Always: the blank is read from both sides.", cli=False)


@dataclass
class FillTrain(Settings):
    batch: int = setting(64, "Sentences per step.")
    lr: float = setting(3e-3, "Peak learning rate (AdamW, warmup + cosine).")
    steps: int | None = setting(None, "Train for this many steps.")
    time_budget: float | None = setting(None, "Train for this many seconds.")
    warmup: int = setting(30, "Linear warmup steps.")
    seed: int = setting(0, "Random seed.")
