"""Language modelling and text generation: train, evaluate, generate, predict the next word.

Python API (the explorer and the game use it)::

    >>> from rnnlab.tasks.lm import train_lm, load_lm, generate, predict_words  # doctest: +SKIP
    >>> train_lm("input.txt", "runs/shakespeare", time_budget=300)              # doctest: +SKIP
    >>> model = load_lm("runs/shakespeare")                                     # doctest: +SKIP
    >>> "".join(generate(model, "ROMEO:", 200, temperature=0.8))                # doctest: +SKIP
    >>> predict_words(model, "I love eating", k=3)                              # doctest: +SKIP

CLI: ``rnnlab lm train|eval|generate|predict|plot`` (see ``rnnlab lm --help``).

Units: the loss is the mean negative log-likelihood in nats per token; bits per char is the
total loss over the text in bits divided by its characters; perplexity is exp(nats/token).
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
import typer
from torch import Tensor, nn

from rnnlab.data.tokenize import (
    EOS,
    NO_SPACE_AFTER,
    NO_SPACE_BEFORE,
    CharTokenizer,
    Tokenizer,
    WordTokenizer,
    tokenizer_from_dict,
)
from rnnlab.errors import CheckpointError, InputError

TASK = "lm"
LN2 = math.log(2.0)
# The default configuration, chosen by measurement on Tiny Shakespeare (benchmarks/lm.py, one
# thread; benchmarks/RESULTS.md): 2x256 with small batches (16 streams x 64 chars: many
# updates) beats 2x512 (3x the cost per step: 1.587 after 4 minutes against 1.495 after 3).
# The GRU meets the 3-minute mark (1.495 nats/char); at 15 minutes GRU 1.472, LSTM 1.467,
# LSTM with --dropout 0.2 1.461 (two threads, --batch 32: 1.439, but 1.579 at 3 minutes),
# minGRU 1.722. On CPU the GRU trains on rnnlab's explicit engine, 1.1-1.2x faster than
# torch's GRU kernel. Dropout is off by default: it slows the first minutes (GRU at minute 3
# of a 15-minute run: 1.650 with 0.2, 1.572 without) and gains at most 0.01 by minute 15.
DEFAULTS: dict[str, Any] = dict(
    level="char", cell="gru", hidden=256, layers=2, embed=64, dropout=0.0,
    seq_len=64, batch=16, lr=3e-3,
)  # fmt: skip
# the fastest training engine per cell on CPU (measured; "auto" = torch's fused kernel)
CPU_ENGINE = {"gru": "explicit"}
MAX_PROMPT_CHARS = 100_000

app = typer.Typer(help="Language modelling and text generation.", no_args_is_help=True)


# ---------------------------------------------------------------------------------------
# model


class LanguageModel(nn.Module):
    """Embedding -> recurrent layer (``rnnlab.core.make_rnn``) -> linear head over the vocab.

    ``forward(ids (B,T), state=None, lengths=None) -> (logits (B,T,V), state)``; ``embed(ids)``
    is the recurrent layer's input and ``head(h)`` maps its outputs to logits, so
    ``model.head(model.rnn(model.embed(ids))[0])`` equals ``model(ids)[0]`` in eval mode.

    >>> tok = CharTokenizer.fit("hello world")
    >>> m = LanguageModel(tok, cell="gru", embed=8, hidden=16, layers=1)
    >>> logits, state = m(torch.tensor([tok.encode("hello")]))
    >>> tuple(logits.shape)
    (1, 5, 9)
    """

    def __init__(
        self,
        tokenizer: Tokenizer,
        cell: str = "gru",
        embed: int = 64,
        hidden: int = 512,
        layers: int = 2,
        dropout: float = 0.0,
        bidirectional: bool = False,
        **extra: Any,
    ):
        super().__init__()
        from rnnlab.core import make_rnn

        if bidirectional:
            raise InputError(
                "a language model predicts the next token, so it cannot read the text "
                "backwards: use --bidirectional no"
            )
        self.tokenizer = tokenizer
        V = len(tokenizer)
        self.config: dict[str, Any] = dict(
            task=TASK, level=tokenizer.level, cell=cell, embed=embed, hidden=hidden,
            layers=layers, dropout=dropout, bidirectional=False, vocab_size=V,
            tokenizer=tokenizer.to_dict(), **extra,
        )  # fmt: skip
        self.emb = nn.Embedding(V, embed)
        self.drop = nn.Dropout(dropout)
        self.rnn = make_rnn(cell, embed, hidden, layers, dropout=dropout, batch_first=True)
        self.head = nn.Linear(hidden, V)

    def embed(self, ids: Tensor) -> Tensor:
        """Token ids (B,T) -> the recurrent layer's input (B,T,E)."""
        return self.drop(self.emb(ids))

    def forward(
        self, ids: Tensor, state: Any = None, lengths: Tensor | None = None
    ) -> tuple[Tensor, Any]:
        x = self.embed(ids)
        if lengths is None:
            out, state = self.rnn(x, state)
        else:
            out, state = self.rnn(x, state, lengths=lengths)
        return self.head(self.drop(out)), state


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


def load_lm(run_dir: str | Path, device: str | torch.device = "cpu") -> LanguageModel:
    """Load a run written by ``train_lm`` / ``rnnlab lm train`` (eval mode).

    A run of another task, or a missing/corrupted one, raises ``CheckpointError``.
    """
    from rnnlab.train.checkpoint import load_run, load_weights_into

    tensors, cfg = load_run(run_dir, task=TASK)
    try:
        tok = tokenizer_from_dict(cfg["tokenizer"])
        arch = {k: cfg[k] for k in ("cell", "embed", "hidden", "layers")}
    except (KeyError, InputError) as e:
        raise CheckpointError(
            f"{run_dir}/config.json has no usable model description ({e})"
        ) from None
    model = LanguageModel(tok, dropout=0.0, **arch)
    model.config = {**model.config, **{k: v for k, v in cfg.items() if k != "dropout"}}
    load_weights_into(model, tensors, f"{run_dir}/model.safetensors")
    return model.to(device).eval()


