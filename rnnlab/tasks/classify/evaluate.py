"""Classification metrics: the confusion matrix, macro-F1, and a model's scores on samples.

>>> confusion_matrix([0, 1, 1], [0, 1, 0], 2).tolist()
[[1, 0], [1, 1]]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from rnnlab.data.sequences import Samples
from rnnlab.errors import InputError
from rnnlab.tasks.classify.data import Encoder, collate
from rnnlab.tasks.classify.model import SequenceClassifier

BRIEF = ("loss", "acc", "macro_f1")  # what config.json keeps of a split's metrics


def confusion_matrix(
    y_true: list[int] | np.ndarray, y_pred: list[int] | np.ndarray, n: int
) -> np.ndarray:
    """(n, n) counts: row = true class, column = predicted class."""
    cm = np.zeros((n, n), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return cm


def macro_f1(cm: np.ndarray) -> float:
    """Unweighted mean of per-class F1 = 2TP / (2TP + FP + FN) over the classes that occur
    (as a true or a predicted label), like scikit-learn's ``f1_score(average="macro")``."""
    tp = np.diag(cm).astype(float)
    denom = cm.sum(0) + cm.sum(1)  # 2TP + FP + FN
    seen = denom > 0
    return float((2 * tp[seen] / denom[seen]).mean()) if seen.any() else 0.0


def evaluate(
    model: SequenceClassifier, seqs: list[Tensor], labels: Tensor, batch: int = 256
) -> dict[str, Any]:
    """Loss, accuracy, macro-F1 and the confusion matrix of ``model`` on encoded sequences."""
    model.eval()
    logits = []
    with torch.no_grad():
        for i in range(0, len(seqs), batch):
            x, lengths = collate(seqs[i : i + batch])
            logits.append(model(x, lengths))
    lg = torch.cat(logits)
    pred = lg.argmax(-1)
    cm = confusion_matrix(labels.numpy(), pred.numpy(), lg.shape[1])
    return {
        "loss": float(nn.functional.cross_entropy(lg, labels)),
        "acc": float((pred == labels).float().mean()),
        "macro_f1": macro_f1(cm),
        "confusion": cm.tolist(),
    }


def label_ids(s: Samples, classes: list[str]) -> Tensor:
    """The class index of every sample; a label the model never saw is an InputError."""
    unknown = sorted(set(s.labels) - set(classes))
    if unknown:
        raise InputError(
            f"{s.source} has labels the model never saw: {unknown[:5]} (known: {classes[:10]})"
        )
    cidx = {c: i for i, c in enumerate(classes)}
    return torch.tensor([cidx[c] for c in s.labels])


def score_samples(
    model: SequenceClassifier, enc: Encoder, classes: list[str], s: Samples
) -> dict[str, Any]:
    """``evaluate`` on raw labelled samples."""
    return evaluate(model, enc.encode(s), label_ids(s, classes))


def brief(m: dict[str, Any]) -> dict[str, Any]:
    """A split's metrics without the confusion matrix (what ``config.json`` keeps)."""
    return {k: m[k] for k in BRIEF}
