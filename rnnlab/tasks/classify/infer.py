"""A trained classifier, loaded from its run directory: evaluate labelled data, predict labels.

>>> clf = load_classifier("runs/cls")                        # doctest: +SKIP
>>> clf.predict(["what a wonderful film"])[0][0]             # doctest: +SKIP
('pos', 0.93)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from rnnlab.data.sequences import MNIST1D, Samples, load_samples, mnist1d, parse_sequence
from rnnlab.errors import CheckpointError
from rnnlab.tasks.classify.config import TASK, ClassifyData, ClassifyModel
from rnnlab.tasks.classify.data import Encoder, collate
from rnnlab.tasks.classify.evaluate import score_samples
from rnnlab.tasks.classify.model import SequenceClassifier
from rnnlab.train.checkpoint import load_run, load_weights_into


class Classifier:
    """A trained classifier loaded from a run directory (``load_classifier``)."""

    def __init__(
        self,
        model: SequenceClassifier,
        encoder: Encoder,
        classes: list[str],
        config: dict[str, Any],
    ):
        self.model, self.encoder, self.classes, self.config = model, encoder, classes, config

    def evaluate(self, data: str | Path | Samples) -> dict[str, Any]:
        """Metrics on labelled data (``mnist1d``: its test split)."""
        if str(data) == MNIST1D:
            s = mnist1d()[1]
        else:
            s = data if isinstance(data, Samples) else load_samples(data)
        return score_samples(self.model, self.encoder, self.classes, s)

    def predict(self, inputs: list[str]) -> list[list[tuple[str, float]]]:
        """Class probabilities (most likely first) for raw texts, or for sequences written as in
        the CSV ``sequence`` column when the model reads features."""
        if self.encoder.kind == "text":
            s = Samples("text", ["?"] * len(inputs), list(inputs))
        else:
            feats = [parse_sequence(t, f"input {i + 1}") for i, t in enumerate(inputs)]
            s = Samples("features", ["?"] * len(inputs), None, feats)
        x, lengths = collate(self.encoder.encode(s))
        self.model.eval()
        with torch.no_grad():
            p = torch.softmax(self.model(x, lengths), -1)
        return [sorted(zip(self.classes, row.tolist()), key=lambda t: -t[1]) for row in p]


def load_classifier(run_dir: str | Path) -> Classifier:
    """Rebuild a trained classifier (eval mode); a run of another task is a CheckpointError."""
    tensors, cfg = load_run(run_dir, task=TASK)
    where = f"{run_dir}/config.json"
    try:
        spec = ClassifyModel.from_dict(cfg["model"], where)
        data = ClassifyData.from_dict(cfg["data"], where)
        model = SequenceClassifier.from_spec(spec)
        enc = Encoder.from_dict(data.encoder)
    except (AttributeError, KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{where} is incomplete ({e}); retrain it") from None
    load_weights_into(model, tensors, str(run_dir))
    model.eval()
    return Classifier(model, enc, data.classes, cfg)
