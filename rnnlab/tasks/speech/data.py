"""Speech data: recordings in memory, connected-digit strings, the training stream, and the
split a run records (so eval and the explorer never cut it differently).

>>> parts = run_split(SpeechData.from_dict(cfg["data"]), "../shared/data/fsdd")  # doctest: +SKIP
>>> len(parts["test"])                                                           # doctest: +SKIP
300
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from rnnlab.data.audio import (
    FeatureConfig,
    Recording,
    concat_digits,
    features,
    fsdd_index,
    load_audio,
    spec_augment,
    split_recordings,
)
from rnnlab.data.augment import resize_frames, voice
from rnnlab.errors import InputError
from rnnlab.tasks.speech.config import SpeechData


def collate(feats: list[Tensor]) -> tuple[Tensor, Tensor]:
    """Padded features (B, T, F) and their lengths (B,)."""
    lengths = torch.tensor([len(f) for f in feats])
    return nn.utils.rnn.pad_sequence(feats, batch_first=True), lengths


class Corpus:
    """Recordings of one split loaded into memory, with their features (computed once)."""

    def __init__(self, recs: list[Recording], fcfg: FeatureConfig):
        self.recs, self.fcfg = recs, fcfg
        self.waves = [load_audio(r.path, fcfg.rate) for r in recs]
        self.feats = [features(w, fcfg) for w in self.waves]
        self.by_speaker: dict[str, list[int]] = {}
        for i, r in enumerate(recs):
            self.by_speaker.setdefault(r.speaker, []).append(i)


def connected_set(
    corpus: Corpus, n: int, seed: int, min_digits: int, max_digits: int, snr_db: float | None
) -> tuple[list[Tensor], list[list[int]]]:
    """``n`` connected-digit utterances (features, labels) drawn reproducibly from ``corpus``."""
    rng = np.random.default_rng((seed, 13))
    feats, labels = [], []
    for _ in range(n):
        w, y = _one_connected(corpus, rng, min_digits, max_digits, snr_db)
        feats.append(features(w, corpus.fcfg))
        labels.append(y)
    return feats, labels


def _one_connected(
    corpus: Corpus,
    rng: np.random.Generator,
    min_digits: int,
    max_digits: int,
    snr_db: float | None,
) -> tuple[np.ndarray, list[int]]:
    speakers = sorted(corpus.by_speaker)
    pool = corpus.by_speaker[speakers[int(rng.integers(len(speakers)))]]
    idx = [
        pool[int(i)]
        for i in rng.integers(0, len(pool), int(rng.integers(min_digits, max_digits + 1)))
    ]
    snr = None if snr_db is None else float(rng.uniform(snr_db, snr_db + 20))
    w = concat_digits([corpus.waves[i] for i in idx], rng, corpus.fcfg.rate, snr_db=snr)
    return w, [corpus.recs[i].digit + 1 for i in idx]


AUGMENTS = ("spec", "voice")


def voiced_features(w: np.ndarray, fcfg: FeatureConfig, rng: np.random.Generator) -> Tensor:
    """The features of ``w`` spoken in a new voice (``rnnlab.data.augment.voice``): speed,
    pitch, room, level, and a VTLP warp of the filterbank."""
    v = voice(w, rng, fcfg.rate)
    f = features(v.samples, fcfg, warp=v.warp)
    return resize_frames(f, max(1, round(len(f) * v.stretch)))


class SpeechStream:
    """Training batches: isolated recordings (shuffled epochs) or freshly synthesised connected
    strings; ``augment`` "spec" masks bands of the features (SpecAugment), "voice" also changes
    the voice first (``voiced_features``). Batch ``k`` is a function of ``(seed, k)``, so
    ``--resume`` is exact."""

    def __init__(
        self,
        corpus: Corpus,
        task: str,
        batch: int,
        seed: int,
        conn: dict[str, Any],
        augment: str = "spec",
    ):
        if augment not in AUGMENTS:
            raise InputError(f"unknown --augment {augment!r}: choose {' or '.join(AUGMENTS)}")
        self.corpus, self.task, self.batch, self.seed, self.conn = corpus, task, batch, seed, conn
        self.augment = augment
        self.k = 0

    def __next__(self) -> tuple[Tensor, Tensor, list[list[int]]]:
        rng = np.random.default_rng((self.seed, 17, self.k))
        n = len(self.corpus.recs)
        if self.task == "digits":
            epoch, pos = divmod(self.k * self.batch, n)
            order = np.random.default_rng((self.seed, 19, epoch)).permutation(n)
            idx = np.resize(np.roll(order, -pos), self.batch)
            if self.augment == "voice":
                fc = self.corpus.fcfg
                feats = [voiced_features(self.corpus.waves[i], fc, rng) for i in idx]
            else:
                feats = [self.corpus.feats[i] for i in idx]
            labels = [[self.corpus.recs[i].digit + 1] for i in idx]
        else:
            feats, labels = [], []
            for _ in range(self.batch):
                w, y = _one_connected(
                    self.corpus,
                    rng,
                    self.conn["min_digits"],
                    self.conn["max_digits"],
                    self.conn["snr_db"],
                )
                fc = self.corpus.fcfg
                feats.append(
                    voiced_features(w, fc, rng) if self.augment == "voice" else features(w, fc)
                )
                labels.append(y)
        self.k += 1
        x, lengths = collate([spec_augment(f, rng) for f in feats])
        return x, lengths, labels

    def state_dict(self) -> dict[str, int]:
        return {"k": self.k}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.k = int(state["k"])


# ---- the split a run records ----------------------------------------------------------------


def _names_sha(parts: dict[str, list[Recording]]) -> str:
    h = hashlib.sha256()
    for name in ("val", "test"):  # in split order: the connected strings are drawn by index
        h.update(f"{name}:{','.join(r.path.name for r in parts[name])};".encode())
    return h.hexdigest()


def split_record(
    parts: dict[str, list[Recording]],
    kind: str,
    seed: int,
    test_speaker: str | None,
    val_speaker: str | None = None,
) -> dict[str, Any]:
    """What ``data.split`` holds: how the split was cut, its sizes, the speakers trained on,
    and a hash of the validation and test file names in order (``run_split`` checks it)."""
    return {
        "kind": kind,
        "seed": seed,
        "test_speaker": test_speaker,
        "val_speaker": val_speaker,
        "train_speakers": sorted({r.speaker for r in parts["train"]}),
        "sizes": {k: len(v) for k, v in parts.items()},
        "sha256": _names_sha(parts),
    }


def run_split(dc: SpeechData, folder: str | Path | None = None) -> dict[str, list[Recording]]:
    """The run's train/val/test recordings, cut as ``dc.split`` records from ``folder``
    (default: the folder it trained on); a folder that gives other files is an InputError."""
    sp = dc.split
    folder = folder if folder is not None else dc.path
    parts = split_recordings(
        fsdd_index(folder),
        sp["kind"],
        sp["seed"],
        sp.get("test_speaker"),
        val_speaker=sp.get("val_speaker"),
    )
    if sp.get("sha256") and _names_sha(parts) != sp["sha256"]:
        raise InputError(
            f"{folder} does not give this run's validation/test recordings (files were added, "
            "removed or renamed since training): give --data the folder it trained on"
        )
    return parts


def eval_sets(dc: SpeechData, folder: str | Path | None, splits: tuple[str, ...]) -> dict[str, Any]:
    """The run's splits from its data section: {name: (features, labels)}, and the train
    corpus (a ``Corpus``) when asked for."""
    fcfg = FeatureConfig(**dc.feature_config)
    parts = run_split(dc, folder)
    out: dict[str, Any] = {}
    for name in splits:
        corpus = Corpus(parts[name], fcfg)
        if name == "train":
            out[name] = corpus
        elif dc.task == "digits":
            out[name] = (corpus.feats, [[r.digit + 1] for r in corpus.recs])
        else:
            n = dc.n_val if name == "val" else dc.n_test
            s = dc.split["seed"] * 1000 + (1 if name == "val" else 2)
            out[name] = connected_set(corpus, n, s, dc.min_digits, dc.max_digits, dc.snr_db)
    return out
