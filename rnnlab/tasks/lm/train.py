"""Training a language model: stateful truncated BPTT over parallel streams of the text.

>>> s = train_lm("to be or not to be\\n" * 200, "runs/tiny", hidden=32, layers=1,
...              embed=16, seq_len=16, batch=4, steps=20, progress=False)  # doctest: +SKIP
>>> s["best"], s["metrics"]["val_bpc"]                                      # doctest: +SKIP
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnlab.config import pick
from rnnlab.core.options import RECURRENT_INITS
from rnnlab.data.corpus import load_corpus
from rnnlab.data.textstream import StreamBatcher
from rnnlab.errors import CheckpointError, InputError
from rnnlab.tasks.lm.config import CPU_ENGINE, TASK, VAL_FRACTION, LMData, LMModel, LMTrain
from rnnlab.tasks.lm.evaluate import LN2, evaluate_ids
from rnnlab.tasks.lm.model import LanguageModel
from rnnlab.train import distributed
from rnnlab.train.loop import TrainConfig
from rnnlab.train.optim import OPTIMIZERS
from rnnlab.train.run import guard_out, train_run
from rnnlab.train.threads import cpu_threads, default_threads
from rnnlab.train.util import parse_duration, pick_device, set_seed


def _is_text(data: str | Path) -> bool:
    """``train_lm(data=...)`` takes a path or the text itself: tell which."""
    if isinstance(data, Path):
        return False
    if "\n" in data or len(data) > 1024:
        return True
    if Path(data).exists():
        return False
    if re.search(r"[/\\]|\.(txt|md|text|csv)$", data):
        raise InputError(f"data file {data} does not exist (check the path)")
    return True


def _source(data: str | Path | None, what: str) -> dict[str, Any]:
    """``{"path": ...}`` or ``{"text": ...}`` for ``load_corpus`` (``what``: its prefix)."""
    if data is None:
        return {}
    return {f"{what}text": str(data)} if _is_text(data) else {f"{what}path": data}


def detach_state(state: Any) -> Any:
    """Cut the graph behind a carried hidden state (truncated BPTT)."""
    if state is None:
        return None
    if isinstance(state, (tuple, list)):
        return tuple(s.detach() for s in state)
    return state.detach()


def _state_to(state: Any, device: torch.device) -> Any:
    if state is None:
        return None
    if isinstance(state, (tuple, list)):
        return tuple(s.to(device) for s in state)
    return state.to(device)


def activation_penalty(out: Tensor, dropped: Tensor, ar: float, tar: float) -> Tensor:
    """AWD-LSTM's activation penalties (Merity et al. 2017) of the last layer's outputs
    (B,T,H): ``ar * mean(dropped^2) + tar * mean((out_t - out_{t-1})^2)``, where ``dropped``
    is ``out`` after the dropout the head sees. Added to the training loss only.

    >>> activation_penalty(torch.ones(1, 3, 2), 2 * torch.ones(1, 3, 2), 0.5, 1.0)
    tensor(2.)
    """
    pen = out.new_zeros((), dtype=torch.float32)
    if ar:
        pen = pen + ar * dropped.float().pow(2).mean()
    if tar and out.shape[1] > 1:  # one step has no difference
        pen = pen + tar * (out[:, 1:] - out[:, :-1]).float().pow(2).mean()
    return pen


def _check(spec: LMModel, tc: LMTrain) -> None:
    spec.check()
    for name, v in (("--seq-len", tc.seq_len), ("--batch", tc.batch)):
        if int(v) <= 0:
            raise InputError(f"{name} must be a positive integer, got {v}")
    for name in ("weight_drop", "recurrent_dropout", "embed_dropout", "zoneout"):
        p = getattr(spec, name)
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 1:
            raise InputError(
                f"--{name.replace('_', '-')} is a probability in [0, 1), got {p!r}: 0 turns it off"
            )
    for name in ("ar", "tar"):
        v = getattr(tc, name)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v < float("inf"):
            raise InputError(f"--{name} is a penalty weight >= 0 (e.g. 2.0), got {v!r}: 0 is off")
    if tc.optimizer not in OPTIMIZERS:
        raise InputError(
            f"--optimizer must be one of {', '.join(OPTIMIZERS)}, got {tc.optimizer!r}"
        )
    if spec.forget_bias is not None and spec.cell != "lstm":
        raise InputError(
            f"--forget-bias sets an LSTM's forget-gate bias and --cell {spec.cell} has no "
            "forget gate: use --cell lstm or drop --forget-bias"
        )
    if spec.recurrent_init not in RECURRENT_INITS:
        raise InputError(
            f"--recurrent-init must be one of {', '.join(RECURRENT_INITS)}, "
            f"got {spec.recurrent_init!r}"
        )


def train_lm(
    data: str | Path, out: str | Path, *, progress: bool = True, **settings: Any
) -> dict[str, Any]:
    """Train a language model on ``data`` (a path, or the text itself) into run dir ``out``.

    ``settings`` are the fields of ``LMModel``, ``LMData`` and ``LMTrain`` (``--val`` may
    also be a text). Stateful truncated BPTT over ``batch`` parallel streams of the text in
    ``seq_len`` windows, on ``rnnlab.train.run.train_run``. Returns its summary plus
    ``weights_sha256`` (one per process: under ``torchrun`` it trains with DDP, and the ranks
    must agree).
    """
    names = {*LMModel.__dataclass_fields__, *LMData.__dataclass_fields__,
             *LMTrain.__dataclass_fields__}  # fmt: skip
    unknown = sorted(set(settings) - names)
    if unknown:
        raise TypeError(f"train_lm() got unexpected settings: {', '.join(unknown)}")
    spec, dc, tc = pick(LMModel, settings), pick(LMData, settings), pick(LMTrain, settings)
    out = Path(out)
    budget = parse_duration(tc.time_budget) if tc.time_budget is not None else None
    if tc.steps is None and budget is None:
        raise InputError("give a training budget: --steps N or --time-budget 5m")
    _check(spec, tc)
    guard_out(out, TASK, resume=tc.resume)
    dev = pick_device(tc.device)
    dist = distributed.setup(dev, steps=tc.steps, time_budget=budget)
    dev = dist.device
    threads = tc.threads or (default_threads(dist.world) if dist.world > 1 and dev.type == "cpu"
                             else None)  # fmt: skip
    with cpu_threads(threads):
        try:
            s = _train(out, spec, dc, tc, budget, dist, dev, data, progress)
        except BaseException:
            dist.abort()
            raise
        s["weights_sha256"] = dist.finish(s.pop("_model"))
    return s


def _train(
    out: Path,
    spec: LMModel,
    dc: LMData,
    tc: LMTrain,
    budget: float | None,
    dist: distributed.Distributed,
    dev: torch.device,
    data: str | Path,
    progress: bool,
) -> dict[str, Any]:
    set_seed(tc.seed)
    corpus = load_corpus(
        **_source(data, ""), **_source(dc.val, "val_"), level=dc.level, lower=dc.lower,
        min_count=dc.min_count, max_vocab=dc.max_vocab, val_fraction=VAL_FRACTION,
        tokenizer=dc.tokenizer_name,
    )  # fmt: skip
    tok, info = corpus["tokenizer"], corpus["info"]
    dc = dc.replace(level=tok.level, tokenizer_name=tok.name)  # --tokenizer sets the level
    engine = tc.engine if tc.engine is not None or dev.type != "cpu" else CPU_ENGINE.get(spec.cell)
    if tc.resume:  # keep the vocabulary and the shapes the run was trained with
        old = guard_out(out, TASK, resume=True, same={
            "model.cell": spec.cell, "model.hidden": spec.hidden, "model.layers": spec.layers,
            "model.embed": spec.embed, "train.seq_len": tc.seq_len, "train.batch": tc.batch,
            "train.world_size": dist.world, "train.optimizer": tc.optimizer,
        })  # fmt: skip
        if old["data"].get("tokenizer", {}).get("vocab", tok.vocab) != tok.vocab:
            raise CheckpointError(
                f"{out} was trained on a text with another vocabulary: resume with the same --data"
            )
    model = LanguageModel(tok, spec)
    if engine is not None:
        try:
            model.rnn.engine = engine
        except (ValueError, AttributeError) as e:
            raise InputError(f"--engine {engine!r} does not fit --cell {spec.cell}: {e}") from None
    model.to(dev)
    config = {
        "task": TASK,
        "model": spec.to_dict(),
        "data": {**dc.to_dict(), **info, "tokenizer": tok.to_dict()},
        "train": {
            **tc.to_dict(),
            "time_budget": budget,
            "world_size": dist.world,
            "log_dir": str(tc.log_dir) if tc.log_dir else None,  # JSON: no Path
            "engine": getattr(model.rnn, "engine", "torch"),
        },
    }
    model.config = {**config, "metrics": {}}
    net = dist.wrap(model)
    batcher = StreamBatcher(
        corpus["train"], tc.batch, tc.seq_len, rank=dist.rank, world=dist.world, seed=tc.seed
    )
    val_ids, val_chars = corpus["val"], info["val_chars"]
    cpt = val_chars / max(1, len(val_ids)) if dc.level == "word" else 1.0
    penalised = bool(tc.ar or tc.tar)  # only then does the model hand back its outputs

    def step_fn(b: tuple[Tensor, Tensor, bool]) -> tuple[Tensor, int]:
        x, y, _ = b
        x, y = x.to(dev, non_blocking=True), y.to(dev, non_blocking=True)
        res = net(x, _state_to(batcher.carry, dev), with_outputs=penalised)
        logits, state = res[0], res[1]
        batcher.carry = detach_state(state)  # carried into the next window, graph cut here
        loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), y.reshape(-1))
        if penalised:
            loss = loss + activation_penalty(res[2], res[3], tc.ar, tc.tar)
        return loss, y.numel() * dist.world

    def eval_fn() -> dict[str, float]:
        return evaluate_ids(model, val_ids, chars=val_chars, max_tokens=tc.eval_tokens, device=dev)

    def describe(m: dict[str, float]) -> str:
        return f"bpc {m['loss'] / LN2 / cpt:.3f} "

    eval_every, eval_every_s = tc.eval_every, tc.eval_every_s
    if eval_every is None and eval_every_s is None:
        if budget is not None and tc.steps is None:
            eval_every_s = max(10.0, budget / 10)
        else:
            eval_every = max(1, min(200, (tc.steps or 200) // 5))
    single = dist.world == 1
    cfg = TrainConfig(
        steps=tc.steps, time_budget=budget if single else None, lr=tc.lr, clip=tc.clip,
        warmup=tc.warmup, weight_decay=tc.weight_decay, eval_every=eval_every or 200,
        eval_every_s=eval_every_s if single else None, patience=tc.patience,
        optimizer=tc.optimizer, nonmono=tc.nonmono,
    )  # fmt: skip
    s = train_run(
        model, cfg, out, config=config, data=batcher, step_fn=step_fn, eval_fn=eval_fn,
        net=net, resume=tc.resume, progress=progress, is_main=dist.is_main,
        reload_best=False, describe=describe, log_dir=tc.log_dir,
    )  # fmt: skip
    # the last weights, as the ranks hold them (DDP: they must agree), not the best one
    return {**s, "_model": model}
