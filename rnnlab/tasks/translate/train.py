"""Training a translator: teacher forcing scheduled down over the budget, on ``train_run``.

>>> s = train_translate(None, "runs/num", steps=50, progress=False)   # doctest: +SKIP
>>> s["steps"], s["n_pairs"]["train"]                                 # doctest: +SKIP
(50, 765)
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from torch import Tensor

from rnnlab.config import pick_all
from rnnlab.data import pairs as P
from rnnlab.data.copythrough import mask_pair
from rnnlab.data.subword import KINDS, MODEL_FILE, Subwords, Words, segmenter
from rnnlab.errors import InputError
from rnnlab.io import atomic_write_json
from rnnlab.tasks.translate.config import (
    SPLIT_FILE,
    TASK,
    TranslateData,
    TranslateModel,
    TranslateTrain,
)
from rnnlab.tasks.translate.data import (
    PairBatchesWithStep,
    encode_pairs,
    file_sha256,
    load_pairs,
)
from rnnlab.tasks.translate.evaluate import val_loss
from rnnlab.tasks.translate.model import build_model, seq_loss
from rnnlab.train.loop import TrainConfig
from rnnlab.train.run import guard_out, train_run
from rnnlab.train.threads import cpu_threads
from rnnlab.train.util import parse_duration, set_seed


def _check(spec: TranslateModel, dc: TranslateData, tc: TranslateTrain) -> None:
    if not 0 <= tc.tf_end <= 1 or not 0 <= tc.tf_start <= 1:
        raise InputError("--tf-start and --tf-end are probabilities in [0, 1]")
    if dc.max_len is not None and dc.max_len < 0:
        raise InputError(f"--max-len must be >= 1 (or 0 for no limit), got {dc.max_len}")
    if tc.batch < 1 or spec.hidden < 1 or spec.embed < 1:
        raise InputError("--batch, --hidden and --embed must be positive")


def train_translate(
    pairs: str | Path | None, out: str | Path, *, progress: bool = True, **settings: Any
) -> dict[str, Any]:
    """Train a translator on ``pairs`` (a pair file, or None for the built-in numbers) and
    write the run directory ``out`` (weights, config, ``split.json``, logs).

    ``settings`` are the fields of ``TranslateModel``, ``TranslateData`` and
    ``TranslateTrain``. Returns ``train_run``'s summary plus ``n_pairs``.
    """
    settings["pairs"] = None if pairs is None else str(pairs)
    spec, dc, tc = pick_all(
        settings, TranslateModel, TranslateData, TranslateTrain, where="train_translate()"
    )
    dc = dc.replace(max_len=dc.max_len or None)  # 0 = no limit
    _check(spec, dc, tc)
    budget = parse_duration(tc.time_budget)
    warmup = min(100, tc.steps // 10 + 1) if tc.steps else 100
    cfg = TrainConfig(
        steps=tc.steps,
        time_budget=budget,
        lr=tc.lr,
        warmup=warmup,
        eval_every=tc.eval_every,
        eval_every_s=tc.eval_every_s,
    )
    same = {f"model.{k}": getattr(spec, k) for k in ("cell", "embed", "hidden", "layers")}
    same.update({"model.attention": spec.attention, "data.tokenizer": dc.tokenizer})
    guard_out(out, TASK, resume=tc.resume, same=same)
    with cpu_threads(tc.threads or None):
        return _train(Path(out), spec, dc, tc, cfg, budget, progress)


def _segmenter(dc: TranslateData, train: list[P.Pair], out: Path, resume: bool) -> Words | Subwords:
    """Words, or subwords learned from the training pairs only (both languages) and saved in
    the run (a resumed run reads its own, so the ids never change under it)."""
    if dc.tokenizer == "word":
        return Words(dc.lower)
    if resume and (out / MODEL_FILE).is_file():
        return segmenter(dc.tokenizer, dc.lower, out)
    if dc.tokenizer not in KINDS:
        raise InputError(f"unknown --tokenizer {dc.tokenizer!r}: choose {', '.join(KINDS)}")
    if not 300 <= dc.vocab_size <= 64000:
        raise InputError(
            f"--vocab-size must be 300-64000 (the byte pieces take 256), got {dc.vocab_size}"
        )
    texts = [t for p in train for t in (p.src, p.tgt)]
    seg = Subwords.train(texts, dc.vocab_size, dc.tokenizer, dc.lower)
    out.mkdir(parents=True, exist_ok=True)
    seg.save(out)
    return seg


def _train(
    out: Path,
    spec: TranslateModel,
    dc: TranslateData,
    tc: TranslateTrain,
    cfg: TrainConfig,
    budget: float | None,
    progress: bool,
) -> dict[str, Any]:
    all_pairs, source = load_pairs(dc.pairs, dc.src_lang, dc.tgt_lang, dc.columns)
    kept = P.filter_pairs(all_pairs, dc.max_len, dc.lower)
    if not kept:
        raise InputError(f"no pair has at most {dc.max_len} words: raise --max-len")
    train, val, test = P.split_pairs(kept, tc.seed, dc.val_frac, dc.test_frac)
    set_seed(tc.seed)
    seg = _segmenter(dc, train, out, tc.resume)
    raw_val = val  # split.json keeps the pairs as written: evaluation masks as translation does
    if dc.copy and isinstance(seg, Subwords):
        train, val = (
            [P.Pair(*mask_pair(p.src, p.tgt, seg.known), p.line) for p in ps] for ps in (train, val)
        )
    tgt_vocab = seg.vocab([seg.tokens(p.tgt) for p in train], dc.min_freq)
    if dc.tokenizer == "word":
        src_vocab = seg.vocab([seg.tokens(p.src) for p in train], dc.min_freq)
    else:  # every piece on the source side, so no input is unknown; the target side keeps
        # its own language's pieces: a smaller output layer, the larger part of a step's cost
        src_vocab = seg.vocab()
    n_pairs = dict(
        total=len(all_pairs), kept=len(kept), train=len(train), val=len(val), test=len(test)
    )
    dc = dc.replace(
        source=source,
        pairs_sha256=file_sha256(source),
        n_pairs=n_pairs,
        src_vocab=src_vocab.to_list(),
        tgt_vocab=tgt_vocab.to_list(),
        split=SPLIT_FILE,
    )
    config = {"task": TASK, "model": spec.to_dict(), "data": dc.to_dict(), "train": tc.to_dict()}
    model = build_model(spec, len(src_vocab), len(tgt_vocab))
    out.mkdir(parents=True, exist_ok=True)
    # the held-out pairs themselves: eval and the explorer read them, never re-cut them
    atomic_write_json(
        out / SPLIT_FILE,
        {k: [[p.src, p.tgt] for p in v] for k, v in (("val", raw_val), ("test", test))},
    )
    tr_src, tr_tgt = encode_pairs(train, src_vocab, tgt_vocab, seg)
    va_src, va_tgt = encode_pairs(val, src_vocab, tgt_vocab, seg)
    data = PairBatchesWithStep(tr_src, tr_tgt, tc.batch, tc.seed)
    t0 = time.monotonic()

    def teacher_ratio() -> float:
        # the fraction of the budget used, as the loop's LR schedule computes it
        frac = 0.0
        if tc.steps:
            frac = max(frac, data.steps / tc.steps)
        if budget:
            frac = max(frac, (time.monotonic() - t0) / budget)
        return tc.tf_start + (tc.tf_end - tc.tf_start) * min(frac, 1.0)

    def step_fn(b: P.Batch) -> tuple[Tensor, int]:
        logits = model(b.src, b.src_len, b.tgt_in, teacher_ratio())
        return seq_loss(logits, b.tgt_out, tc.smoothing), int((b.tgt_out != P.PAD_ID).sum())

    s = train_run(
        model,
        cfg,
        out,
        config=config,
        data=data,
        step_fn=step_fn,
        eval_fn=lambda: val_loss(model, va_src, va_tgt),
        resume=tc.resume,
        progress=progress,
    )
    return {**s, "n_pairs": n_pairs}
