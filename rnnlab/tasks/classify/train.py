"""Training a classifier on ``rnnlab.train.run``: the best model by validation loss is kept
and scored on the test data.

>>> res = train_classifier("mnist1d", "runs/m1d", cell="gru", steps=3000)   # doctest: +SKIP
>>> res["test"]["acc"]                                                     # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import nn

from rnnlab.config import pick_all
from rnnlab.data.sequences import MNIST1D, Samples, load_samples, mnist1d
from rnnlab.errors import InputError
from rnnlab.tasks.classify.config import (
    DEFAULT_STEPS,
    TASK,
    ClassifyData,
    ClassifyModel,
    ClassifyTrain,
)
from rnnlab.tasks.classify.data import (
    Encoder,
    EpochStream,
    split_from_record,
    split_indices,
    split_record,
)
from rnnlab.tasks.classify.evaluate import brief, evaluate, label_ids, score_samples
from rnnlab.tasks.classify.model import SequenceClassifier
from rnnlab.train.loop import TrainConfig
from rnnlab.train.run import guard_out, train_run
from rnnlab.train.threads import cpu_threads
from rnnlab.train.util import parse_duration, set_seed

SECTIONS = (ClassifyModel, ClassifyData, ClassifyTrain)


def train_classifier(
    data: str | Path | Samples,
    out: str | Path,
    *,
    test: str | Path | Samples | None = None,
    progress: bool = True,
    **kw: Any,
) -> dict[str, Any]:
    """Train a classifier; the best model by validation loss is kept in ``out`` and scored on
    ``test`` (for ``mnist1d``: its official test split). ``kw`` are the fields of
    ``ClassifyModel``, ``ClassifyData`` and ``ClassifyTrain`` (``cell="lstm"``, ``steps=500``).

    Returns the summary of ``train_run`` with the full ``val`` (and ``test``) metrics,
    confusion matrices included, ``params`` and ``classes``.
    """
    spec, dcfg, tcfg = pick_all(kw, *SECTIONS, where="train_classifier()")
    dcfg.check()
    old = guard_out(out, TASK, resume=tcfg.resume, same=_same(spec))
    budget = parse_duration(tcfg.time_budget)
    tcfg = tcfg.replace(steps=tcfg.steps if tcfg.steps or budget else DEFAULT_STEPS)
    samples = data if isinstance(data, Samples) else load_samples(data)
    if str(test) == MNIST1D or (test is None and str(data) == MNIST1D):
        test = mnist1d()[1]  # the official test split
    classes = samples.classes
    if len(classes) < 2:
        raise InputError(f"{samples.source} has one class ({classes}); need at least two")
    set_seed(tcfg.seed)
    if old and (old["data"] or {}).get("split"):  # resumed: the run's own split, never re-cut
        split = old["data"]["split"]
        tr_idx, va_idx = split_from_record(split, len(samples), where=str(out))
    else:
        tr_idx, va_idx = split_indices(len(samples), dcfg.val_frac, tcfg.seed)
        split = split_record(len(samples), dcfg.val_frac, tcfg.seed, va_idx)
    train, val = samples.subset(tr_idx), samples.subset(va_idx)
    enc = Encoder.fit(train, dcfg.level, dcfg.max_len)
    ytr, yva = label_ids(train, classes), label_ids(val, classes)
    xtr, xva = enc.encode(train), enc.encode(val)
    spec = spec.replace(
        n_classes=len(classes),
        vocab_size=len(enc.tokenizer) if enc.tokenizer else None,
        n_features=enc.n_features,
    )
    model = SequenceClassifier.from_spec(spec)
    dcfg = dcfg.replace(
        source=samples.source,
        classes=classes,
        encoder=enc.to_dict(),
        val_frac=split["val_frac"],
        split=split,
    )
    config = {
        "task": TASK,
        "model": spec.to_dict(),
        "data": dcfg.to_dict(),
        "train": tcfg.to_dict(),
    }
    test_samples = None
    if test is not None:
        test_samples = test if isinstance(test, Samples) else load_samples(test)

    def step_fn(b):
        x, lengths, y = b
        return nn.functional.cross_entropy(model(x, lengths), y), int(lengths.sum())

    def eval_fn() -> dict[str, float]:
        m = evaluate(model, xva, yva)
        return {"val_loss": m["loss"], "val_acc": m["acc"], "val_macro_f1": m["macro_f1"]}

    full: dict[str, Any] = {}  # the final metrics with their confusion matrices

    def final_eval() -> dict[str, Any]:
        full["val"] = evaluate(model, xva, yva)
        if test_samples is not None:
            full["test"] = score_samples(model, enc, classes, test_samples)
        full["params"] = sum(p.numel() for p in model.parameters())
        return {k: brief(v) if isinstance(v, dict) else v for k, v in full.items()}

    cfg = TrainConfig(
        steps=tcfg.steps, time_budget=budget, lr=tcfg.lr, clip=1.0, eval_every=tcfg.eval_every
    )
    # flush subnormals too: a vanishing gradient is full of them, and x86 is slow on them
    with cpu_threads(tcfg.threads, flush_denormal=True):
        summary = train_run(
            model,
            cfg,
            out,
            config=config,
            data=EpochStream(xtr, ytr, tcfg.batch, tcfg.seed),
            step_fn=step_fn,
            eval_fn=eval_fn,
            final_eval=final_eval,
            resume=tcfg.resume,
            progress=progress,
        )
    return {**summary, **full, "classes": classes}


def _same(spec: ClassifyModel) -> dict[str, Any]:
    """The model settings a ``--resume`` must repeat (the weights would not fit otherwise)."""
    keys = ("cell", "hidden", "layers", "embed", "bidirectional", "pool")
    return {f"model.{k}": getattr(spec, k) for k in keys}
