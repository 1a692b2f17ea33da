"""Augmentations that change the *voice*, not only the noise: what a speaker the model never
heard differs in (pitch, speaking rate, vocal-tract length, the room, the level).

Each function is pure given its arguments; ``voice`` draws one random combination from a
seeded ``numpy`` generator, so a training batch is a function of its seed.

* ``speed``: resampling by a factor (Kaldi's speed perturbation: tempo and pitch together);
* ``pitch`` comes from ``speed`` followed by resizing the *frames* back to the original
  duration (``resize_frames``), so the pitch moves and the rate does not;
* ``vtlp``: vocal-tract-length perturbation, a piecewise-linear warp of the frequency axis
  (Jaitly & Hinton 2013), applied to the mel filterbank (``rnnlab.data.audio.features(warp=)``);
* ``reverb``: convolution with a synthetic room impulse response (exponentially decaying
  noise with a given RT60, after the direct sound);
* ``gain``: a level change in dB;
* ``pad_silence``: leading and trailing silence over a faint noise floor, as a recording in a
  browser has (FSDD's recordings are cut close to the digit).

>>> rng = np.random.default_rng(0)
>>> x = np.sin(np.arange(8000) / 5).astype(np.float32)
>>> len(speed(x, 1.25))
6400
>>> v = voice(x, rng)
>>> 0.8 < v.warp < 1.2 and v.samples.dtype == np.float32
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from rnnlab.errors import InputError

SAMPLE_RATE = 8000


def speed(x: np.ndarray, factor: float) -> np.ndarray:
    """``x`` played ``factor`` times faster (length / factor; every frequency × factor), by
    linear interpolation; ``factor`` 1.1 is Kaldi's "speed 1.1"."""
    if not 0.5 <= factor <= 2.0:
        raise InputError(f"speed factor {factor} is outside 0.5-2.0")
    n = max(2, int(round(len(x) / factor)))
    t = np.arange(n) * factor
    return np.interp(t, np.arange(len(x)), x).astype(np.float32)


def resize_frames(feats: Tensor, n: int) -> Tensor:
    """(T, F) frames linearly resampled in time to (n, F): undoes ``speed``'s change of
    duration at the frame rate, so ``speed`` + ``resize_frames`` shifts pitch only."""
    if n == len(feats) or len(feats) < 2:
        return feats
    x = feats.T.unsqueeze(0)  # (1, F, T)
    return torch.nn.functional.interpolate(x, size=n, mode="linear", align_corners=True)[0].T


def vtlp_warp(freqs: np.ndarray, alpha: float, fmax: float, f_hi: float = 4800.0) -> np.ndarray:
    """Jaitly & Hinton's piecewise-linear frequency warp: ``f * alpha`` below a boundary,
    then a straight line to ``fmax`` so the band edge stays put. ``f_hi`` is the boundary
    at alpha = 1, scaled down to the band (it was given for 16 kHz audio)."""
    f_hi = min(f_hi, 0.85 * fmax)
    b = f_hi * min(alpha, 1.0) / alpha
    lo = freqs * alpha
    hi = fmax - (fmax - f_hi * min(alpha, 1.0)) / (fmax - b) * (fmax - freqs)
    return np.where(freqs <= b, lo, hi)


def room_impulse(rng: np.random.Generator, rate: int, rt60: float) -> np.ndarray:
    """A synthetic room: the direct sound (1.0), then noise decaying by 60 dB in ``rt60``
    seconds, starting 2-8 ms later, at -6 to -20 dB."""
    n = max(1, int(rt60 * rate))
    t = np.arange(n) / rate
    tail = rng.standard_normal(n) * np.exp(-6.9078 * t / rt60)  # ln(1000): -60 dB at rt60
    tail *= 10 ** (rng.uniform(-20, -6) / 20) / (np.abs(tail).max() + 1e-9)
    delay = int(rng.uniform(0.002, 0.008) * rate)
    return np.concatenate([[1.0], np.zeros(delay), tail]).astype(np.float32)


