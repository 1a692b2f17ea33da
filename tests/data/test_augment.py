"""The voice augmentations change the signal as their names say, and are seeded."""

from pathlib import Path

import numpy as np
import pytest
import torch

from rnnlab.data.audio import (
    Recording,
    features,
    mel_filterbank,
    power_spectrogram,
    split_recordings,
)
from rnnlab.data.augment import (
    VoiceAugment,
    gain,
    pad_silence,
    resize_frames,
    reverb,
    room_impulse,
    speed,
    voice,
    vtlp_warp,
)
from rnnlab.errors import InputError

RATE = 8000


def tone(f: float, seconds: float = 0.5) -> np.ndarray:
    return np.sin(2 * np.pi * f * np.arange(int(seconds * RATE)) / RATE).astype(np.float32)


def peak_hz(x: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / RATE)[spec.argmax()])


def test_speed_moves_every_frequency_and_the_duration():
    x = tone(500)
    y = speed(x, 1.2)
    assert len(y) == round(len(x) / 1.2)
    assert peak_hz(y) == pytest.approx(600, abs=4)
    with pytest.raises(InputError, match="0.5-2.0"):
        speed(x, 3)


def test_speed_then_resize_frames_shifts_pitch_but_keeps_duration():
    x = tone(500)
    f = 2 ** (3 / 12)  # three semitones up
    spec = power_spectrogram(speed(x, f))
    back = resize_frames(spec, len(power_spectrogram(x)))
    assert back.shape == power_spectrogram(x).shape
    hz = np.fft.rfftfreq(200, 1 / RATE)
    assert hz[int(back.mean(0).argmax())] == pytest.approx(500 * f, abs=40)  # one 40 Hz bin


def test_vtlp_warp_is_continuous_monotone_and_keeps_the_band_edges():
    fmax = RATE / 2
    f = np.linspace(0, fmax, 2001)
    for alpha in (0.9, 1.0, 1.1):
        w = vtlp_warp(f, alpha, fmax)
        assert w[0] == 0 and w[-1] == pytest.approx(fmax)
        assert np.all(np.diff(w) > 0)  # monotone, so no jump either (steps are small)
        assert np.max(np.abs(np.diff(w))) < 3 * (f[1] - f[0])
        assert w[100] == pytest.approx(alpha * f[100])  # the low band scales by alpha


def test_vtlp_filterbank_reads_a_tone_as_the_warped_tone():
    # through the warped filterbank a 1000 Hz tone looks like an unwarped 1100 Hz tone
    warped = power_spectrogram(tone(1000)).mean(0) @ mel_filterbank(40, 200, RATE, warp=1.1)
    plain = power_spectrogram(tone(1100)).mean(0) @ mel_filterbank(40, 200, RATE)
    assert int(warped.argmax()) == int(plain.argmax())
    unwarped = power_spectrogram(tone(1000)).mean(0) @ mel_filterbank(40, 200, RATE)
    assert int(warped.argmax()) > int(unwarped.argmax())
    assert features(tone(1000), warp=1.1).shape == features(tone(1000)).shape


def test_room_impulse_decays_by_60_db_in_rt60():
    ir = room_impulse(np.random.default_rng(0), RATE, rt60=0.3)
    assert ir[0] == 1.0 and abs(ir[1]) == 0  # direct sound, then the pre-delay
    tail = ir[20:]
    n = int(0.05 * RATE)
    early, late = np.sqrt(np.mean(tail[:n] ** 2)), np.sqrt(np.mean(tail[-n:] ** 2))
    # the envelope falls by 60 dB over rt60; the two windows are ~0.25 s apart: ~50 dB
    assert 40 < 20 * np.log10(early / late) < 60


def test_reverb_keeps_length_and_loudness_but_changes_the_signal():
    x = tone(300) * np.hanning(4000).astype(np.float32)
    y = reverb(x, room_impulse(np.random.default_rng(1), RATE, 0.5))
    assert len(y) == len(x)
    assert np.sqrt(np.mean(y**2)) == pytest.approx(np.sqrt(np.mean(x**2)), rel=1e-3)
    assert np.abs(y - x).max() > 0.05


def test_gain_in_decibels_and_clipping():
    x = tone(300) * 0.1
    assert np.abs(gain(x, 6.0206)).max() == pytest.approx(2 * np.abs(x).max(), rel=1e-3)
    assert np.abs(gain(x, 40)).max() == 1.0


def test_pad_silence_adds_quiet_ends_at_the_noise_floor():
    x = tone(300) * 0.5
    y = pad_silence(x, 800, 400, -60.0, np.random.default_rng(0))
    assert len(y) == len(x) + 1200 and y.dtype == np.float32
    floor = np.sqrt(np.mean(np.concatenate([y[:800], y[-400:]]) ** 2))
    assert floor == pytest.approx(1e-3, rel=0.1)  # -60 dB RMS, and nothing else there
    assert np.sqrt(np.mean((y[800:-400] - x) ** 2)) == pytest.approx(1e-3, rel=0.1)
    z = pad_silence(x, 800, 400, -60.0, np.random.default_rng(0))
    assert np.array_equal(y, z)


def test_voice_pads_only_as_often_as_asked():
    x = tone(400)
    never, always = VoiceAugment(p_pad=0.0), VoiceAugment(p_pad=1.0, pad_s=(0.2, 0.3))
    a = voice(x, np.random.default_rng(1), cfg=never).samples
    b = voice(x, np.random.default_rng(1), cfg=always).samples
    # same speed draw (the pad is drawn last), then 0.4-0.6 s of silence more
    assert 0.4 * RATE <= len(b) - len(a) <= 0.6 * RATE
    assert np.abs(b[: int(0.2 * RATE)]).max() < 0.02 < np.abs(a[: int(0.2 * RATE)]).max()


def test_voice_is_seeded_and_varies_with_the_seed():
    x = tone(400)
    a, b = voice(x, np.random.default_rng(5)), voice(x, np.random.default_rng(5))
    c = voice(x, np.random.default_rng(6))
    assert np.array_equal(a.samples, b.samples) and a.warp == b.warp
    assert len(a.samples) != len(c.samples) or not np.array_equal(a.samples, c.samples)
    assert 0.9 <= a.warp <= 1.1


def test_resize_frames_is_linear_interpolation():
    f = torch.arange(5.0)[:, None].repeat(1, 2)
    assert torch.allclose(resize_frames(f, 9)[:, 0], torch.linspace(0, 4, 9))


def test_leave_one_speaker_out_never_shares_a_speaker():
    speakers = ["ann", "bob", "cy"]
    recs = [
        Recording(Path(f"{d}_{s}_{i}.wav"), d, s, i)
        for s in speakers
        for d in range(10)
        for i in range(3)
    ]
    for s in speakers:
        parts = split_recordings(recs, "speaker", seed=0, test_speaker=s)
        assert {r.speaker for r in parts["test"]} == {s}
        assert s not in {r.speaker for r in parts["train"] + parts["val"]}
        assert len(parts["train"]) + len(parts["val"]) + len(parts["test"]) == len(recs)
