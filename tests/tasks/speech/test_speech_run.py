"""A tiny end-to-end run on a handful of FSDD recordings (skipped without ../shared): training,
the recorded split, the CLI with its error messages, and the /speech explorer view."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnlab.data.audio import load_audio, write_wav
from rnnlab.errors import CheckpointError, InputError
from rnnlab.tasks.speech.config import SpeechData
from rnnlab.tasks.speech.data import Corpus, SpeechStream, run_split
from rnnlab.tasks.speech.decode import NOT_SURE, confidences
from rnnlab.tasks.speech.infer import load_speech
from rnnlab.tasks.speech.train import train_speech

FSDD = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "fsdd" / "recordings"


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
    res = train_speech(
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
    assert cfg["task"] == "speech" and cfg["data"]["task"] == "digits"


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
    rec = load_speech(out)
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
    res = train_speech(
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
    assert cfg["model"]["hidden"] == 24 and cfg["data"]["task"] == "connected"


def test_the_run_records_its_split_and_eval_keeps_it(tiny_run, tiny_fsdd, tmp_path):
    out, _ = tiny_run
    cfg = json.loads((out / "config.json").read_text())
    assert {"task", "model", "data", "train", "metrics"} <= set(cfg)
    sp = cfg["data"]["split"]
    assert sp["kind"] == "random" and sp["sizes"] == {"train": 48, "val": 6, "test": 6}
    dc = SpeechData.from_dict(cfg["data"])
    assert [r.path.name for r in run_split(dc)["test"]] == [
        r.path.name for r in run_split(dc, tiny_fsdd)["test"]
    ]
    # a folder with other recordings would cut another split: refused, not silently re-cut
    other = tmp_path / "other"
    shutil.copytree(tiny_fsdd, other, symlinks=True)
    next(other.glob("3_theo_*.wav")).unlink()
    with pytest.raises(InputError, match="folder it trained on"):
        run_split(dc, other)
    with pytest.raises(TypeError, match="split"):
        train_speech(tiny_fsdd, tmp_path / "x", split={"kind": "random"}, steps=1)


def test_resume_needs_the_same_model_and_split(tiny_run, tiny_fsdd):
    out, _ = tiny_run
    with pytest.raises(CheckpointError, match="--hidden 24 \\(not 32\\)"):
        train_speech(tiny_fsdd, out, hidden=32, layers=1, channels=32, steps=50, resume=True)
    with pytest.raises(InputError, match="other validation/test recordings"):
        train_speech(tiny_fsdd, out, hidden=24, layers=1, channels=32, steps=50, seed=1,
                     resume=True)  # fmt: skip
    # the run normalised over its loud frames: resuming over every frame would mix two feature sets
    with pytest.raises(CheckpointError, match="with --speech-db 25.0: resume"):
        train_speech(tiny_fsdd, out, hidden=24, layers=1, channels=32, steps=50, speech_db=0,
                     resume=True)  # fmt: skip


# ---- the /speech explorer view --------------------------------------------------------------


def test_speech_view_api(tiny_run, tiny_fsdd, tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from rnnlab.serve.app import create_app
    from rnnlab.serve.registry import ModelRegistry

    client = TestClient(create_app(ModelRegistry()))
    monkeypatch.delenv("RNNLAB_SPEECH_RUN", raising=False)
    # an installation without the shipped model (tests/tasks/demo checks the shipped one)
    monkeypatch.setattr("rnnlab.serve.views.speech.shipped_page_model", lambda name: None)
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
    rec = load_speech(out)
    want = rec.transcribe_file(tiny_fsdd / name)
    assert d["text"] == want["text"]
    # "not sure" is what the posteriors say: every digit's peak against the threshold
    assert d["confidence"] == confidences(want["log_probs"])
    assert d["sure"] == (bool(d["digits"]) and min(d["confidence"], default=0) >= NOT_SURE)
    assert m["speakers"]["trained"] == ["jackson", "theo"] and m["speakers"]["held_out"] is None
    assert "never heard" in m["speakers"]["unseen_note"]
    assert len(d["posteriors"]) == len(want["log_probs"]) and len(d["posteriors"][0]) == 11
    np.testing.assert_allclose(np.array(d["posteriors"]).sum(1), 1, atol=1e-2)
    # the model reads 13 MFCCs; the page is shown the 40 log-mel bands they are computed from
    assert d["features"] == {"kind": "mfcc", "dim": 13} and want["features"].shape[1] == 13
    assert len(d["spectrogram"][0]) == 40 and len(d["spectrogram"]) == len(want["features"])
    # an uploaded WAV (here 16 kHz) gives the same as the file
    x = load_audio(tiny_fsdd / name, 16000)
    write_wav(tmp_path / "u.wav", x, 16000)
    up = client.post("/api/speech/transcribe", content=(tmp_path / "u.wav").read_bytes()).json()
    assert up["text"] == d["text"]
    bad = client.post("/api/speech/transcribe", content=b"not a wav file at all")
    assert bad.status_code == 422 and "not a readable WAV" in bad.json()["detail"]
    assert client.get("/api/speech/sample/..%2Fconfig.json").status_code == 404


def test_voice_augmentation_is_seeded_and_changes_the_batches(tiny_fsdd, tmp_path):
    from rnnlab.data.audio import FeatureConfig, fsdd_index

    corpus = Corpus(fsdd_index(tiny_fsdd)[:8], FeatureConfig())
    conn = dict(min_digits=1, max_digits=2, snr_db=None)

    def batch(augment, seed=0):
        return next(SpeechStream(corpus, "digits", 4, seed, conn, augment))

    (xs, ls, ys), (xv, lv, yv) = batch("spec"), batch("voice")
    assert ys == yv  # the same recordings, spoken in other voices
    assert xv.shape[-1] == xs.shape[-1]
    assert not (torch.equal(ls, lv) and torch.equal(xs, xv))
    again = batch("voice")
    assert torch.equal(again[0], xv) and torch.equal(again[1], lv)
    assert not torch.equal(batch("voice", seed=1)[0][:1, :5], xv[:1, :5])
    with pytest.raises(InputError, match="--augment"):
        batch("loud")
    res = train_speech(
        tiny_fsdd,
        tmp_path / "v",
        task="digits",
        split_by="speaker",
        test_speaker="theo",
        augment="voice",
        hidden=16,
        layers=1,
        channels=16,
        steps=4,
        eval_every=4,
        progress=False,
    )
    cfg = json.loads((tmp_path / "v" / "config.json").read_text())
    assert cfg["train"]["augment"] == "voice" and res["steps"] == 4
    assert cfg["data"]["split"]["train_speakers"] == ["jackson"]
