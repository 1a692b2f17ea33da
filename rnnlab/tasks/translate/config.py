"""The settings of ``rnnlab translate``, declared once (CLI options, ``config.json``, Python API).

Importable without torch: the CLI reads it to build its options. The data section also holds
what training recorded (``cli=False`` fields: the pairs' source and hash, their counts, the
vocabularies and the file of the held-out split), so a run's ``config.json`` is read back with
``TranslateData.from_dict``.

>>> TranslateModel().hidden, TranslateData().max_len, TranslateTrain().batch
(128, 10, 64)
"""

from __future__ import annotations

from dataclasses import dataclass

from rnnlab.config import RNNSpec, Settings, setting

TASK = "translate"
BUILTIN = "builtin:numbers"
SPLIT_FILE = "split.json"  # the held-out val/test pairs, in the run directory
CELLS = ("gru", "lstm")  # the decoder is a cell of the same kind


@dataclass
class TranslateModel(RNNSpec):
    """Encoder (bidirectional, ``layers`` deep) and attentive decoder."""

    cell: str = setting("gru", "gru or lstm (encoder and decoder).")
    embed: int = setting(64, "Embedding size.")
    hidden: int = setting(128, "Hidden size (per encoder direction).")
    layers: int = setting(1, "Encoder layers.")
    dropout: float = setting(0.2, "Dropout.")
    bidirectional: bool = setting(True, "The encoder reads both ways (always).", cli=False)
    attention: bool = setting(
        True, "Bahdanau attention or a fixed context.", "--attention/--no-attention"
    )


@dataclass
class TranslateData(Settings):
    """Which pairs, how they are cleaned, and (recorded by training) what came of them."""

    pairs: str | None = setting(
        None,
        "Pair file 'source<TAB>target[<TAB>attribution]' (default: built-in numbers en→fr).",
        "--pairs",
    )
    src_lang: str = setting("en", "Language to translate from.")
    tgt_lang: str = setting("fr", "Language to translate into.")
    columns: str = setting("en,fr", "Languages of the file's two columns.")
    max_len: int | None = setting(10, "Keep pairs of at most N words (0 = all).")
    lower: bool = setting(True, "Lower-case the text.", "--lower/--keep-case")
    min_freq: int = setting(1, "Words seen fewer times become <unk> (--tokenizer word).")
    tokenizer: str = setting(
        "word",
        "word (closed vocabulary: unseen words are <unk>), or bpe / unigram subwords "
        "(sentencepiece over both languages: nothing is unknown, names and numbers are "
        "spelt through).",
    )
    vocab_size: int = setting(4000, "Subword pieces to learn (--tokenizer bpe/unigram).")
    copy: bool = setting(
        True,
        "Carry numbers and unseen names through by placeholder (--tokenizer bpe/unigram).",
        "--copy/--no-copy",
    )
    val_frac: float = setting(0.05, "Share of source sentences held out to validate.", cli=False)
    test_frac: float = setting(0.1, "Share of source sentences held out to test.", cli=False)
    # recorded by training
    source: str | None = setting(None, "The pairs read: a resolved path or builtin.", cli=False)
    pairs_sha256: str | None = setting(None, "SHA-256 of the pair file.", cli=False)
    n_pairs: dict[str, int] = setting({}, "Pairs read, kept and in each split.", cli=False)
    src_vocab: list[str] = setting([], "Source vocabulary (id order).", cli=False)
    tgt_vocab: list[str] = setting([], "Target vocabulary (id order).", cli=False)
    split: str = setting(SPLIT_FILE, "The held-out val/test pairs: a file of the run.", cli=False)


@dataclass
class TranslateTrain(Settings):
    """How the model is trained (``rnnlab.train.loop``)."""

    batch: int = setting(64, "Sentence pairs per batch.")
    lr: float = setting(3e-3, "Peak learning rate.")
    steps: int | None = setting(None, "Training steps.")
    time_budget: str | None = setting(None, "Training time, e.g. 10m.")
    tf_start: float = setting(1.0, "Teacher forcing ratio at the start.")
    tf_end: float = setting(0.7, "Teacher forcing ratio at the end (linear).")
    seed: int = setting(0, "Seed (also fixes the val/test split).")
    resume: bool = setting(False, "Continue the run in --out exactly.", "--resume")
    threads: int = setting(0, "CPU threads (0 = torch's default).")
    smoothing: float = setting(0.1, "Label smoothing of the loss.", cli=False)
    eval_every: int = setting(200, "Validate every N steps.", cli=False)
    eval_every_s: float | None = setting(None, "Or every N seconds.", cli=False)
