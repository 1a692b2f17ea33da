"""The settings of a classifier run, declared once: the CLI options and ``config.json``'s
``model`` / ``data`` / ``train`` sections come from these dataclasses. No torch here (the CLI
imports this module).

>>> ClassifyModel(cell="lstm", pool="mean").to_dict()["pool"]
'mean'
"""

from __future__ import annotations

from dataclasses import dataclass

from rnnlab.config import RNNSpec, Settings, setting
from rnnlab.errors import InputError

TASK = "classify"
POOLS = ("last", "mean", "attention")
DEFAULT_STEPS = 2000  # when neither --steps nor --time-budget is given
DATA_HELP = "CSV (label + text or sequence column), a folder of class folders, or 'mnist1d'."


@dataclass
class ClassifyModel(RNNSpec):
    """The architecture; ``n_classes``, ``vocab_size`` / ``n_features`` come from the data."""

    cell: str = setting("gru", "rnn, rnn_relu, gru, lstm, mingru or minlstm.")
    bidirectional: bool = setting(False, "biRNN.", "--bidirectional/--unidirectional")
    pool: str = setting("last", "last (final states), mean or attention.")
    hidden: int = setting(128, "Hidden units per layer and direction.")
    layers: int = setting(1, "Stacked recurrent layers.")
    embed: int = setting(64, "Embedding size (text inputs).")
    dropout: float = setting(0.0, "Dropout before the classifier and between layers.")
    n_classes: int = setting(2, "Number of classes (from the data).", cli=False)
    vocab_size: int | None = setting(None, "Token models: vocabulary size.", cli=False)
    n_features: int | None = setting(None, "Feature models: features per step.", cli=False)


@dataclass
class ClassifyData(Settings):
    """How the data is read and split; the fields without a CLI option are filled by training."""

    level: str = setting("char", "Text inputs: char or word tokens.")
    max_len: int = setting(400, "Longer sequences are cut to this.", "--max-len")
    val_frac: float = setting(0.1, "Share of --data held out for val.", "--val-frac")
    source: str = setting("", "Where the training data came from.", cli=False)
    classes: list = setting([], "The class names, in output order.", cli=False)
    encoder: dict | None = setting(
        None, "Tokenizer or feature scaler (Encoder.to_dict).", cli=False
    )
    split: dict | None = setting(None, "The validation split (see data.split_record).", cli=False)

    def check(self) -> None:
        """What can be checked before the data is read (the rest is checked where it is used)."""
        if self.max_len < 1:
            raise InputError(f"--max-len must be >= 1, got {self.max_len}")


@dataclass
class ClassifyTrain(Settings):
    batch: int = setting(64, "Sequences per step.")
    lr: float = setting(3e-3, "Peak learning rate (AdamW, warmup + cosine).")
    # None, not 2000: with --time-budget alone the budget is the only limit
    steps: int | None = setting(None, f"Train for this many steps (default {DEFAULT_STEPS}).")
    # a duration ("5m"), or seconds from Python
    time_budget: str | None = setting(None, "Or for this long, e.g. 5m.", "--time-budget")
    eval_every: int = setting(200, "Validate every N steps.", "--eval-every")
    seed: int = setting(0, "Random seed.")
    resume: bool = setting(False, "Continue the run in --out exactly.", "--resume")
    threads: int = setting(1, "CPU threads (1 is fastest for small models).")
