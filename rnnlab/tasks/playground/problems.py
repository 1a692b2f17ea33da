"""What a playground run trains on: the memory lab's synthetic tasks (``rnnlab.tasks.memory.data``)
or next-character prediction on Tiny Shakespeare's built-in held-out tenth (public domain,
``rnnlab/data/builtin/NOTICE.md``). Every batch is a pure function of (seed, index), so both
lanes see the same data and a test can replay a run.

>>> p = problem(DataKnobs(task="parity", length=8))
>>> p.batch(0)[0].shape
torch.Size([64, 8, 1])
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import Tensor

from rnnlab.data import synthetic
from rnnlab.data.builtin import shakespeare_val
from rnnlab.tasks.memory.data import TaskSpec, make_batch, task_spec
from rnnlab.tasks.playground.config import DataKnobs

ALPHABET = 8  # copy / recall symbols
N_VAL, N_PROBE = 256, 8  # sequences in the fixed validation set and the probe batch
TEXT_HELD_OUT = 0.1  # the text's last tenth: validation and probe windows


@dataclass(frozen=True)
class Problem:
    """A task with its batches. ``score`` is higher-is-better: accuracy, or for adding the
    variance explained (1 - MSE / (1/6)); ``chance`` what a model that learned nothing scores."""

    knobs: DataKnobs
    spec: TaskSpec
    chance: float
    score_name: str

    def batch(self, i: int) -> tuple[Tensor, Tensor]:
        """Training batch ``i`` (stream 0)."""
        return self._make(self.knobs.batch, synthetic.seeded(self.knobs.seed, 0, i), False)

    def val(self) -> tuple[Tensor, Tensor]:
        """The fixed validation set (stream 1) the curves and the verdict are read on."""
        return self._make(N_VAL, synthetic.seeded(self.knobs.seed, 1, 0), True)

    def probe(self) -> tuple[Tensor, Tensor]:
        """The fixed probe batch (stream 2): the gradient curve, the hidden state (its first
        sequence) and the model's answer are read on it."""
        return self._make(N_PROBE, synthetic.seeded(self.knobs.seed, 2, 0), True)

    def _make(self, n: int, gen: torch.Generator, held_out: bool) -> tuple[Tensor, Tensor]:
        k = self.knobs
        if k.task == "text":
            return text_windows(n, k.length, gen, held_out)
        return make_batch(k.task, n, k.length, gen, n_symbols=k.symbols, alphabet=ALPHABET)


@lru_cache(maxsize=1)
def text_ids() -> tuple[Tensor, str]:
    """The built-in text as ids, and its alphabet (sorted characters)."""
    text = shakespeare_val()
    chars = "".join(sorted(set(text)))
    index = {c: i for i, c in enumerate(chars)}
    return torch.tensor([index[c] for c in text], dtype=torch.long), chars


def text_windows(n: int, length: int, gen: torch.Generator, held_out: bool):
    """``n`` random windows: ``x`` (n, length, V) one-hot characters, ``y`` (n, length) the
    character after each. Training windows from the first 90%, the others from the rest."""
    ids, chars = text_ids()
    cut = int(len(ids) * (1 - TEXT_HELD_OUT))
    lo, hi = (cut, len(ids)) if held_out else (0, cut)
    starts = lo + torch.randint(0, hi - lo - length - 1, (n,), generator=gen)
    win = ids[starts.unsqueeze(1) + torch.arange(length + 1)]
    x = torch.nn.functional.one_hot(win[:, :-1], len(chars)).float()
    return x, win[:, 1:]


def problem(knobs: DataKnobs) -> Problem:
    """The ``Problem`` of a run's data knobs. Chance, for the classification tasks, is the
    share of the validation set's most frequent answer (what a model that learned only the
    answers' frequencies scores on it); for adding a variance explained of 0."""
    if knobs.task == "text":
        V = len(text_ids()[1])
        spec = TaskSpec("text", V, V, True, False, "the most frequent character")
    else:
        spec = task_spec(knobs.task, alphabet=ALPHABET)
    if spec.regression:
        return Problem(knobs, spec, 0.0, "variance explained")
    p = Problem(knobs, spec, 0.0, "accuracy")
    y = p.val()[1]
    y = y[y != synthetic.IGNORE]
    return dataclasses.replace(p, chance=float(torch.bincount(y).max()) / len(y))


def score_of(metrics: dict[str, float]) -> float:
    """The higher-is-better score (see ``Problem``) of ``rnnlab.tasks.memory.model.score``'s
    metrics: its accuracy, or for adding 1 - its normalised MSE."""
    return 1.0 - metrics["nmse"] if "nmse" in metrics else metrics["acc"]
