"""Audio for speech recognition: WAV reading, resampling, features, augmentation, FSDD data.

* ``read_wav(path)`` reads PCM (8/16/24/32-bit) and IEEE-float WAVs, any channel count, with
  a small RIFF parser (the stdlib ``wave`` module reads integer PCM only); ``load_audio``
  mixes down to mono and resamples to the model's rate.
* ``log_mel`` / ``mfcc``: power spectrum with ``torch.stft`` → triangular mel filterbank (HTK
  mel scale) → log (→ DCT-II for MFCC). ``normalize`` does per-utterance mean/variance
  normalisation; ``spec_augment`` masks random frequency bands and time spans (SpecAugment,
  Park et al. 2019) for training.
* FSDD (``fsdd_index``, ``split_recordings``) and ``concat_digits``, which builds a connected
  digit string from isolated recordings of one speaker with short random silences.

>>> wav = np.sin(2 * np.pi * 440 * np.arange(8000) / 8000).astype(np.float32)
>>> log_mel(wav, 8000).shape            # 10 ms hop: 1 + 8000 // 80 frames
torch.Size([101, 40])
"""

from __future__ import annotations

import math
import re
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from rnnlab.data.augment import vtlp_warp
from rnnlab.errors import InputError
from rnnlab.io import atomic_write_bytes, check_file

SAMPLE_RATE = 8000  # FSDD's rate; other audio is resampled to it
MAX_SECONDS = 120.0  # longer inputs are refused (memory and decoding time)
_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE

# ---- reading WAV files ---------------------------------------------------------------------


def _not_wav(p: str, why: str) -> InputError:
    return InputError(
        f"{p} is not a readable WAV file ({why}); convert it, e.g. "
        "`ffmpeg -i input -ar 8000 -ac 1 out.wav`"
    )


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """``(samples (channels, n) float32 in [-1, 1], sample_rate)`` of a WAV file.

    Integer PCM of 8 (unsigned), 16, 24 or 32 bits and 32/64-bit float, plain or
    WAVE_FORMAT_EXTENSIBLE. A missing, empty, non-WAV or sample-less file is an ``InputError``.
    """
    p = check_file(path, "audio file")
    return decode_wav(p.read_bytes(), str(p))