# ---------------------------------------------------------------------------------------
# data


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


def _fit_tokenizer(
    level: str, chunks: Any, lower: bool, min_count: int, max_vocab: int | None
) -> Tokenizer:
    if level == "char":
        return CharTokenizer.fit(chunks)
    if level == "word":
        return WordTokenizer.fit(chunks, lower=lower, min_count=min_count, max_vocab=max_vocab)
    raise InputError(f"unknown --level {level!r}: choose char or word")


def load_corpus(
    data: str | Path,
    val: str | Path | None = None,
    *,
    level: str = "char",
    lower: bool = True,
    min_count: int = 1,
    max_vocab: int | None = None,
    val_fraction: float = 0.1,
) -> dict[str, Any]:
    """Tokenizer + train/val id arrays from a file (streamed) or a string.

    Without ``val`` the last ``val_fraction`` of the text (contiguous) is the validation part.
    The vocabulary comes from the training part only.
    """
    from rnnlab.data.textstream import count_chars, encode_chunks, iter_text

    word = level == "word"
    info: dict[str, Any] = {}
    if _is_text(data):
        text = str(data).lstrip("\ufeff")
        if not text.strip():
            raise InputError("the training text is empty")
        if val is None:
            cut = int(len(text) * (1 - val_fraction))
            train_parts, val_parts = [text[:cut]], [text[cut:]]
        else:
            train_parts = [text]
        info["data"] = "<text>"

        def train_chunks() -> Iterator[str]:
            return iter(train_parts)
    else:
        n = count_chars(data, "data file")
        info["data"] = str(Path(data).resolve())
        cut = int(n * (1 - val_fraction)) if val is None else n

        def train_chunks() -> Iterator[str]:
            return iter_text(data, "data file", 0, cut, word_safe=word)

        if val is None:
            val_parts = iter_text(data, "data file", cut, None, word_safe=word)
    if val is not None:
        if _is_text(val):
            val_parts = [str(val)]
            info["val"] = "<text>"
        else:
            count_chars(val, "validation file")
            val_parts = iter_text(val, "validation file", word_safe=word)
            info["val"] = str(Path(val).resolve())
    tok = _fit_tokenizer(level, train_chunks(), lower, min_count, max_vocab)
    train_ids = encode_chunks(train_chunks(), tok.encode_array, len(tok))
    val_chars = 0
    val_list = []
    for chunk in val_parts:
        val_chars += len(chunk)
        val_list.append(chunk)
    val_ids = encode_chunks(iter(val_list), tok.encode_array, len(tok))
    if len(val_ids) < 2:
        raise InputError(
            "the validation text is too short (fewer than 2 tokens): give more text or --val PATH"
        )
    info.update(
        train_tokens=int(len(train_ids)),
        val_tokens=int(len(val_ids)),
        val_chars=int(val_chars),
        vocab_size=len(tok),
    )
    return {"tokenizer": tok, "train": train_ids, "val": val_ids, "info": info}


# ---------------------------------------------------------------------------------------
# evaluation