def reverb(x: np.ndarray, ir: np.ndarray) -> np.ndarray:
    """``x`` convolved with the impulse response ``ir``, cut to ``len(x)`` and scaled back to
    ``x``'s RMS level (so reverberation changes the colour, not the loudness)."""
    from scipy.signal import fftconvolve

    y = fftconvolve(x, ir)[: len(x)]
    return (y * (np.sqrt(np.mean(x**2)) / (np.sqrt(np.mean(y**2)) + 1e-9))).astype(np.float32)


def gain(x: np.ndarray, db: float) -> np.ndarray:
    """``x`` louder by ``db`` decibels, clipped to [-1, 1] as a recorder would."""
    return np.clip(x * 10 ** (db / 20), -1.0, 1.0).astype(np.float32)


def pad_silence(
    x: np.ndarray, lead: int, trail: int, floor_db: float, rng: np.random.Generator
) -> np.ndarray:
    """``x`` with ``lead`` and ``trail`` samples of silence around it and white noise at
    ``floor_db`` dB (RMS, full scale = 1) over the whole of it, as a microphone's floor."""
    y = np.concatenate([np.zeros(lead), x, np.zeros(trail)])
    y += rng.standard_normal(len(y)) * 10 ** (floor_db / 20)
    return np.clip(y, -1.0, 1.0).astype(np.float32)


@dataclass(frozen=True)
class VoiceAugment:
    """The ranges ``voice`` draws from (defaults: the usual speech-recognition choices)."""

    speed: tuple[float, float] = (0.9, 1.1)  # tempo and pitch (Kaldi: 0.9, 1.0, 1.1)
    pitch: tuple[float, float] = (-3.0, 3.0)  # semitones, duration kept
    warp: tuple[float, float] = (0.9, 1.1)  # VTLP alpha
    rt60: tuple[float, float] = (0.1, 0.6)  # seconds
    p_reverb: float = 0.5
    gain_db: tuple[float, float] = (-12.0, 6.0)
    p_pad: float = 0.5
    pad_s: tuple[float, float] = (0.0, 0.4)  # each side; FSDD leaves 0.05-0.34 s in all
    floor_db: tuple[float, float] = (-75.0, -50.0)


@dataclass(frozen=True)
class Voiced:
    """One augmented utterance: the samples, the VTLP factor for its features, and ``stretch``:
    resize its frames to ``stretch`` × as many to undo the pitch shift's change of rate."""

    samples: np.ndarray
    warp: float
    stretch: float


def voice(
    x: np.ndarray,
    rng: np.random.Generator,
    rate: int = SAMPLE_RATE,
    cfg: VoiceAugment = VoiceAugment(),
) -> Voiced:
    """A new voice for ``x``: speed, pitch, room, level and silence drawn from ``cfg``'s
    ranges."""
    tempo = rng.uniform(*cfg.speed)
    semis = rng.uniform(*cfg.pitch)
    pitch_f = 2 ** (semis / 12)
    # resampling by tempo·pitch moves every frequency by that much and the duration by 1/(tempo·
    # pitch); resizing the frames by pitch afterwards leaves the tempo change alone
    y = speed(x, tempo * pitch_f)
    if rng.random() < cfg.p_reverb:
        y = reverb(y, room_impulse(rng, rate, rng.uniform(*cfg.rt60)))
    y = gain(y, rng.uniform(*cfg.gain_db))
    if rng.random() < cfg.p_pad:  # drawn last, so the draws before it are as they were
        lead, trail = (int(rng.uniform(*cfg.pad_s) * rate) for _ in range(2))
        y = pad_silence(y, lead, trail, rng.uniform(*cfg.floor_db), rng)
    return Voiced(y, float(rng.uniform(*cfg.warp)), float(pitch_f))
