"""Speech task: CTC decoding against brute-force enumeration, the model's lengths handling, and
a tiny end-to-end run on a handful of FSDD recordings (skipped without ../shared)."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnlab.data.audio import load_audio, write_wav
from rnnlab.tasks import speech

FSDD = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "fsdd" / "recordings"


def collapse(path) -> tuple[int, ...]:
    out, prev = [], None
    for s in path:
        if s != speech.BLANK and s != prev:
            out.append(s)
        prev = s
    return tuple(out)


def label_probs(logp: np.ndarray) -> dict[tuple[int, ...], float]:
    """P(label sequence) by summing over every frame path (the definition of CTC)."""
    probs: dict[tuple[int, ...], float] = {}
    p = np.exp(logp)
    for path in itertools.product(range(p.shape[1]), repeat=len(p)):
        y = collapse(path)
        probs[y] = probs.get(y, 0.0) + math.prod(p[t, s] for t, s in enumerate(path))
    return probs


def random_logp(seed: int, T: int = 5, V: int = 4) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((T, V)) * 1.5
    return x - np.log(np.exp(x).sum(1, keepdims=True))


def test_greedy_merges_repeats_but_not_across_blanks():
    ids = [1, 1, 0, 1, 2, 2, 0, 0, 3]
    logp = np.log(np.eye(4)[ids] * 0.97 + 0.01)
    assert speech.greedy_decode(logp) == [1, 1, 2, 3]
    assert speech.ids_to_text([4, 2, 5]) == "3 1 4"


@pytest.mark.parametrize("seed", range(6))
def test_beam_search_finds_the_most_probable_labelling(seed):
    logp = random_logp(seed)
    probs = label_probs(logp)
    assert abs(sum(probs.values()) - 1) < 1e-9
    best = max(probs, key=probs.get)
    assert tuple(speech.beam_decode(logp, beam=64)) == best
    # the best path is one path of some labelling: never more probable than the best labelling
    assert probs[tuple(speech.greedy_decode(logp))] <= probs[best] + 1e-12


def test_one_digit_scores_are_ctc_label_probabilities():
    logp = random_logp(7, T=4, V=11)
    probs = label_probs(logp)
    got = speech._one_label_scores([logp.astype(np.float32)])[0][0]
    for d in range(1, 11):
        assert abs(math.exp(got[d]) - probs.get((d,), 0.0)) < 1e-5


def test_ctc_loss_is_the_negative_log_label_probability():
    logp = random_logp(3, T=4, V=3)
    probs = label_probs(logp)
    lp = torch.from_numpy(logp).float()[None]
    loss = speech.ctc_loss(lp, torch.tensor([4]), [[1, 2]])
    assert abs(float(loss) - (-math.log(probs[(1, 2)]) / 2)) < 1e-4  # per label


def test_padding_does_not_change_a_shorter_utterance():
    torch.manual_seed(0)
    m = speech.AcousticModel(12, channels=8, hidden=8, layers=2, dropout=0.0).eval()
    a, b = torch.randn(37, 12), torch.randn(23, 12)
    x = torch.nn.utils.rnn.pad_sequence([a, b], batch_first=True)
    logp, lengths = m(x, torch.tensor([37, 23]))
    alone, la = m(b[None], torch.tensor([23]))
    assert lengths.tolist() == [10, 6] and la.tolist() == [6]
    assert m.front(x.transpose(1, 2)).shape[-1] == 10  # out_lengths matches the convs
    torch.testing.assert_close(logp[1, :6], alone[0], atol=1e-5, rtol=1e-5)


# ---- end to end on a few FSDD files --------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_fsdd(tmp_path_factory):
    if not FSDD.is_dir():
        pytest.skip(f"FSDD not found at {FSDD} (../shared/data is absent)")
    d = tmp_path_factory.mktemp("fsdd")
    for digit in range(10):
        for spk in ("jackson", "theo"):
            for i in range(5, 8):
                name = f"{digit}_{spk}_{i}.wav"
                (d / name).symlink_to((FSDD / name).resolve())
    return d


@pytest.fixture(scope="module")
def tiny_run(tiny_fsdd, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "digits"
    torch.manual_seed(0)
    res = speech.train_speech(
        tiny_fsdd,
        out,
        task="digits",
        hidden=24,
        layers=1,
        channels=32,
        steps=40,
        eval_every=20,
        batch=16,
        lr=5e-3,
        progress=False,
    )
    return out, res


def test_training_lowers_the_ctc_loss_and_saves_a_run(tiny_run):
    out, res = tiny_run
    rows = [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines()]
    losses = [r["train_loss"] for r in rows if r["split"] == "train"]
    assert losses[-1] < 0.6 * losses[0]
    assert res["steps"] == 40 and res["test"]["n"] == 6
    conf = np.array(res["test"]["confusion"])
    assert conf[:10].sum() == 6  # one reference digit per test recording
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["task"] == "speech" and cfg["speech_task"] == "digits"


def test_cli_eval_and_transcribe(tiny_run, tiny_fsdd, tmp_path, cli):
    out, _ = tiny_run
    r = cli("speech", "eval", out, "--json", tmp_path / "m.json", "--beam", "4")
    assert r.code == 0, r.err
    assert "WER" in r.out and (out / "confusion.png").read_bytes()[:4] == b"\x89PNG"
    m = json.loads((tmp_path / "m.json").read_text())
    assert 0 <= m["wer"] and m["n"] == 6
    # a 16 kHz stereo copy of a recording gives the same answer as the original
    src = sorted(tiny_fsdd.glob("*.wav"))[0]
    x = load_audio(src, 16000)
    write_wav(tmp_path / "st.wav", np.stack([x, x]), 16000)
    rec = speech.load_speech(out)
    assert rec.transcribe_file(tmp_path / "st.wav")["text"] == rec.transcribe_file(src)["text"]
    r = cli("speech", "transcribe", out, src, tmp_path / "st.wav")
    assert r.code == 0 and len(r.out.strip().splitlines()) == 2


def test_cli_errors_are_one_line(tiny_run, tmp_path, cli):
    out, _ = tiny_run
    (tmp_path / "notes.wav").write_text("this is not audio")
    (tmp_path / "empty.wav").write_bytes(b"")
    for f, msg in (("notes.wav", "not a readable WAV"), ("empty.wav", "empty")):
        r = cli("speech", "transcribe", out, tmp_path / f)
        assert r.code == 2 and msg in r.err and "Traceback" not in r.err
    (tmp_path / "other").mkdir()
    r = cli("speech", "transcribe", tmp_path / "other", tmp_path / "notes.wav")
    assert r.code == 3 and "config.json" in r.err
    r = cli("speech", "train", "--data", tmp_path / "nowhere", "--steps", "1")
    assert r.code == 2 and "does not exist" in r.err


def test_connected_task_runs_and_labels_strings(tiny_run, tiny_fsdd, tmp_path):
    digits_run, _ = tiny_run
    res = speech.train_speech(
        tiny_fsdd,
        tmp_path / "conn",
        task="connected",
        steps=3,
        batch=4,
        n_val=4,
        n_test=5,
        max_digits=4,
        progress=False,
        init=digits_run,  # transfer from the isolated-digit model: its architecture is kept
    )
    conf = np.array(res["test"]["confusion"])
    assert res["test"]["n"] == 5 and 10 <= conf[:10].sum() <= 20  # 2-4 digits each
    assert "acc_forced" not in res["test"]
    cfg = json.loads((tmp_path / "conn" / "config.json").read_text())
    assert cfg["model"]["hidden"] == 24 and cfg["speech_task"] == "connected"


# ---- the /speech explorer view --------------------------------------------------------------


def test_speech_view_api(tiny_run, tiny_fsdd, tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from rnnlab.serve.app import create_app
    from rnnlab.serve.registry import ModelRegistry

    client = TestClient(create_app(ModelRegistry()))
    monkeypatch.delenv("RNNLAB_SPEECH_RUN", raising=False)
    m = client.get("/api/speech/model").json()
    assert m["available"] is False and "rnnlab speech train" in m["how_to"]
    assert client.post("/api/speech/transcribe?sample=x").status_code == 503
    assert "Speech" in client.get("/speech").text

    out, _ = tiny_run
    monkeypatch.setenv("RNNLAB_SPEECH_RUN", str(out))
    m = client.get("/api/speech/model").json()
    assert m["available"] and m["task"] == "digits" and len(m["samples"]) == 6
    name = m["samples"][0]
    assert client.get(f"/api/speech/sample/{name}").content[:4] == b"RIFF"
    d = client.post(f"/api/speech/transcribe?sample={name}").json()
    rec = speech.load_speech(out)
    want = rec.transcribe_file(tiny_fsdd / name)
    assert d["text"] == want["text"]
    assert len(d["posteriors"]) == len(want["log_probs"]) and len(d["posteriors"][0]) == 11
    np.testing.assert_allclose(np.array(d["posteriors"]).sum(1), 1, atol=1e-2)
    assert len(d["spectrogram"][0]) == 40
    # an uploaded WAV (here 16 kHz) gives the same as the file
    x = load_audio(tiny_fsdd / name, 16000)
    write_wav(tmp_path / "u.wav", x, 16000)
    up = client.post("/api/speech/transcribe", content=(tmp_path / "u.wav").read_bytes()).json()
    assert up["text"] == d["text"]
    bad = client.post("/api/speech/transcribe", content=b"not a wav file at all")
    assert bad.status_code == 422 and "not a readable WAV" in bad.json()["detail"]
    assert client.get("/api/speech/sample/..%2Fconfig.json").status_code == 404
