"""Audio IO and features: WAVs written here with the stdlib ``wave`` module (or by hand for the
encodings it cannot write), features checked against direct numpy computations."""

from __future__ import annotations

import struct
import wave

import numpy as np
import pytest
import torch

from rnnlab.data import audio
from rnnlab.errors import InputError

RATE = 8000


def tone(freq: float, seconds: float, rate: int = RATE, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def write_pcm16(path, x: np.ndarray, rate: int) -> None:
    """Reference writer: the stdlib ``wave`` module (x: (n,) or (channels, n))."""
    x = np.atleast_2d(x)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(x.shape[0])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(x, -1, 1) * 32767).round().astype("<i2").T.tobytes())


def write_riff(path, code: int, bits: int, rate: int, payload: bytes, channels: int = 1) -> None:
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", code, channels, rate, rate * block, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(payload)) + payload
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


def test_read_pcm16_matches_written_samples(tmp_path):
    x = tone(440, 0.1)
    write_pcm16(tmp_path / "a.wav", x, RATE)
    y, sr = audio.read_wav(tmp_path / "a.wav")
    assert sr == RATE and y.shape == (1, len(x))
    np.testing.assert_allclose(y[0], x, atol=1 / 32767)


@pytest.mark.parametrize("bits", [8, 24, 32])
def test_read_other_integer_widths(tmp_path, bits):
    x = tone(300, 0.05)
    if bits == 8:
        payload = (np.round(x * 127) + 128).astype(np.uint8).tobytes()
    elif bits == 24:
        v = np.round(x * (2**23 - 1)).astype(np.int32)
        payload = b"".join(int(s).to_bytes(3, "little", signed=True) for s in v)
    else:
        payload = np.round(x * (2**31 - 1)).astype("<i4").tobytes()
    write_riff(tmp_path / "b.wav", 1, bits, RATE, payload)
    y, _ = audio.read_wav(tmp_path / "b.wav")
    np.testing.assert_allclose(y[0], x, atol=2 / 2 ** (bits - 1) + 1e-7)


def test_read_float32_wav(tmp_path):
    x = tone(500, 0.05)
    write_riff(tmp_path / "f.wav", 3, 32, RATE, x.astype("<f4").tobytes())
    np.testing.assert_array_equal(audio.read_wav(tmp_path / "f.wav")[0][0], x)


def test_stereo_is_mixed_down(tmp_path):
    x = tone(440, 0.1)
    write_pcm16(tmp_path / "s.wav", np.stack([x, -0.5 * x]), RATE)
    y = audio.load_audio(tmp_path / "s.wav", RATE)
    np.testing.assert_allclose(y, 0.25 * x, atol=2 / 32767)


def test_resampling_a_known_sine(tmp_path):
    # 440 Hz at 44.1 kHz → 8 kHz must equal the same sine sampled at 8 kHz (away from the ends)
    write_pcm16(tmp_path / "hi.wav", tone(440, 0.5, 44100), 44100)
    y = audio.load_audio(tmp_path / "hi.wav", RATE)
    ref = tone(440, 0.5, RATE)
    assert len(y) == len(ref)
    np.testing.assert_allclose(y[400:-400], ref[400:-400], atol=3e-3)


def test_resampling_removes_what_the_new_rate_cannot_hold():
    # 6 kHz is above the 4 kHz Nyquist limit of 8 kHz audio: it must be filtered out, not aliased
    y = audio.resample(tone(6000, 0.5, 16000), 16000, RATE)
    assert np.abs(y[400:-400]).max() < 0.01


@pytest.mark.parametrize(
    "content, msg",
    [(b"", "empty"), (b"hello, this is text not audio\n" * 4, "not a readable WAV")],
)
def test_bad_files_are_input_errors(tmp_path, content, msg):
    p = tmp_path / "x.wav"
    p.write_bytes(content)
    with pytest.raises(InputError, match=msg):
        audio.load_audio(p)


