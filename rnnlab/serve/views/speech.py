"""The explorer's ``/speech`` page: pick an FSDD recording, upload a WAV or record one, and see
its log-mel spectrogram, the model's per-frame CTC posteriors and the decoded digits.

The model is the run directory named by ``$RNNLAB_SPEECH_RUN`` (train one with
``rnnlab speech train``), else the model shipped with the package (trained on FSDD by
``rnnlab demo --build``, with 20 bundled test recordings); without either the page hides its
controls and explains how to get one.

* ``GET /api/speech/model`` — ``{available, run, task, metrics, samples, how_to}``
* ``GET /api/speech/sample/{name}`` — an FSDD recording of the run's test split (to play it)
* ``POST /api/speech/transcribe?sample=NAME`` or with a WAV file as the request body —
  ``{text, digits, duration, feature_hop_s, frame_s, spectrogram (T, 40 log-mel bands),
  features (what the model reads: kind and size per frame), posteriors (T', 11), symbols}``
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse

from rnnlab.data.audio import features, load_audio
from rnnlab.errors import InputError, RnnlabError
from rnnlab.tasks.demo.shipped import manifest, speech_samples
from rnnlab.tasks.demo.sources import shipped_page_model
from rnnlab.tasks.speech.data import run_split
from rnnlab.tasks.speech.infer import load_speech

router = APIRouter()
STATIC = Path(__file__).resolve().parent.parent / "static"
MAX_BYTES = 8_000_000  # a WAV upload larger than this is refused (about 90 s of 44.1 kHz mono)
MAX_SECONDS = 30.0
BODY_LIMITS = {"/api/speech/transcribe": MAX_BYTES}  # the app's body limit for this route
N_SAMPLES = 30
HOW_TO = (
    "rnnlab speech train --data ../shared/data/fsdd --task connected --time-budget 10m "
    "--out runs/speech-connected\n"
    "RNNLAB_SPEECH_RUN=runs/speech-connected rnnlab demo\n"
    "# or rebuild the model rnnlab ships: rnnlab demo --build --only speech"
)
# what the leave-one-speaker-out benchmark measured for a voice the model never heard
UNSEEN_NOTE = (
    "It was tested on other recordings of these speakers only. A voice it has never heard is "
    "harder: trained the same way (voice augmentation, MFCCs, silence left out of the "
    "normalisation) on five speakers for 10 minutes, a model recognised 87.1% of the sixth "
    "speaker's isolated digits on average over the six speakers held out in turn, 83-95% by "
    "speaker (benchmarks/speech_loso.py)."
)
_NAME = re.compile(r"^\d_[A-Za-z0-9-]+_\d+\.wav$")


@router.get("/speech", include_in_schema=False)
def speech_page() -> FileResponse:
    return FileResponse(STATIC / "speech.html", headers={"Cache-Control": "no-cache"})


def _run() -> str | None:
    """The run directory the page uses: ``$RNNLAB_SPEECH_RUN``, else the shipped model."""
    run = os.environ.get("RNNLAB_SPEECH_RUN")
    if run:
        return run
    shipped = shipped_page_model("speech")
    return str(shipped) if shipped else None


def _display(run: str) -> str:
    """How the page names the model (never a server path)."""
    return "shipped with rnnlab" if Path(run) == shipped_page_model("speech") else Path(run).name


@lru_cache(maxsize=4)
def _load(run: str, mtime: float):

    return load_speech(run)


def _recognizer():
    run = _run()
    if run is None:
        raise HTTPException(503, f"no speech model: set RNNLAB_SPEECH_RUN. {HOW_TO}")
    cfg = Path(run) / "config.json"
    try:
        return _load(run, cfg.stat().st_mtime if cfg.exists() else 0.0)
    except RnnlabError as e:
        raise HTTPException(503, f"RNNLAB_SPEECH_RUN={run}: {e}") from None


@lru_cache(maxsize=4)
def _samples(run: str, mtime: float) -> dict[str, Path]:
    """The shipped model's bundled recordings, else up to ``N_SAMPLES`` test-split recordings
    of the run's data folder, two per digit."""
    bundled = speech_samples(Path(run))
    if bundled:
        return bundled
    rec = _load(run, mtime)
    try:
        test = run_split(rec.data)["test"]  # the split the run recorded, never re-cut otherwise
    except InputError:  # the data folder moved: the page still takes uploads
        return {}
    out: dict[str, Path] = {}
    for r in sorted(test, key=lambda r: (r.index, r.speaker, r.digit)):
        if sum(1 for n in out if n.startswith(f"{r.digit}_")) < N_SAMPLES // 10:
            out[r.path.name] = r.path
    return dict(sorted(out.items()))


