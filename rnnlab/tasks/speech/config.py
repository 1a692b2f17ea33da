"""The settings of ``rnnlab speech``, declared once (CLI options, ``config.json``, Python API).

Importable without torch: the CLI reads it to build its options. The data section also holds
what training recorded (``cli=False`` fields: the folder, the feature configuration and how
the split was made), so a run's ``config.json`` is read back with ``SpeechData.from_dict``.

>>> SpeechModel().layers, SpeechData().task, SpeechTrain().batch
(2, 'digits', 32)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rnnlab.config import RNNSpec, Settings, setting

TASK = "speech"
BLANK = 0
SYMBOLS = ["_", *"0123456789"]  # CTC output symbols: index 0 is the blank, d + 1 is digit d
TASKS = ("digits", "connected")
DEFAULT_STEPS = 2000  # without --steps or --time-budget


@dataclass
class SpeechModel(RNNSpec):
    """Conv front end (each layer halves the frames) → recurrent layer → CTC head."""

    cell: str = setting("gru", "rnn, gru, lstm, mingru or minlstm.")
    embed: int = setting(0, "Unused: the conv front end reads the features.", cli=False)
    hidden: int = setting(128, "Hidden units per layer and direction.")
    layers: int = setting(2, "Stacked recurrent layers.")
    dropout: float = setting(0.1, "Dropout between layers and before the output.")
    bidirectional: bool = setting(True, "biRNN.", "--bidirectional/--unidirectional")
    conv_layers: int | None = setting(
        None, "Strided conv layers, each halves T (digits 2, connected 3).", "--conv-layers"
    )
    channels: int = setting(128, "Channels of the conv front end.", cli=False)
    n_features: int = setting(40, "Features per frame (set from --features).", cli=False)


@dataclass
class SpeechData(Settings):
    """Which task and split, which features, and (recorded by training) what came of them."""

    task: str = setting("digits", "digits (isolated) or connected (2-7 digit strings).")
    split_by: str = setting("random", "random, speaker (held-out speaker) or official.", "--split")
    test_speaker: str | None = setting(None, "Speaker held out by --split speaker.")
    val_speaker: str | None = setting(
        None,
        "Validate on this speaker and train on none of their recordings (the kept checkpoint "
        "is then the best on a voice never trained on; default: random recordings).",
    )
    features: str = setting(
        "mfcc", "mfcc (13: the spectral envelope, not the pitch harmonics) or logmel (40)."
    )
    speech_db: float = setting(
        25.0,
        "Normalise each recording over its frames within this many dB of the loudest, so "
        "silence does not count (0: over all frames).",
        "--speech-db",
    )
    min_digits: int = setting(2, "Connected: shortest string.")
    max_digits: int = setting(7, "Connected: longest string.")
    snr_db: float | None = setting(
        None, "Connected: add white noise, SNR from this to +20 dB.", "--noise"
    )
    n_val: int = setting(200, "Connected: validation strings.", cli=False)
    n_test: int = setting(500, "Connected: test strings.", cli=False)
    # recorded by training
    path: str | None = setting(None, "The FSDD folder trained on.", cli=False)
    feature_config: dict[str, Any] = setting({}, "How audio became frames.", cli=False)
    split: dict[str, Any] = setting(
        {}, "How val/test were cut: kind, seed, speaker, sizes, a hash of the files.", cli=False
    )


RECORDED = ("path", "feature_config", "split")  # written by training, not given


@dataclass
class SpeechTrain(Settings):
    """How the model is trained (``rnnlab.train.loop``)."""

    batch: int = setting(32, "Utterances per step.")
    lr: float = setting(3e-3, "Peak learning rate (AdamW, warmup + cosine).")
    steps: int | None = setting(None, f"Train for this many steps (default {DEFAULT_STEPS}).")
    time_budget: str | None = setting(None, "Or for this long, e.g. 5m.")
    eval_every: int = setting(200, "Validate every N steps.")
    seed: int = setting(0, "Random seed (also fixes the split).")
    init: str | None = setting(
        None, "Start from this speech run's weights (e.g. digits → connected).", "--init"
    )
    resume: bool = setting(False, "Continue the run in --out exactly.", "--resume")
    threads: int = setting(1, "CPU threads (1 is fastest on a busy machine).")
    augment: str = setting(
        "voice",
        "voice (new voices for speakers the model never heard: speed, pitch, vocal-tract "
        "warp, room, level, silence; then SpecAugment) or spec (SpecAugment masks only).",
    )
