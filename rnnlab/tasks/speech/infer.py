"""A trained speech model: load a run directory, transcribe audio.

>>> rec = load_speech("runs/digits")                          # doctest: +SKIP
>>> rec.transcribe_file("7_jackson_0.wav")["text"]             # doctest: +SKIP
'7'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from rnnlab.data.audio import FeatureConfig, features, load_audio
from rnnlab.errors import CheckpointError, InputError
from rnnlab.tasks.speech.config import TASK, SpeechData, SpeechModel
from rnnlab.tasks.speech.decode import (
    NOT_SURE,
    beam_decode,
    confidences,
    greedy_decode,
    ids_to_text,
)
from rnnlab.tasks.speech.evaluate import posteriors
from rnnlab.tasks.speech.model import AcousticModel, build_model
from rnnlab.train.checkpoint import load_run, load_weights_into


class Recognizer:
    """A trained speech model loaded from a run directory (``load_speech``)."""

    def __init__(self, model: AcousticModel, config: dict[str, Any]):
        self.model, self.config = model, config
        self.data = SpeechData.from_dict(config["data"])
        self.fcfg = FeatureConfig(**self.data.feature_config)
        self.task = self.data.task

    @property
    def frame_seconds(self) -> float:
        """Duration of one output frame (the hop times the conv front end's stride)."""
        return self.fcfg.hop * 2**self.model.conv_layers / self.fcfg.rate

    def transcribe(self, wave: np.ndarray, beam: int = 1) -> dict[str, Any]:
        """``{"text", "digits", "confidence", "sure", "features" (T, F), "log_probs" (T', 11)}``
        for mono samples at the model's rate. ``confidence``: per digit of the best path, its
        peak posterior; ``sure``: every digit reached ``NOT_SURE`` and beam search (if asked)
        agrees with the best path, else the page says "not sure" rather than guess silently."""
        if len(wave) == 0:
            raise InputError("the audio has no samples")
        f = features(wave, self.fcfg)
        logp = posteriors(self.model, [f])[0][0]
        best = greedy_decode(logp)
        ids = best if beam <= 1 else beam_decode(logp, beam)
        conf = confidences(logp)
        return {
            "text": ids_to_text(ids),
            "digits": [i - 1 for i in ids],
            "confidence": conf,
            "sure": bool(ids) and ids == best and min(conf) >= NOT_SURE,
            "features": f.numpy(),
            "log_probs": logp,
        }

    def transcribe_file(self, path: str | Path, beam: int = 1) -> dict[str, Any]:
        return self.transcribe(load_audio(path, self.fcfg.rate), beam)


def load_speech(run_dir: str | Path) -> Recognizer:
    """Rebuild a trained model (eval mode); a run of another task is a ``CheckpointError``."""
    tensors, cfg = load_run(run_dir, task=TASK)
    try:
        model = build_model(SpeechModel.from_dict(cfg["model"], f"{run_dir}/config.json"))
        rec = Recognizer(model, cfg)
    except (KeyError, TypeError, InputError) as e:
        raise CheckpointError(f"{run_dir}/config.json is incomplete ({e}); retrain it") from None
    load_weights_into(model, tensors, str(run_dir))
    model.eval()
    return rec