def _sample_paths() -> dict[str, Path]:
    rec = _recognizer()
    run = _run()
    del rec  # loaded (and cached) above; _samples reuses it
    cfg = Path(run) / "config.json"
    return _samples(run, cfg.stat().st_mtime if cfg.exists() else 0.0)


@router.get("/api/speech/model")
def model_info() -> dict[str, Any]:
    """Which model the page uses, its test figures and a few recordings to try."""
    run = _run()
    if run is None:
        return {
            "available": False,
            "run": None,
            "how_to": HOW_TO,
            "reason": "no speech model: RNNLAB_SPEECH_RUN is not set and this installation "
            "has no shipped one",
        }
    try:
        rec = _recognizer()
    except HTTPException as e:
        return {"available": False, "run": _display(run), "how_to": HOW_TO, "reason": e.detail}
    return {
        "available": True,
        "run": _display(run),
        "card": manifest().get("speech") if _display(run) == "shipped with rnnlab" else None,
        "task": rec.task,
        "split": rec.data.split,
        "metrics": rec.config.get("metrics", {}),
        "model": rec.config.get("model"),
        "samples": list(_sample_paths()),
        "speakers": _speakers(rec),
        "how_to": HOW_TO,
    }


def _speakers(rec) -> dict[str, Any]:
    """Whose voices the model learned from, and what is known of a voice it never heard."""
    split = rec.data.split
    trained = split.get("train_speakers")
    if trained is None and split.get("kind") != "speaker":
        # runs from before the split listed its speakers: an official or random split trains
        # on every speaker of the data, and its test recordings (the samples) show them all
        trained = sorted({n.split("_")[1] for n in _sample_paths()}) or None
    held_out = split.get("test_speaker")
    acc = (rec.config.get("metrics", {}).get("test") or {}).get("acc")
    return {
        "trained": trained,
        "held_out": held_out,
        "held_out_acc": acc if held_out else None,
        "unseen_note": None if held_out else UNSEEN_NOTE,
    }


@router.get("/api/speech/sample/{name}")
def sample_audio(name: str) -> FileResponse:
    """One of the listed recordings, as audio/wav (the page plays it)."""
    paths = _sample_paths()
    if not _NAME.match(name) or name not in paths:
        raise HTTPException(404, f"unknown sample {name!r}; choose one of {list(paths)[:5]}...")
    return FileResponse(paths[name], media_type="audio/wav")


@router.post("/api/speech/transcribe")
async def transcribe(
    request: Request,
    sample: str | None = Query(None, max_length=64, description="A name from /api/speech/model."),
    beam: int = Query(1, ge=1, le=16, description="Beam width (1 = greedy)."),
) -> dict[str, Any]:
    """Spectrogram, per-frame posteriors and decoded digits of a sample or an uploaded WAV."""

    rec = _recognizer()
    if sample is not None:
        paths = _sample_paths()
        if sample not in paths:
            raise HTTPException(404, f"unknown sample {sample!r}")
        wave = load_audio(paths[sample], rec.fcfg.rate)
        name = sample
    else:
        raw = await request.body()
        if len(raw) > MAX_BYTES:
            raise HTTPException(
                413, f"the upload is {len(raw):,} bytes; the limit is {MAX_BYTES:,}"
            )
        if not raw:
            raise HTTPException(422, "the request has no audio: send a WAV file as the body")
        wave = load_audio(raw, rec.fcfg.rate)  # InputError → 422 with its message
        name = "upload"
    seconds = len(wave) / rec.fcfg.rate
    if seconds > MAX_SECONDS:
        raise HTTPException(
            413, f"the audio is {seconds:.0f} s long; the limit is {MAX_SECONDS:.0f} s"
        )
    r = rec.transcribe(wave, beam)
    logmel = replace(rec.fcfg, kind="logmel")
    import numpy as np

    return {
        "name": name,
        "text": r["text"],
        "digits": r["digits"],
        "confidence": r["confidence"],
        "sure": r["sure"],
        "duration": round(seconds, 3),
        "feature_hop_s": rec.fcfg.hop / rec.fcfg.rate,
        "frame_s": rec.frame_seconds,
        # a model that reads MFCCs is shown the log-mel bands they are the DCT of: 13
        # cepstral coefficients are no picture of the sound
        "spectrogram": np.round(
            r["features"] if rec.fcfg.kind == "logmel" else features(wave, logmel), 2
        ).tolist(),
        "features": {"kind": rec.fcfg.kind, "dim": rec.fcfg.dim},
        "posteriors": np.round(np.exp(r["log_probs"]), 4).tolist(),
        "symbols": ["blank", *"0123456789"],
    }