def test_wav_without_samples_is_an_input_error(tmp_path):
    write_pcm16(tmp_path / "e.wav", np.zeros(0, np.float32), RATE)
    with pytest.raises(InputError, match="no samples"):
        audio.read_wav(tmp_path / "e.wav")


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        audio.read_wav(tmp_path / "nope.wav")


def reference_filterbank(n_mels, n_fft, rate, fmin=20.0):
    """Loop-by-loop HTK mel triangles, written independently of the vectorised version."""
    mel = lambda f: 2595 * np.log10(1 + f / 700)  # noqa: E731
    lo, hi = mel(fmin), mel(rate / 2)
    centres = [
        700 * (10 ** ((lo + i * (hi - lo) / (n_mels + 1)) / 2595) - 1) for i in range(n_mels + 2)
    ]
    fb = np.zeros((n_fft // 2 + 1, n_mels))
    for k in range(n_fft // 2 + 1):
        f = k * rate / n_fft
        for m in range(n_mels):
            a, b, c = centres[m], centres[m + 1], centres[m + 2]
            if a <= f <= b:
                fb[k, m] = (f - a) / (b - a)
            elif b < f <= c:
                fb[k, m] = (c - f) / (c - b)
    return fb


def test_mel_filterbank_matches_direct_computation():
    fb = audio.mel_filterbank(40, 200, RATE).numpy()
    np.testing.assert_allclose(fb, reference_filterbank(40, 200, RATE), atol=1e-6)


def test_power_spectrogram_matches_numpy_fft():
    x = np.random.default_rng(0).standard_normal(1000).astype(np.float32)
    got = audio.power_spectrogram(x, 200, 80).numpy()
    xp = np.pad(x, 100, mode="reflect")
    win = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(200) / 200)  # periodic Hann
    frames = np.stack([xp[i * 80 : i * 80 + 200] * win for i in range(1 + len(x) // 80)])
    want = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-3)


def test_a_tone_lights_the_mel_band_that_contains_it():
    centres = audio.mel_to_hz(np.linspace(audio.hz_to_mel(20), audio.hz_to_mel(4000), 42))[1:-1]
    lm = audio.log_mel(tone(1000, 0.5))
    assert abs(centres[int(lm.mean(0).argmax())] - 1000) < 60


def test_mfcc_is_the_orthonormal_dct_of_log_mel():
    x = tone(700, 0.3) + 0.1 * tone(2100, 0.3)
    d = audio.dct_matrix(40, 40).numpy()
    np.testing.assert_allclose(d.T @ d, np.eye(40), atol=1e-5)  # orthonormal
    lm = audio.log_mel(x).numpy()
    n = np.arange(40)
    c3 = np.sqrt(2 / 40) * (lm * np.cos(np.pi / 40 * (n + 0.5) * 3)).sum(1)
    np.testing.assert_allclose(audio.mfcc(x).numpy()[:, 3], c3, rtol=1e-4, atol=1e-3)


def test_features_are_normalised_per_utterance_and_loudness_free():
    x = tone(440, 0.5) + 0.05 * np.random.default_rng(1).standard_normal(4000).astype(np.float32)
    f = audio.features(x)
    assert f.shape == (51, 40)
    torch.testing.assert_close(f.mean(0), torch.zeros(40), atol=1e-4, rtol=0)
    # 20 dB quieter: the same features, up to the log floor (1e-6) in the weakest bands
    torch.testing.assert_close(audio.features(0.1 * x), f, atol=0.05, rtol=0)


def test_speech_db_normalises_over_the_loud_frames_only():
    rng = np.random.default_rng(2)
    t = np.arange(2400) / RATE  # a 0.3 s "word": a rising chirp under a smooth envelope
    word = 0.5 * np.sin(2 * np.pi * (300 * t + 800 * t**2)) * np.sin(np.pi * t / 0.3)
    word = (word + 0.02 * rng.standard_normal(2400)).astype(np.float32)
    hush = 1e-4 * rng.standard_normal(4000).astype(np.float32)  # 0.5 s of near-silence
    padded = np.concatenate([hush, word, hush])
    cfg = audio.FeatureConfig(speech_db=25.0)
    alone = audio.features(word, cfg)[3:28]
    inner = slice(50 + 3, 50 + 28)  # the same frames (the edges' windows reach into the hush)
    # with speech_db the word's frames look the same whatever silence surrounds it ...
    assert (audio.features(padded, cfg)[inner] - alone).abs().mean() < 0.1
    # ... which is not so when every frame counts: the silence drags the mean down
    assert (audio.features(padded)[inner] - alone).abs().mean() > 1.0
    loud = audio.speech_frames(audio.power_spectrogram(padded), 25.0)
    assert loud[inner].all() and not loud[:45].any() and not loud[-45:].any()
    for bad in (-5.0, 1e9):
        with pytest.raises(InputError, match="--speech-db must be 0 \\(every frame\\) or above"):
            audio.FeatureConfig(speech_db=bad)
    assert audio.FeatureConfig(speech_db=0).speech_db is None  # 0 is off: every frame counts


def test_spec_augment_zeroes_bands_and_keeps_the_rest():
    f = torch.randn(100, 40) + 5
    g = audio.spec_augment(f, np.random.default_rng(3), freq_width=6, time_frac=0.1)
    zero = g == 0
    assert zero.any()
    assert torch.equal(g[~zero], f[~zero])
    cols = zero.all(0).sum()
    rows = zero.all(1).sum()
    assert cols <= 12 and rows <= 20  # at most 2 masks of each kind, each within its width


def test_concat_digits_lengths_and_noise():
    rng = np.random.default_rng(0)
    parts = [tone(300, 0.3), tone(500, 0.2)]
    y = audio.concat_digits(parts, rng, gap=(0.1, 0.1), edge=(0.0, 0.0), floor=0.0)
    assert len(y) == 2400 + 800 + 1600
    np.testing.assert_allclose(y[3200:], parts[1])
    noisy = audio.concat_digits(parts, rng, gap=(0.1, 0.1), edge=(0, 0), snr_db=10, floor=0)
    speech_rms = np.sqrt(np.mean(np.concatenate(parts) ** 2))
    silence = noisy[2400:3200]
    assert abs(20 * np.log10(speech_rms / silence.std()) - 10) < 1.0


def test_fsdd_names_and_splits(tmp_path):
    for d in range(10):
        for spk in ("ann", "bob", "cy"):
            for i in range(6):
                (tmp_path / f"{d}_{spk}_{i}.wav").write_bytes(b"x")
    (tmp_path / "README.txt").write_text("not a recording")
    recs = audio.fsdd_index(tmp_path)
    assert len(recs) == 180 and recs[0].digit == 0
    r = audio.split_recordings(recs, "random", seed=1)
    assert sum(map(len, r.values())) == 180 and len(r["test"]) == 18
    assert audio.split_recordings(recs, "random", seed=1) == r  # fixed by the seed
    s = audio.split_recordings(recs, "speaker", test_speaker="bob")
    assert {x.speaker for x in s["test"]} == {"bob"}
    assert "bob" not in {x.speaker for x in s["train"] + s["val"]}
    o = audio.split_recordings(recs, "official")
    assert {x.index for x in o["test"]} == {0, 1, 2, 3, 4}
    with pytest.raises(InputError, match="unknown speaker"):
        audio.split_recordings(recs, "speaker", test_speaker="zed")
    # validation on a voice never trained on: every non-test recording of cy, none in train
    v = audio.split_recordings(recs, "speaker", test_speaker="bob", val_speaker="cy")
    assert {x.speaker for x in v["val"]} == {"cy"} and len(v["val"]) == 60
    assert {x.speaker for x in v["train"]} == {"ann"} and v["test"] == s["test"]
    with pytest.raises(InputError, match="is the test speaker"):
        audio.split_recordings(recs, "speaker", test_speaker="bob", val_speaker="bob")
    with pytest.raises(InputError, match="unknown --val-speaker"):
        audio.split_recordings(recs, "official", val_speaker="zed")
    with pytest.raises(InputError, match="no FSDD recordings"):
        audio.fsdd_index(tmp_path / "..")
