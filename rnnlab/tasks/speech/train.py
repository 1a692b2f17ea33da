"""Training an acoustic model with CTC on FSDD, on ``rnnlab.train.run.train_run``.

>>> r = train_speech("../shared/data/fsdd", "runs/digits", steps=500)   # doctest: +SKIP
>>> r["test"]["acc"]                                                    # doctest: +SKIP
0.97
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from torch import Tensor

from rnnlab.config import pick_all
from rnnlab.data.audio import FeatureConfig, fsdd_index, split_recordings
from rnnlab.errors import CheckpointError, InputError
from rnnlab.tasks.speech.config import (
    DEFAULT_STEPS,
    RECORDED,
    TASK,
    TASKS,
    SpeechData,
    SpeechModel,
    SpeechTrain,
)
from rnnlab.tasks.speech.data import SpeechStream, eval_sets, split_record
from rnnlab.tasks.speech.evaluate import score
from rnnlab.tasks.speech.model import build_model, ctc_loss
from rnnlab.train.checkpoint import load_run, load_weights_into, read_config
from rnnlab.train.loop import TrainConfig
from rnnlab.train.run import guard_out, train_run
from rnnlab.train.threads import cpu_threads
from rnnlab.train.util import parse_duration, set_seed


def _check(dc: SpeechData) -> None:
    if dc.task not in TASKS:
        raise InputError(f"unknown task {dc.task!r}: choose digits or connected")
    if not 1 <= dc.min_digits <= dc.max_digits <= 20:
        raise InputError(
            f"need 1 <= --min-digits <= --max-digits <= 20, got {dc.min_digits}, {dc.max_digits}"
        )


def train_speech(
    data: str | Path, out: str | Path, *, progress: bool = True, **settings: Any
) -> dict[str, Any]:
    """Train an acoustic model with CTC on the FSDD folder ``data``; the best model by
    validation loss is kept in ``out`` and scored on the test split.

    ``settings`` are the fields of ``SpeechModel``, ``SpeechData`` and ``SpeechTrain``.
    Returns ``train_run``'s summary plus ``seconds``, ``params`` and the full ``val`` and
    ``test`` metrics (with their confusion matrices).
    """
    given = sorted(set(settings) & set(RECORDED))
    if given:
        raise TypeError(f"train_speech() records {', '.join(given)} itself: do not pass them")
    spec, dc, tc = pick_all(settings, SpeechModel, SpeechData, SpeechTrain, where="train_speech()")
    _check(dc)
    if tc.init is not None:
        tc = tc.replace(init=str(tc.init))  # a Path from the Python API: config.json is JSON
    budget = parse_duration(tc.time_budget)
    if tc.steps is None and budget is None:
        tc = tc.replace(steps=DEFAULT_STEPS)
    if spec.conv_layers is None:  # connected strings are long: 80 ms frames keep the RNN cheap
        spec = spec.replace(conv_layers=3 if dc.task == "connected" else 2)
    set_seed(tc.seed)
    fcfg = FeatureConfig(kind=dc.features, speech_db=dc.speech_db)
    spec = spec.replace(n_features=fcfg.dim)
    parts = split_recordings(
        fsdd_index(data), dc.split_by, tc.seed, dc.test_speaker, val_speaker=dc.val_speaker
    )
    if dc.split_by == "speaker" and dc.test_speaker is None:
        dc = dc.replace(test_speaker=parts["test"][0].speaker)
    dc = dc.replace(
        path=str(data),
        feature_config=asdict(fcfg),
        split=split_record(parts, dc.split_by, tc.seed, dc.test_speaker, dc.val_speaker),
    )
    if tc.init is not None:  # transfer: start from another speech run (its architecture wins)
        spec = SpeechModel.from_dict(read_config(tc.init)["model"])
    arch = ("cell", "hidden", "layers", "bidirectional", "conv_layers")
    same = {f"model.{k}": getattr(spec, k) for k in arch}
    same.update({"data.task": dc.task, "data.features": dc.features})
    old = guard_out(out, TASK, resume=tc.resume, same=same)
    if old and (old["data"].get("split") or {}).get("sha256") != dc.split["sha256"]:
        raise InputError(
            f"{out} was trained on other validation/test recordings: resume with the same "
            "--data, --split and --seed"
        )
    # not in ``same``: guard_out skips a value the old run lacks, and None (all frames) is one
    was_db = (old or {}).get("data", {}).get("feature_config", {}).get("speech_db")
    if old and was_db != fcfg.speech_db:
        raise CheckpointError(
            f"{out} was trained with --speech-db {was_db or 0}: resume with the same setting"
        )
    model = build_model(spec)
    if tc.init is not None and not tc.resume:
        tensors, _ = load_run(tc.init, task=TASK)
        load_weights_into(model, tensors, str(tc.init))
    config = {
        "task": TASK,
        "model": spec.to_dict(),
        "data": dc.to_dict(),
        "train": tc.to_dict(),
    }
    warmup = max(1, min(100, (tc.steps or 10**9) // 10))
    cfg = TrainConfig(
        steps=tc.steps,
        time_budget=budget,
        lr=tc.lr,
        clip=1.0,
        warmup=warmup,
        eval_every=tc.eval_every,
    )
    with cpu_threads(tc.threads, flush_denormal=True):
        sets = eval_sets(dc, data, ("train", "val"))
        conn = dict(min_digits=dc.min_digits, max_digits=dc.max_digits, snr_db=dc.snr_db)
        stream = SpeechStream(sets["train"], dc.task, tc.batch, tc.seed, conn, tc.augment)
        xva, yva = sets["val"]
        full: dict[str, Any] = {}

        def step_fn(b: tuple[Tensor, Tensor, list[list[int]]]) -> tuple[Tensor, int]:
            x, lengths, labels = b
            logp, ol = model(x, lengths)
            return ctc_loss(logp, ol, labels), int(lengths.sum())

        def eval_fn() -> dict[str, float]:
            m = score(model, xva, yva)
            return {"val_loss": m["loss"], "val_wer": m["wer"], "val_acc": m["acc"]}

        def final_eval() -> dict[str, Any]:
            xte, yte = eval_sets(dc, data, ("test",))["test"]
            full["val"], full["test"] = score(model, xva, yva), score(model, xte, yte)
            brief = {s: {k: v for k, v in full[s].items() if k != "confusion"} for s in full}
            return {**brief, "params": sum(p.numel() for p in model.parameters())}

        s = train_run(
            model,
            cfg,
            out,
            config=config,
            data=stream,
            step_fn=step_fn,
            eval_fn=eval_fn,
            final_eval=final_eval,
            resume=tc.resume,
            progress=progress,
        )
    return {**s, "seconds": s["elapsed"], "params": s["metrics"]["params"], **full}
