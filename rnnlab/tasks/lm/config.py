"""The settings of ``rnnlab lm``, declared once (CLI options, ``config.json``, Python API).

Importable without torch: the CLI reads it to build its options.

>>> LMModel().hidden, LMTrain().seq_len
(256, 64)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rnnlab.config import RNNSpec, Settings, setting

TASK = "lm"

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
VAL_FRACTION = 0.1  # without --val, the last 10% of the text (contiguous) is held out


@dataclass
class LMModel(RNNSpec):
    """Architecture of a language model (a causal RNN: never bidirectional)."""

    cell: str = setting(DEFAULTS["cell"], "rnn, rnn_relu, gru, lstm, mingru or minlstm.")
    embed: int = setting(DEFAULTS["embed"], "Embedding size.")
    hidden: int = setting(DEFAULTS["hidden"], "Hidden units per layer.")
    layers: int = setting(DEFAULTS["layers"], "Stacked recurrent layers.")
    dropout: float = setting(
        DEFAULTS["dropout"], "Dropout on embeddings, between layers and before the head."
    )
    tie: bool = setting(
        False,
        "Tie the output layer to the input embedding (Press & Wolf 2017): word models get "
        "half the weights and usually a lower perplexity on small data.",
        "--tie/--no-tie",
    )
    # regularisers and initialisation of AWD-LSTM (Merity et al. 2017; rnnlab.core.options):
    # every default keeps the plain model and its numbers
    weight_drop: float = setting(
        0.0, "DropConnect on the recurrent weights W_hh: probability (AWD-LSTM; training only)."
    )
    recurrent_dropout: float = setting(
        0.0, "Variational dropout of the state entering W_hh: probability (training only)."
    )
    embed_dropout: float = setting(
        0.0, "Drop whole word types from the embedding: probability (training only)."
    )
    forget_bias: float | None = setting(
        None, "LSTM: initial forget-gate bias, e.g. 1.0 (default: torch's initialisation)."
    )
    recurrent_init: str = setting("default", "Recurrent weights W_hh: default or orthogonal.")
    zoneout: float = setting(
        0.0, "Zoneout: each unit keeps its previous state with this probability (training; "
        "eval uses the expectation)."
    )  # fmt: skip
    layer_norm: bool = setting(
        False, "Layer normalisation of the input and recurrent projections (and an LSTM's "
        "cell), Ba et al. 2016.", "--layer-norm/--no-layer-norm"
    )  # fmt: skip
    # the command takes `--bidirectional no` (text) and refuses anything else
    bidirectional: bool = setting(False, "Must be 'no' for a language model.", cli=False)


@dataclass
class LMData(Settings):
    """How the text becomes tokens, and what is held out."""

    level: str = setting(DEFAULTS["level"], "Tokens: char or word.")
    lower: bool = setting(True, "Word level: fold case.", "--lower/--keep-case")
    min_count: int = setting(1, "Word level: rarer words become <unk>.")
    max_vocab: int | None = setting(None, "Word level: keep the most frequent.")
    val: str | None = setting(None, "Validation text (default: last 10% of --data).", "--val")
    # issue 22: pre-tokenised corpora; the run records it as data.tokenizer_name
    tokenizer_name: str | None = setting(
        None,
        "char, word (words and punctuation marks of raw text) or whitespace (a pre-tokenised "
        "corpus such as PTB: the whitespace-separated words as written, its <unk> as the unknown "
        "word, <eos> per line; --lower does not apply); it sets --level (default: the "
        "tokenizer of --level).",
        "--tokenizer",
    )


@dataclass
class LMTrain(Settings):
    """How the model is trained (``rnnlab.train.loop``)."""

    seq_len: int = setting(DEFAULTS["seq_len"], "Truncated-BPTT window (tokens).")
    batch: int = setting(DEFAULTS["batch"], "Parallel streams per step (per process).")
    lr: float = setting(DEFAULTS["lr"], "Peak learning rate (AdamW, warmup + cosine).")
    time_budget: str | None = setting(None, "Train for this long, e.g. 15m.")
    steps: int | None = setting(None, "Train for this many steps.")
    resume: bool = setting(False, "Continue the run in --out exactly.", "--resume")
    device: str = setting("auto", "auto, cpu or cuda.")
    seed: int = setting(0, "Random seed.")
    clip: float = setting(1.0, "Max gradient norm (0 = off).")
    warmup: int = setting(50, "Linear warmup steps.")
    eval_every: int | None = setting(None, "Validate every N steps.")
    patience: int = setting(0, "Stop after N validations without improvement (0 = never).")
    engine: str | None = setting(None, "Recurrent engine: auto, native, explicit (scan for min*).")
    log_dir: str | None = setting(None, "Also write TensorBoard scalars here.")
    threads: int | None = setting(None, "CPU threads (default: torch's; 1 on a busy machine).")
    weight_decay: float = setting(0.01, "AdamW weight decay.", cli=False)
    eval_every_s: float | None = setting(None, "Validate every N seconds.", cli=False)
    eval_tokens: int | None = setting(None, "Validate on the first N tokens only.", cli=False)
    # issue 22: activation penalties and the optimizer (AWD-LSTM; rnnlab.train.optim)
    ar: float = setting(0.0, "Activation regularisation: + AR * mean(dropped last-layer output^2).")
    tar: float = setting(
        0.0, "Temporal AR: + TAR * mean((h_t - h_{t-1})^2) of the last layer's outputs."
    )
    optimizer: str = setting(
        "adamw", "adamw, sgd (plain, at --lr) or ntasgd (SGD, then averaged once val stalls)."
    )
    nonmono: int = setting(
        5, "ntasgd: average once val is worse than the best from before the last N evaluations."
    )