@torch.no_grad()
def evaluate_ids(
    model: LanguageModel,
    ids: np.ndarray | Tensor,
    *,
    chars: int | None = None,
    batch: int = 16,
    seq_len: int = 256,
    max_tokens: int | None = None,
    device: torch.device | str = "cpu",
) -> dict[str, float]:
    """Loss (nats/token), bits/char, perplexity and top-1/top-5 accuracy over ``ids``.

    The text is cut into ``batch`` contiguous streams read window by window with the state
    carried, so every token after the first of each stream is predicted with full context.
    """
    ids = torch.as_tensor(np.asarray(ids[:max_tokens] if max_tokens else ids, dtype=np.int64))
    n = len(ids)
    batch = max(1, min(batch, (n - 1) // 2))
    L = (n - 1) // batch
    xs = ids[: batch * L].view(batch, L).to(device)
    ys = ids[1 : batch * L + 1].view(batch, L).to(device)
    was_training = model.training
    model.eval()
    state, nll, top1, top5, count = None, 0.0, 0, 0, 0
    for t in range(0, L, seq_len):
        x, y = xs[:, t : t + seq_len], ys[:, t : t + seq_len]
        logits, state = model(x, state)
        lg = logits.float().reshape(-1, logits.shape[-1])
        yy = y.reshape(-1)
        nll += float(F.cross_entropy(lg, yy, reduction="sum"))
        top = lg.topk(min(5, lg.shape[-1]), dim=-1).indices
        top1 += int((top[:, 0] == yy).sum())
        top5 += int((top == yy[:, None]).any(-1).sum())
        count += yy.numel()
    model.train(was_training)
    loss = nll / count
    # bits per char: total bits over the characters those tokens span (chars/token scales it)
    cpt = (chars / n) if chars else 1.0
    return {
        "val_loss": loss,
        "val_bpc": loss / LN2 / cpt,
        "val_ppl": math.exp(min(loss, 50.0)),
        "val_top1": top1 / count,
        "val_top5": top5 / count,
    }


# ---------------------------------------------------------------------------------------
# training


def _dist_info() -> tuple[int, int]:
    """(rank, world size) under torchrun, (0, 1) otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return int(os.environ.get("RANK", "0")), world


def train_lm(
    data: str | Path,
    out: str | Path,
    *,
    level: str = DEFAULTS["level"],
    cell: str = DEFAULTS["cell"],
    hidden: int = DEFAULTS["hidden"],
    layers: int = DEFAULTS["layers"],
    embed: int = DEFAULTS["embed"],
    dropout: float = DEFAULTS["dropout"],
    seq_len: int = DEFAULTS["seq_len"],
    batch: int = DEFAULTS["batch"],
    lr: float = DEFAULTS["lr"],
    steps: int | None = None,
    time_budget: float | str | None = None,
    val: str | Path | None = None,
    progress: bool = True,
    seed: int = 0,
    resume: bool = False,
    device: str = "cpu",
    lower: bool = True,
    min_count: int = 1,
    max_vocab: int | None = None,
    clip: float = 1.0,
    warmup: int = 50,
    weight_decay: float = 0.01,
    eval_every: int | None = None,
    eval_every_s: float | None = None,
    patience: int = 0,
    eval_tokens: int | None = None,
    engine: str | None = None,
    bidirectional: bool = False,
    log_dir: str | Path | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Train a language model on ``data`` (a path, or the text itself) into run dir ``out``.

    Stateful truncated BPTT over ``batch`` parallel streams of the text in ``seq_len`` windows,
    on the shared loop (``rnnlab.train.loop.fit``). Returns the loop's summary (best metrics,
    steps, elapsed). Under ``torchrun`` it trains with DistributedDataParallel.

    >>> s = train_lm("to be or not to be\\n" * 200, "runs/tiny", hidden=32, layers=1,
    ...              embed=16, seq_len=16, batch=4, steps=20, progress=False)  # doctest: +SKIP
    """
    from rnnlab.data.textstream import StreamBatcher
    from rnnlab.train.checkpoint import read_config, save_run
    from rnnlab.train.loop import TrainConfig, fit
    from rnnlab.train.util import parse_duration, pick_device, set_seed

    out = Path(out)
    budget = parse_duration(time_budget) if time_budget is not None else None
    if steps is None and budget is None:
        raise InputError("give a training budget: --steps N or --time-budget 5m")
    for name, v in (("--hidden", hidden), ("--layers", layers), ("--embed", embed),
                    ("--seq-len", seq_len), ("--batch", batch)):  # fmt: skip
        if int(v) <= 0:
            raise InputError(f"{name} must be a positive integer, got {v}")
    if not 0.0 <= dropout < 1.0:
        raise InputError(f"--dropout must be in [0, 1), got {dropout}")
    if resume:
        cfg_old = read_config(out)
        if cfg_old.get("task") != TASK:
            raise CheckpointError(
                f"{out} holds a '{cfg_old.get('task')}' run, not an 'lm' run: "
                "use another --out, or drop --resume"
            )
    elif (out / "config.json").exists() or (out / "state.json").exists():
        try:
            old_task = read_config(out).get("task")
        except CheckpointError:
            old_task = None
        if old_task not in (None, TASK):
            raise InputError(f"{out} holds a '{old_task}' run: choose another --out")
    rank, world = _dist_info()
    dev = pick_device(device)
    if world > 1:
        import torch.distributed as dist

        if budget is not None and steps is None:
            raise InputError(
                "under torchrun give --steps N (a time budget would let processes stop at "
                "different steps and hang); e.g. --steps 2000"
            )
        if not dist.is_initialized():
            dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
        if dev.type == "cuda":
            dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            torch.cuda.set_device(dev)
    if threads:
        torch.set_num_threads(threads)
    elif world > 1 and dev.type == "cpu":
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // world))
    set_seed(seed)
    corpus = load_corpus(
        data, val, level=level, lower=lower, min_count=min_count, max_vocab=max_vocab
    )
    tok, info = corpus["tokenizer"], corpus["info"]
    if resume:  # keep the vocabulary the run was trained with
        old = read_config(out)
        if "tokenizer" in old and old["tokenizer"]["vocab"] != tok.vocab:
            raise CheckpointError(
                f"{out} was trained on a text with another vocabulary: resume with the same --data"
            )
        asked = dict(cell=cell, hidden=hidden, layers=layers, embed=embed, seq_len=seq_len,
                     batch=batch, world_size=world)  # fmt: skip
        diff = [f"--{k.replace('_', '-')} {old[k]} (not {v})" for k, v in asked.items()
                if k in old and old[k] != v]  # fmt: skip
        if diff:
            raise CheckpointError(
                f"{out} was trained with " + ", ".join(diff) + ": resume with those"
            )
    model = LanguageModel(
        tok,
        cell=cell,
        embed=embed,
        hidden=hidden,
        layers=layers,
        dropout=dropout,
        bidirectional=bidirectional,
    )
    if engine is None and dev.type == "cpu":
        engine = CPU_ENGINE.get(cell)
    if engine is not None:
        try:
            model.rnn.engine = engine
        except (ValueError, AttributeError) as e:
            raise InputError(f"--engine {engine!r} does not fit --cell {cell}: {e}") from None
    model.to(dev)
    model.config.update(
        seq_len=seq_len, batch=batch, lr=lr, seed=seed, steps=steps, time_budget=budget,
        world_size=world, engine=getattr(model.rnn, "engine", "torch"), **info,
    )  # fmt: skip
    net: nn.Module = model
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel as DDP

        net = DDP(model, device_ids=[dev.index] if dev.type == "cuda" else None)
    batcher = StreamBatcher(corpus["train"], batch, seq_len, rank=rank, world=world, seed=seed)
    val_ids, val_chars = corpus["val"], info["val_chars"]
    cpt = val_chars / max(1, len(val_ids)) if level == "word" else 1.0

    def step_fn(b: tuple[Tensor, Tensor, bool]) -> tuple[Tensor, int]:
        x, y, _ = b
        x, y = x.to(dev, non_blocking=True), y.to(dev, non_blocking=True)
        logits, state = net(x, _state_to(batcher.carry, dev))
        batcher.carry = detach_state(state)  # carried into the next window, graph cut here
        loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), y.reshape(-1))
        return loss, y.numel() * world

    def eval_fn() -> dict[str, float]:
        return evaluate_ids(model, val_ids, chars=val_chars, max_tokens=eval_tokens, device=dev)

    def save_fn(run_dir: Path, metrics: dict[str, Any]) -> None:
        save_run(run_dir, model.state_dict(), {**model.config, "metrics": metrics})

    def describe(m: dict[str, float]) -> str:
        return f"bpc {m['loss'] / LN2 / cpt:.3f} "

    if eval_every is None and eval_every_s is None:
        if budget is not None and steps is None:
            eval_every_s = max(10.0, budget / 10)
        else:
            eval_every = max(1, min(200, (steps or 200) // 5))
    cfg = TrainConfig(
        steps=steps, time_budget=budget if world == 1 else None, lr=lr, clip=clip,
        warmup=warmup, weight_decay=weight_decay, eval_every=eval_every or 200,
        eval_every_s=eval_every_s if world == 1 else None, patience=patience,
    )  # fmt: skip
    try:
        summary = fit(
            net,
            cfg,
            out,
            data=batcher,
            step_fn=step_fn,
            eval_fn=eval_fn,
            save_fn=save_fn,
            resume=resume,
            progress=progress,
            is_main=rank == 0,
            describe=describe,
            log_dir=log_dir if rank == 0 else None,
        )
    except BaseException:
        if world > 1:
            import torch.distributed as dist

            if dist.is_initialized():
                dist.destroy_process_group()
        raise
    summary.pop("history", None)
    summary["run_dir"] = str(out)
    summary["weights_sha256"] = ranks_sha = [_weights_sha(model)]
    if world > 1:  # every rank's weights must be the same after DDP: gather them to check
        import torch.distributed as dist

        ranks_sha *= world
        dist.all_gather_object(ranks_sha, ranks_sha[0])
        dist.barrier()
        dist.destroy_process_group()
    return summary


def _weights_sha(model: nn.Module) -> str:
    h = hashlib.sha256()
    for k, v in model.state_dict().items():
        h.update(k.encode())
        h.update(v.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


# ---------------------------------------------------------------------------------------
# prediction and generation


def _prompt_ids(model: LanguageModel, text: str, *, allow_empty: bool = True) -> list[int]:
    """Ids to condition on. An empty prompt starts at a line start (``<eos>`` or newline)."""
    tok = model.tokenizer
    if len(text) > MAX_PROMPT_CHARS:
        raise InputError(
            f"the prompt is {len(text):,} characters; the limit is {MAX_PROMPT_CHARS:,}"
        )
    ids = tok.encode(text) if text else []
    if text and ids and all(i == tok.unk_id for i in ids):
        raise InputError(
            f"the prompt {text[:40]!r} has only tokens this model never saw in training; "
            "use words/characters from its training text"
        )
    if not ids:
        if not allow_empty:
            raise InputError("the text is empty: give a few words")
        if tok.level == "word":
            ids = [tok.eos_id]
        else:
            ids = [tok.stoi.get("\n", tok.stoi.get(" ", 1 if len(tok) > 1 else 0))]
    return ids


class Stepper:
    """Feed one token at a time (generation, beam search) with torch's fused cell kernels.

    Same maths as ``model.forward`` (to float rounding), without a sequence layer's per-call
    cost: oneDNN's LSTM, fast for training batches, spends ~5 ms per single step on CPU.
    ``quantize=True`` stores the recurrent and input weights as int8 (one scale per output
    row) and runs the step in bfloat16: ~1.6x faster on CPU, logits within ~1e-2.
    Layers it does not know (minGRU/minLSTM, projections, learned initial states) fall back
    to ``model.forward``. The state keeps the layer's format, so it can come from a prompt
    read by ``model.forward``.

    >>> step = Stepper(model)                          # doctest: +SKIP
    >>> logits, state = step(torch.tensor([3]), state)  # doctest: +SKIP
    """

    def __init__(self, model: LanguageModel, quantize: bool = False):
        self.model, rnn = model, model.rnn
        self.mode = getattr(rnn, "mode", None)  # torch.nn: GRU, LSTM, RNN_TANH, RNN_RELU
        self.fast = (
            self.mode in ("GRU", "LSTM", "RNN_TANH", "RNN_RELU")
            and not rnn.bidirectional
            and rnn.bias
            and not getattr(rnn, "proj_size", 0)
            and not model.training
        )
        # minGRU/minLSTM have their own O(1)-state step
        self.min_step = (
            not self.fast
            and callable(getattr(rnn, "step", None))
            and not rnn.bidirectional
            and not model.training
        )
        names = ("weight_ih_l{}", "weight_hh_l{}", "bias_ih_l{}", "bias_hh_l{}")
        self.w = (
            [[getattr(rnn, n.format(k)) for n in names] for k in range(rnn.num_layers)]
            if self.fast
            else []
        )
        self.quantize = quantize and self.fast and hasattr(torch, "_weight_int8pack_mm")
        if self.quantize:
            w0 = self.w[0]
            # layer 0's input projection of every token, precomputed (exact, fp32)
            self.table = F.linear(model.emb.weight, w0[0], w0[2])
            self.q = [(None if k == 0 else _int8(w[0]), _int8(w[1])) for k, w in enumerate(self.w)]

    def __call__(self, ids: Tensor, state: Any) -> tuple[Tensor, Any]:
        """``ids`` (B,) and the state for B sequences -> (logits (B,V), new state)."""
        if self.min_step and state is not None and not isinstance(state, tuple):
            y, state = self.model.rnn.step(self.model.emb(ids), state)
            return self.model.head(y), state
        if not self.fast or state is None:
            with _no_onednn():
                logits, state = self.model(ids[:, None], state)
            return logits[:, -1], state
        if self.quantize:
            return self._step_int8(ids, state)
        lstm = self.mode == "LSTM"
        h, c = state if lstm else (state, None)
        x = self.model.emb(ids)
        hs, cs = [], []
        cell = {"GRU": torch.gru_cell, "RNN_TANH": torch.rnn_tanh_cell,
                "RNN_RELU": torch.rnn_relu_cell}.get(self.mode)  # fmt: skip
        for k, w in enumerate(self.w):
            if lstm:
                x, ck = torch.lstm_cell(x, (h[k], c[k]), *w)
                cs.append(ck)
            else:
                x = cell(x, h[k], *w)
            hs.append(x)
        new = (torch.stack(hs), torch.stack(cs)) if lstm else torch.stack(hs)
        return self.model.head(x), new

    def _step_int8(self, ids: Tensor, state: Any) -> tuple[Tensor, Any]:
        lstm = self.mode == "LSTM"
        h, c = state if lstm else (state, None)
        hs, cs, x = [], [], None
        for k, w in enumerate(self.w):
            gi = self.table[ids] if k == 0 else _mm8(x, self.q[k][0]) + w[2]
            gh = _mm8(h[k], self.q[k][1]) + w[3]
            if lstm:
                i, f, g, o = (gi + gh).chunk(4, -1)
                ck = torch.sigmoid(f) * c[k] + torch.sigmoid(i) * torch.tanh(g)
                x = torch.sigmoid(o) * torch.tanh(ck)
                cs.append(ck)
            elif self.mode == "GRU":
                ir, iz, i_n = gi.chunk(3, -1)
                hr, hz, h_n = gh.chunk(3, -1)
                r, z = torch.sigmoid(ir + hr), torch.sigmoid(iz + hz)
                x = torch.lerp(torch.tanh(i_n + r * h_n), h[k], z)
            else:
                x = torch.tanh(gi + gh) if self.mode == "RNN_TANH" else torch.relu(gi + gh)
            hs.append(x)
        new = (torch.stack(hs), torch.stack(cs)) if lstm else torch.stack(hs)
        return self.model.head(x), new


def _int8(w: Tensor) -> tuple[Tensor, Tensor]:
    """Symmetric per-row int8 weights and their bfloat16 scales."""
    scale = w.abs().amax(1).clamp_min(1e-12) / 127
    return (w / scale[:, None]).round().clamp(-127, 127).to(torch.int8), scale.to(torch.bfloat16)


def _mm8(x: Tensor, q: tuple[Tensor, Tensor]) -> Tensor:
    return torch._weight_int8pack_mm(x.to(torch.bfloat16), q[0], q[1]).float()


@contextmanager
def _no_onednn() -> Iterator[None]:
    """oneDNN's LSTM is fast on training batches but costs ~3 ms per call on one short
    sequence (prompt reading): use torch's own kernel there (same maths)."""
    prev = torch._C._get_mkldnn_enabled()
    torch._C._set_mkldnn_enabled(False)
    try:
        yield
    finally:
        torch._C._set_mkldnn_enabled(prev)


def _run_prompt(model: LanguageModel, ids: list[int]) -> tuple[Tensor, Any]:
    """Read the prompt once: (log-probs of the next token (V,), state)."""
    dev = next(model.parameters()).device
    with _no_onednn():
        out, state = model.rnn(model.embed(torch.tensor([ids], device=dev)))
    # the head only on the last position: with a large word vocabulary it is the big matmul
    return F.log_softmax(model.head(out[0, -1]).float(), -1), state


@torch.inference_mode()
def topk_next(model: LanguageModel, text: str, k: int = 5) -> list[tuple[str, float]]:
    """The ``k`` most likely next tokens after ``text`` with their probabilities.

    >>> topk_next(model, "ROMEO", k=3)     # doctest: +SKIP
    [(':', 0.81), ('\\n', 0.05), (' ', 0.04)]
    """
    if k < 1:
        raise InputError(f"--top-k must be >= 1, got {k}")
    logp, _ = _run_prompt(model, _prompt_ids(model, text))
    p, idx = logp.exp().topk(min(k, len(logp)))
    return [(model.tokenizer.vocab[int(i)], float(q)) for q, i in zip(p, idx)]


_WORD_CHAR = re.compile(r"[\w'’-]")


def _stack_states(states: list[Any]) -> Any:
    if isinstance(states[0], tuple):
        return tuple(torch.cat(parts, 1) for parts in zip(*states))
    return torch.cat(states, 1)


def _select_state(state: Any, idx: Tensor) -> Any:
    if isinstance(state, tuple):
        return tuple(s[:, idx] for s in state)
    return state[:, idx]


@torch.inference_mode()
def predict_words(
    model: LanguageModel, text: str, k: int = 3, beam: int | None = None, max_chars: int = 24
) -> list[tuple[str, float]]:
    """The ``k`` most likely next words after ``text``, with probabilities.

    Word model: the softmax over words (``<unk>``/``<eos>`` left out). Char model: a beam
    search over characters until a space or punctuation mark; a word's probability is that of
    its letters followed by a word end. If ``text`` does not end in a space, a space is added
    first (we predict the *next* word, not the end of the current one).

    >>> predict_words(model, "I love eating", k=3)    # doctest: +SKIP
    [('the', 0.12), ('a', 0.07), ('my', 0.05)]
    """
    if k < 1:
        raise InputError(f"--top-k must be >= 1, got {k}")
    tok = model.tokenizer
    if not text.strip():
        raise InputError("the text is empty: give a few words")
    if tok.level == "word":
        logp, _ = _run_prompt(model, _prompt_ids(model, text, allow_empty=False))
        p = logp.exp()
        p[tok.unk_id] = 0.0
        p[tok.eos_id] = 0.0
        q, idx = p.topk(min(k, len(p) - 2))
        return [(tok.vocab[int(i)], float(v)) for v, i in zip(q, idx) if v > 0]
    if not text[-1].isspace():
        text = text + " "
    logp, state = _run_prompt(model, _prompt_ids(model, text, allow_empty=False))
    step = Stepper(model)
    width = beam or max(8, 3 * k)
    is_word = torch.tensor([bool(_WORD_CHAR.match(c)) for c in tok.vocab])
    is_word[tok.unk_id] = False
    not_end = is_word.clone()
    not_end[tok.unk_id] = True  # an unknown symbol is neither a letter nor a word end
    dev = logp.device
    is_word, not_end = is_word.to(dev), not_end.to(dev)
    n_word = int(is_word.sum())
    # beams: prefixes (char ids) and their log-probs; rows of `logp`/`state` follow them
    prefixes: list[list[int]] = [[]]
    scores = torch.zeros(1, device=dev)
    logp = logp.unsqueeze(0)
    done: dict[str, float] = {}
    for _ in range(max_chars):
        if prefixes[0]:  # end each word here: any non-word character follows
            ends = (scores + torch.logsumexp(logp.masked_fill(not_end, -math.inf), -1)).tolist()
            for prefix, e in zip(prefixes, ends):
                w = tok.decode(prefix)
                done[w] = done.get(w, 0.0) + math.exp(e)
        # extend every beam by one letter; keep the `width` best (row, letter) pairs
        ext = (scores[:, None] + logp.masked_fill(~is_word, -math.inf)).view(-1)
        top, flat = ext.topk(min(width, n_word * len(prefixes)))
        keep = top > -math.inf
        top, flat = top[keep], flat[keep]
        # stop when no unfinished beam can still beat the k-th finished word
        kth = sorted(done.values(), reverse=True)[k - 1] if len(done) >= k else 0.0
        if not len(top) or math.exp(float(top[0])) < kth:
            break
        V = logp.shape[-1]
        rows, chars = flat // V, flat % V
        logits, state = step(chars, _select_state(state, rows))
        logp = F.log_softmax(logits.float(), -1)
        prefixes = [prefixes[r] + [c] for r, c in zip(rows.tolist(), chars.tolist())]
        scores = top
    ranked = sorted(done.items(), key=lambda t: -t[1])[:k]
    return [(w, p) for w, p in ranked]


def _sample(
    logits: Tensor, temperature: float, top_k: int | None, top_p: float | None, gen: torch.Generator
) -> int:
    if temperature <= 0:
        return int(logits.argmax())
    # a tiny temperature would overflow the logits to inf (NaN probabilities): below 1e-4
    # sampling is greedy anyway (the explorer's generate clamps the same way)
    z = logits.float() / max(temperature, 1e-4)
    if top_k:
        kth = z.topk(min(top_k, z.shape[-1])).values[-1]
        z = z.masked_fill(z < kth, -math.inf)
    if top_p is not None and top_p < 1.0:
        sz, si = z.sort(descending=True)
        cum = sz.softmax(-1).cumsum(-1)
        drop = cum - sz.softmax(-1) > top_p  # keep the smallest set with mass >= top_p
        z = z.scatter(-1, si, sz.masked_fill(drop, -math.inf))
    return int(torch.multinomial(z.softmax(-1), 1, generator=gen))


@torch.inference_mode()
def generate(
    model: LanguageModel,
    prompt: str = "",
    length: int = 200,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    seed: int | None = None,
    fast: bool = False,
) -> Iterator[str]:
    """Yield ``length`` sampled tokens (as strings) after ``prompt``, carrying the state: the
    prompt is read once, then each step feeds only the last token.

    ``temperature`` 0 is greedy; ``top_k`` keeps the k best tokens; ``top_p`` the smallest set
    of tokens with probability mass >= p (nucleus sampling). ``seed`` makes it repeatable.
    ``fast`` runs the steps with int8 weights (``Stepper(quantize=True)``): ~1.6x faster on
    CPU, slightly different numbers.

    >>> print("".join(generate(model, "ROMEO:", 100, temperature=0.8, seed=1)))  # doctest: +SKIP
    """
    if length < 0:
        raise InputError(f"--length must be >= 0, got {length}")
    if not temperature >= 0 or math.isinf(temperature):  # also NaN
        raise InputError(f"--temperature must be a number >= 0, got {temperature}")
    if top_k is not None and top_k < 1:
        raise InputError(f"--top-k must be >= 1, got {top_k}")
    if top_p is not None and not 0.0 < top_p <= 1.0:
        raise InputError(f"--top-p must be in (0, 1], got {top_p}")
    tok = model.tokenizer
    ids = _prompt_ids(model, prompt)
    gen = torch.Generator().manual_seed(
        int(seed) if seed is not None else int(time.time_ns()) % 2**63
    )
    dev = next(model.parameters()).device
    logits, state = model(torch.tensor([ids], device=dev))
    logits = logits[0, -1].cpu()
    step = Stepper(model, quantize=fast and dev.type == "cpu")
    x = torch.zeros(1, dtype=torch.long, device=dev)
    eos = getattr(tok, "eos_id", None)
    for _ in range(length):
        if len(tok) > 1:  # never write the unknown symbol: it stands for no text
            logits[tok.unk_id] = -math.inf
        nxt = _sample(logits, temperature, top_k, top_p, gen)
        yield "\n" if nxt == eos else tok.vocab[nxt]
        x[0] = nxt
        out, state = step(x, state)
        logits = out[0].cpu()


# ---------------------------------------------------------------------------------------
# CLI


def _parse_bidir(v: str) -> bool:
    v = v.strip().lower()
    if v in ("no", "false", "0", "off"):
        return False
    if v in ("yes", "true", "1", "on"):
        raise InputError(
            "a language model predicts the next token, so it cannot be bidirectional: "
            "use --bidirectional no"
        )
    raise InputError(f"--bidirectional takes no (got {v!r})")


@app.command("train")
def train_cmd(
    data: Path = typer.Option(..., "--data", help="UTF-8 text file to learn from."),
    out: Path = typer.Option(Path("runs/lm"), "--out", help="Run directory to write."),
    level: str = typer.Option(DEFAULTS["level"], help="Tokens: char or word."),
    cell: str = typer.Option(DEFAULTS["cell"], help="rnn, rnn_relu, gru, lstm, mingru or minlstm."),
    hidden: int = typer.Option(DEFAULTS["hidden"], help="Hidden units per layer."),
    layers: int = typer.Option(DEFAULTS["layers"], help="Stacked recurrent layers."),
    embed: int = typer.Option(DEFAULTS["embed"], help="Embedding size."),
    dropout: float = typer.Option(
        DEFAULTS["dropout"], help="Dropout on embeddings, between layers and before the head."
    ),
    bidirectional: str = typer.Option("no", help="Must be 'no' for a language model."),
    seq_len: int = typer.Option(
        DEFAULTS["seq_len"], "--seq-len", help="Truncated-BPTT window (tokens)."
    ),
    batch: int = typer.Option(DEFAULTS["batch"], help="Parallel streams per step (per process)."),
    lr: float = typer.Option(DEFAULTS["lr"], help="Peak learning rate (AdamW, warmup + cosine)."),
    time_budget: str = typer.Option(None, "--time-budget", help="Train for this long, e.g. 15m."),
    steps: int = typer.Option(None, help="Train for this many steps."),
    val: Path = typer.Option(None, "--val", help="Validation text (default: last 10% of --data)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out exactly."),
    device: str = typer.Option("auto", help="auto, cpu or cuda."),
    seed: int = typer.Option(0, help="Random seed."),
    lower: bool = typer.Option(True, "--lower/--keep-case", help="Word level: fold case."),
    min_count: int = typer.Option(1, "--min-count", help="Word level: rarer words become <unk>."),
    max_vocab: int = typer.Option(None, "--max-vocab", help="Word level: keep the most frequent."),
    clip: float = typer.Option(1.0, help="Max gradient norm (0 = off)."),
    warmup: int = typer.Option(50, help="Linear warmup steps."),
    eval_every: int = typer.Option(None, "--eval-every", help="Validate every N steps."),
    patience: int = typer.Option(
        0, help="Stop after N validations without improvement (0 = never)."
    ),
    engine: str = typer.Option(
        None, help="Recurrent engine: auto, native, explicit (scan for min*)."
    ),
    log_dir: Path = typer.Option(None, "--log-dir", help="Also write TensorBoard scalars here."),
    threads: int = typer.Option(None, help="CPU threads (default: torch's; 1 on a busy machine)."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Train a character- or word-level RNN language model on your text."""
    if val is not None and not val.exists():
        raise InputError(f"--val file {val} does not exist (check the path)")
    if not data.exists():
        raise InputError(f"--data file {data} does not exist (check the path)")
    s = train_lm(
        data, out, level=level, cell=cell, hidden=hidden, layers=layers, embed=embed,
        dropout=dropout, bidirectional=_parse_bidir(bidirectional), seq_len=seq_len,
        batch=batch, lr=lr, steps=steps, time_budget=time_budget, val=val, resume=resume,
        device=device, seed=seed, lower=lower, min_count=min_count, max_vocab=max_vocab,
        clip=clip, warmup=warmup, eval_every=eval_every, patience=patience, engine=engine,
        log_dir=log_dir, progress=not quiet, threads=threads,
    )  # fmt: skip
    if _dist_info()[0] == 0:
        shas = s["weights_sha256"]
        if len(shas) > 1:
            same = len(set(shas)) == 1
            typer.echo(
                f"weights {'identical' if same else 'DIFFERENT'} on {len(shas)} processes "
                f"(sha256 {' '.join(h[:12] for h in shas)})"
            )
        m = s["metrics"]
        typer.echo(
            f"{s['steps']} steps in {s['elapsed']:.0f} s ({s['stop_reason']}); best val loss "
            f"{s['best']:.4f} nats/token; last: bpc {m.get('val_bpc', float('nan')):.3f}, "
            f"perplexity {m.get('val_ppl', float('nan')):.2f}; saved in {out}"
        )


@app.command("eval")
def eval_cmd(
    run: Path = typer.Argument(..., help="Run directory."),
    data: Path = typer.Option(
        None, "--data", help="Text to evaluate on (default: the run's validation text)."
    ),
    device: str = typer.Option("cpu", help="cpu or cuda."),
) -> None:
    """Validation loss (nats/token), bits per char, perplexity, top-1/top-5 accuracy."""
    from rnnlab.data.textstream import count_chars, encode_chunks, iter_text
    from rnnlab.train.util import pick_device

    dev = pick_device(device)
    model = load_lm(run, dev)
    cfg = model.config
    tok = model.tokenizer
    if data is None:
        src = cfg.get("val")
        if src and src != "<text>" and Path(src).is_file():
            chunks, what = list(iter_text(src, "validation file")), src
        elif cfg.get("data") and cfg["data"] != "<text>" and Path(cfg["data"]).is_file():
            n = count_chars(cfg["data"], "data file")
            chunks = list(iter_text(cfg["data"], "data file", int(n * 0.9), None))
            what = f"last 10% of {cfg['data']}"
        else:
            raise InputError(f"{run} does not name a readable validation file: give --data PATH")
    else:
        count_chars(data, "data file")
        chunks, what = list(iter_text(data, "data file")), str(data)
    ids = encode_chunks(iter(chunks), tok.encode_array, len(tok))
    if len(ids) < 2:
        raise InputError(f"{what} is too short to evaluate (fewer than 2 tokens)")
    m = evaluate_ids(model, ids, chars=sum(len(c) for c in chunks), device=dev)
    unk = float(np.mean(ids == tok.unk_id))
    typer.echo(f"evaluated on {what}: {len(ids):,} tokens ({unk:.1%} unknown)")
    typer.echo(f"loss        {m['val_loss']:.4f} nats/{tok.level}")
    typer.echo(f"bits/char   {m['val_bpc']:.4f}")
    typer.echo(f"perplexity  {m['val_ppl']:.3f}")
    typer.echo(f"top-1 acc   {m['val_top1']:.2%}")
    typer.echo(f"top-5 acc   {m['val_top5']:.2%}")


@app.command("generate")
def generate_cmd(
    run: Path = typer.Argument(..., help="Run directory."),
    prompt: str = typer.Option("", help="Text to start from."),
    length: int = typer.Option(500, help="Tokens to generate."),
    temperature: float = typer.Option(0.8, help="Sampling temperature (0 = greedy)."),
    top_k: int = typer.Option(None, "--top-k", help="Sample among the k most likely."),
    top_p: float = typer.Option(None, "--top-p", help="Nucleus sampling mass."),
    seed: int = typer.Option(None, help="Random seed (repeatable output)."),
    fast: bool = typer.Option(
        False, "--fast", help="int8 weights: ~1.6x faster on CPU, slightly different numbers."
    ),
) -> None:
    """Stream generated text to stdout as it is produced."""
    model = load_lm(run)
    sys.stdout.write(prompt)
    word = model.tokenizer.level == "word"
    glue = not prompt or prompt[-1].isspace()  # no space after a line start or a space
    for t in generate(model, prompt, length, temperature, top_k, top_p, seed, fast):
        if word:  # the word tokenizer's spacing rules, applied token by token
            space = not (glue or t == "\n" or t in NO_SPACE_BEFORE)
            glue = t == "\n" or t in NO_SPACE_AFTER
            t = (" " if space else "") + t
        sys.stdout.write(t)
        sys.stdout.flush()
    sys.stdout.write("\n")


@app.command("predict")
def predict_cmd(
    run: Path = typer.Argument(..., help="Run directory."),
    text: str = typer.Argument(..., help="The start of a sentence."),
    top_k: int = typer.Option(3, "--top-k", help="How many words to list."),
) -> None:
    """The most likely next words with their probabilities."""
    model = load_lm(run)
    for w, p in predict_words(model, text, top_k):
        typer.echo(f"{p:8.2%}  {w}")


@app.command("plot")
def plot_cmd(
    run: Path = typer.Argument(..., help="Run directory."),
    out: Path = typer.Option(None, "--out", help="PNG path (default RUN/loss.png)."),
) -> None:
    """Plot the training and validation loss curves to a PNG."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rnnlab.io import atomic_write_bytes
    from rnnlab.train.checkpoint import read_config
    from rnnlab.train.loop import read_log

    cfg = read_config(run)
    if cfg.get("task") != TASK:
        raise CheckpointError(f"{run} holds a '{cfg.get('task')}' run, not an 'lm' run")
    rows = read_log(run)
    tr = [(r["step"], r["train_loss"]) for r in rows if r.get("split") == "train"]
    va = [(r["step"], r["metrics"]["val_loss"]) for r in rows if r.get("split") == "val"]
    if not tr and not va:
        raise InputError(f"{run}/log.jsonl has no curve yet (train longer than one log interval)")
    fig, ax = plt.subplots(figsize=(7, 4))
    if tr:
        ax.plot(*zip(*tr), label="train (smoothed)", lw=1)
    if va:
        ax.plot(*zip(*va), "o-", label="validation", lw=1.5)
    ax.set_xlabel("step")
    ax.set_ylabel(f"loss (nats/{cfg.get('level', 'token')})")
    ax.set_title(
        f"{cfg.get('cell', '?')} {cfg.get('layers')}x{cfg.get('hidden')} on {Path(str(cfg.get('data', ''))).name}"
    )
    ax.grid(alpha=0.3)
    ax.legend()
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=120)
    plt.close(fig)
    dest = out or (Path(run) / "loss.png")
    atomic_write_bytes(dest, buf.getvalue())
    typer.echo(f"wrote {dest}")


__all__ = [
    "LanguageModel", "load_lm", "train_lm", "topk_next", "predict_words", "generate",
    "evaluate_ids", "load_corpus", "EOS",
]  # fmt: skip