def decode_wav(raw: bytes, name: str = "the upload") -> tuple[np.ndarray, int]:
    """``read_wav`` for the bytes of a WAV file (e.g. an upload); ``name`` is for messages."""
    p = name
    if not raw:
        raise InputError(f"audio file {p} is empty")
    if len(raw) < 12 or raw[:4] != b"RIFF" or raw[8:12] != b"WAVE":
        raise _not_wav(p, "no RIFF/WAVE header")
    fmt, data, pos = None, None, 12
    while pos + 8 <= len(raw):
        cid, size = raw[pos : pos + 4], struct.unpack("<I", raw[pos + 4 : pos + 8])[0]
        body = raw[pos + 8 : pos + 8 + size]
        if cid == b"fmt ":
            fmt = body
        elif cid == b"data":
            data = body  # a truncated file keeps the samples that are there
            break
        pos += 8 + size + (size & 1)  # chunks are word-aligned
    if fmt is None or len(fmt) < 16:
        raise _not_wav(p, "no format chunk")
    if data is None:
        raise _not_wav(p, "no data chunk")
    code, channels, rate, _, block, bits = struct.unpack("<HHIIHH", fmt[:16])
    if code == _EXTENSIBLE and len(fmt) >= 26:
        code = struct.unpack("<H", fmt[24:26])[0]  # first two bytes of the sub-format GUID
    width = bits // 8
    if channels < 1 or rate < 1 or width < 1 or block != channels * width:
        raise _not_wav(p, f"inconsistent format: {channels} channels, {bits} bits, {rate} Hz")
    n = len(data) // block
    if n == 0:
        raise InputError(f"audio file {p} has no samples (an empty recording)")
    buf = data[: n * block]
    if code == _PCM and width == 1:
        x = (np.frombuffer(buf, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif code == _PCM and width in (2, 4):
        dt = np.int16 if width == 2 else np.int32
        x = np.frombuffer(buf, f"<i{width}").astype(np.float32) / float(-np.iinfo(dt).min)
    elif code == _PCM and width == 3:
        b = np.frombuffer(buf, np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        x = (np.where(v >= 1 << 23, v - (1 << 24), v)).astype(np.float32) / float(1 << 23)
    elif code == _FLOAT and width in (4, 8):
        x = np.frombuffer(buf, f"<f{width}").astype(np.float32)
    else:
        raise _not_wav(p, f"unsupported encoding: format code {code}, {bits} bits")
    x = x.reshape(n, channels).T
    if n / rate > MAX_SECONDS:
        raise InputError(f"{p} is {n / rate:.0f} s long; the limit is {MAX_SECONDS:.0f} s")
    if not np.isfinite(x).all():
        raise InputError(f"audio file {p} contains NaN or infinite samples")
    return np.ascontiguousarray(x), int(rate)


def write_wav(path: str | Path, samples: np.ndarray, rate: int) -> None:
    """Write 16-bit PCM (``samples``: (n,) mono or (channels, n), floats in [-1, 1])."""
    import io
    import wave

    x = np.atleast_2d(np.asarray(samples, dtype=np.float64))
    pcm = (np.clip(x, -1, 1) * 32767).round().astype("<i2").T.tobytes()
    bio = io.BytesIO()
    with wave.open(bio, "wb") as w:
        w.setnchannels(x.shape[0])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    atomic_write_bytes(path, bio.getvalue())


def resample(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Polyphase resampling (anti-aliasing FIR, ``scipy.signal.resample_poly``) of the last axis.

    >>> resample(np.zeros(16000, np.float32), 16000, 8000).shape
    (8000,)
    """
    if rate_in == rate_out:
        return x
    from scipy.signal import resample_poly

    g = math.gcd(rate_in, rate_out)
    return resample_poly(x, rate_out // g, rate_in // g, axis=-1).astype(np.float32)


def load_audio(path: str | Path | bytes, rate: int = SAMPLE_RATE) -> np.ndarray:
    """Mono float32 samples of a WAV file (a path or its bytes) at ``rate``: channels
    averaged, then resampled."""
    x, sr = decode_wav(path) if isinstance(path, bytes) else read_wav(path)
    mono = x.mean(0) if x.shape[0] > 1 else x[0]
    return resample(mono, sr, rate)


# ---- features ------------------------------------------------------------------------------


def hz_to_mel(f: np.ndarray | float) -> np.ndarray:
    """HTK mel scale: 2595 log10(1 + f / 700)."""
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def mel_to_hz(m: np.ndarray | float) -> np.ndarray:
    return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


def mel_filterbank(
    n_mels: int,
    n_fft: int,
    rate: int,
    fmin: float = 20.0,
    fmax: float | None = None,
    warp: float = 1.0,
) -> Tensor:
    """(n_fft // 2 + 1, n_mels) triangular filters, equally spaced on the mel scale, peak 1;
    ``warp`` != 1 reads the spectrum through a VTLP frequency warp (``augment.vtlp_warp``)."""
    fmax = rate / 2 if fmax is None else fmax
    if not 0 <= fmin < fmax <= rate / 2:
        raise InputError(
            f"mel range must satisfy 0 <= fmin < fmax <= {rate / 2}, got {fmin}-{fmax}"
        )
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    freqs = np.linspace(0, rate / 2, n_fft // 2 + 1)[:, None]
    if warp != 1.0:
        freqs = vtlp_warp(freqs, warp, rate / 2)
    lo, mid, hi = edges[None, :-2], edges[None, 1:-1], edges[None, 2:]
    up = (freqs - lo) / (mid - lo)
    down = (hi - freqs) / (hi - mid)
    return torch.from_numpy(np.maximum(0.0, np.minimum(up, down))).float()


@dataclass(frozen=True)
class FeatureConfig:
    """How audio becomes frames; saved with a model so inference computes the same features."""

    rate: int = SAMPLE_RATE
    kind: str = "logmel"  # "logmel" or "mfcc"
    n_mels: int = 40
    n_mfcc: int = 13
    win: int = 200  # 25 ms at 8 kHz (also the FFT size)
    hop: int = 80  # 10 ms
    fmin: float = 20.0
    fmax: float | None = None
    # normalise over the frames within this many dB of the loudest (None: over all frames, as
    # runs before it did): leading and trailing silence then no longer shift the statistics,
    # and FSDD's speakers left from 0.05 s (nicolas) to 0.34 s (lucas) of it per recording
    speech_db: float | None = None

    @property
    def dim(self) -> int:
        return self.n_mfcc if self.kind == "mfcc" else self.n_mels

    def __post_init__(self) -> None:
        if self.kind not in ("logmel", "mfcc"):
            raise InputError(f"unknown feature kind {self.kind!r}: use logmel or mfcc")
        if self.speech_db == 0:  # the CLI's "off"
            object.__setattr__(self, "speech_db", None)
        if self.speech_db is not None and not 0 < self.speech_db <= 120:
            raise InputError(
                f"--speech-db must be 0 (every frame) or above 0 and at most 120 dB, got "
                f"{self.speech_db}"
            )


def power_spectrogram(x: np.ndarray | Tensor, win: int = 200, hop: int = 80) -> Tensor:
    """(frames, win // 2 + 1) |STFT|², Hann window, frames centred (reflect padding)."""
    x = torch.as_tensor(np.asarray(x, dtype=np.float32)).flatten()
    if len(x) <= win:  # reflect padding needs more than half a window of signal
        x = torch.nn.functional.pad(x, (0, win + 1 - len(x)))
    spec = torch.stft(
        x,
        n_fft=win,
        hop_length=hop,
        win_length=win,
        window=torch.hann_window(win),
        center=True,
        pad_mode="reflect",
        return_complex=True,
    )
    return (spec.real**2 + spec.imag**2).T


_FB_CACHE: dict[tuple, Tensor] = {}


def features(
    x: np.ndarray | Tensor, cfg: FeatureConfig = FeatureConfig(), warp: float = 1.0
) -> Tensor:
    """(frames, cfg.dim) log-mel or MFCC features of mono samples at ``cfg.rate``, normalised
    per utterance (each channel to zero mean, unit variance); ``warp``: a VTLP factor
    (training augmentation; 1 = none)."""
    key = (cfg.n_mels, cfg.win, cfg.rate, cfg.fmin, cfg.fmax)
    if warp != 1.0:  # a fresh factor per utterance: not worth caching
        fb = mel_filterbank(cfg.n_mels, cfg.win, cfg.rate, cfg.fmin, cfg.fmax, warp)
    else:
        fb = _FB_CACHE.get(key)
        if fb is None:
            fb = _FB_CACHE[key] = mel_filterbank(*key)
    power = power_spectrogram(x, cfg.win, cfg.hop)
    feats = torch.log(power @ fb + 1e-6)
    if cfg.kind == "mfcc":
        feats = feats @ dct_matrix(cfg.n_mels, cfg.n_mfcc)
    return normalize(feats, None if cfg.speech_db is None else speech_frames(power, cfg.speech_db))


def speech_frames(power: Tensor, within_db: float) -> Tensor:
    """(frames,) bool: the frames of a (frames, bins) power spectrogram whose energy is within
    ``within_db`` dB of the loudest frame's."""
    db = 10 * torch.log10(power.sum(1) + 1e-10)
    return db >= db.max() - within_db


def log_mel(x: np.ndarray | Tensor, rate: int = SAMPLE_RATE, n_mels: int = 40) -> Tensor:
    """(frames, n_mels) log mel energies (not normalised)."""
    fb = mel_filterbank(n_mels, 200, rate)
    return torch.log(power_spectrogram(x) @ fb + 1e-6)


def dct_matrix(n_in: int, n_out: int) -> Tensor:
    """(n_in, n_out) orthonormal DCT-II basis: ``log_mel @ dct_matrix(40, 13)`` are MFCCs."""
    n = np.arange(n_in)[:, None]
    k = np.arange(n_out)[None, :]
    m = np.cos(np.pi / n_in * (n + 0.5) * k) * np.sqrt(2.0 / n_in)
    m[:, 0] /= np.sqrt(2.0)
    return torch.from_numpy(m).float()


def mfcc(x: np.ndarray | Tensor, rate: int = SAMPLE_RATE, n_mfcc: int = 13) -> Tensor:
    """(frames, n_mfcc) MFCCs: DCT-II of 40 log mel energies (not normalised)."""
    return log_mel(x, rate) @ dct_matrix(40, n_mfcc)


def normalize(feats: Tensor, frames: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Per-utterance normalisation: each feature channel to zero mean and unit variance, so
    loudness and microphone colouring matter less; the statistics come from the ``frames``
    (a bool mask) if given, else from all frames."""
    ref = feats if frames is None or int(frames.sum()) < 2 else feats[frames]
    mean = ref.mean(0, keepdim=True)
    std = ref.std(0, keepdim=True, unbiased=False) if len(ref) > 1 else torch.ones_like(mean)
    return (feats - mean) / (std + eps)


def spec_augment(
    feats: Tensor,
    rng: np.random.Generator,
    freq_masks: int = 2,
    freq_width: int = 6,
    time_masks: int = 2,
    time_frac: float = 0.08,
) -> Tensor:
    """A copy of (frames, dims) ``feats`` with random bands zeroed (= the mean after
    ``normalize``): ``freq_masks`` bands of up to ``freq_width`` channels and ``time_masks``
    spans of up to ``time_frac`` of the frames."""
    out = feats.clone()
    T, F = out.shape
    for _ in range(freq_masks):
        w = int(rng.integers(0, min(freq_width, F) + 1))
        f0 = int(rng.integers(0, F - w + 1))
        out[:, f0 : f0 + w] = 0
    tw = max(1, int(time_frac * T))
    for _ in range(time_masks):
        w = int(rng.integers(0, tw + 1))
        t0 = int(rng.integers(0, T - w + 1))
        out[t0 : t0 + w] = 0
    return out


# ---- FSDD and connected digits -------------------------------------------------------------

_NAME = re.compile(r"^(\d)_([A-Za-z0-9-]+)_(\d+)\.wav$")


@dataclass(frozen=True)
class Recording:
    """One FSDD file ``{digit}_{speaker}_{index}.wav``."""

    path: Path
    digit: int
    speaker: str
    index: int


def fsdd_index(root: str | Path) -> list[Recording]:
    """The recordings under ``root`` (the FSDD folder or its ``recordings/``), sorted by name."""
    root = Path(root)
    if not root.exists():
        raise InputError(f"data folder {root} does not exist (expected FSDD: *.wav recordings)")
    folder = root / "recordings" if (root / "recordings").is_dir() else root
    if not folder.is_dir():
        raise InputError(f"--data {root} is not a folder of FSDD recordings")
    recs = []
    for p in sorted(folder.glob("*.wav")):
        m = _NAME.match(p.name)
        if m:
            recs.append(Recording(p, int(m[1]), m[2], int(m[3])))
    if not recs:
        raise InputError(
            f"no FSDD recordings in {folder}: expected files named "
            "{digit}_{speaker}_{index}.wav, e.g. 7_jackson_32.wav"
        )
    return recs


SPLITS = ("random", "speaker", "official")


def split_recordings(
    recs: list[Recording],
    split: str = "random",
    seed: int = 0,
    test_speaker: str | None = None,
    val_frac: float = 0.1,
    test_frac: float = 0.1,
    val_speaker: str | None = None,
) -> dict[str, list[Recording]]:
    """``{"train", "val", "test"}`` lists of recordings.

    * ``random``: a seeded permutation, ``test_frac`` test, ``val_frac`` validation;
    * ``speaker``: every recording of ``test_speaker`` (default: one picked by the seed) is the
      test set, so the figure is speaker-independent; validation is random from the others;
    * ``official``: FSDD's split, indices 0-4 test; validation is random from the rest.

    ``val_speaker``: validate on that speaker's (non-test) recordings instead, and train on
    none of them, so validation, and the checkpoint it picks, is about a voice never trained on.
    """
    if split not in SPLITS:
        raise InputError(f"unknown split {split!r}: choose {', '.join(SPLITS)}")
    rng = np.random.default_rng((seed, 7))
    speakers = sorted({r.speaker for r in recs})
    if split == "random":
        order = rng.permutation(len(recs))
        n_te, n_va = round(len(recs) * test_frac), round(len(recs) * val_frac)
        test = [recs[i] for i in order[:n_te]]
        val = [recs[i] for i in order[n_te : n_te + n_va]]
        train = [recs[i] for i in order[n_te + n_va :]]
    else:
        if split == "speaker":
            if test_speaker is None:
                test_speaker = speakers[int(rng.integers(len(speakers)))]
            if test_speaker not in speakers:
                raise InputError(f"unknown speaker {test_speaker!r}: the data has {speakers}")
            if len(speakers) < 2:
                raise InputError("a held-out-speaker split needs recordings of 2+ speakers")
            test = [r for r in recs if r.speaker == test_speaker]
        else:
            test = [r for r in recs if r.index < 5]
        rest = [r for r in recs if r not in set(test)]
        order = rng.permutation(len(rest))
        n_va = round(len(rest) * val_frac)
        val = [rest[i] for i in order[:n_va]]
        train = [rest[i] for i in order[n_va:]]
    if val_speaker is not None:
        if val_speaker not in speakers:
            raise InputError(f"unknown --val-speaker {val_speaker!r}: the data has {speakers}")
        if val_speaker == test_speaker:
            raise InputError(f"{val_speaker} is the test speaker: validate on another one")
        pool = val + train  # every non-test recording, split again by speaker
        val = [r for r in pool if r.speaker == val_speaker]
        train = [r for r in pool if r.speaker != val_speaker]
    if not train or not val or not test:
        raise InputError(
            f"too few recordings ({len(recs)}) for a {split} train/val/test split; give more data"
        )
    return {"train": train, "val": val, "test": test}


def concat_digits(
    waves: list[np.ndarray],
    rng: np.random.Generator,
    rate: int = SAMPLE_RATE,
    gap: tuple[float, float] = (0.05, 0.3),
    edge: tuple[float, float] = (0.0, 0.2),
    snr_db: float | None = None,
    floor: float = 3e-4,
) -> np.ndarray:
    """One utterance: ``waves`` joined by silences of ``gap`` seconds (uniform), with ``edge``
    seconds of silence before and after; a faint noise floor everywhere (digital silence
    never occurs in a recording), plus white noise at ``snr_db`` dB below the speech if given.

    >>> rng = np.random.default_rng(0)
    >>> y = concat_digits([np.ones(800, np.float32)] * 3, rng, gap=(0.1, 0.1), edge=(0, 0))
    >>> len(y) == 3 * 800 + 2 * 800
    True
    """
    parts = [np.zeros(int(rng.uniform(*edge) * rate), np.float32)]
    for i, w in enumerate(waves):
        if i:
            parts.append(np.zeros(int(rng.uniform(*gap) * rate), np.float32))
        parts.append(np.asarray(w, np.float32))
    parts.append(np.zeros(int(rng.uniform(*edge) * rate), np.float32))
    y = np.concatenate(parts)
    noise = floor
    if snr_db is not None:
        speech_rms = float(np.sqrt(np.mean(np.concatenate(waves) ** 2)) + 1e-9)
        noise = max(noise, speech_rms * 10 ** (-snr_db / 20))
    return (y + noise * rng.standard_normal(len(y))).astype(np.float32)
