"""`rnnlab lm train|eval|generate|predict|plot` end to end, and clear errors for bad input."""

from __future__ import annotations

import json

import pytest
from lm_helpers import EMPTY, TEXT

from rnnlab.tasks.lm.model import load_lm
from rnnlab.train.checkpoint import save_run

SMALL = ["--hidden", "16", "--layers", "1", "--embed", "8", "--seq-len", "16", "--batch", "4"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("lmcli")
    p = d / "text.txt"
    p.write_text(TEXT, encoding="utf-8")
    return d, p


@pytest.fixture
def trained(cli, corpus):
    d, p = corpus
    run = d / "char"
    if not (run / "config.json").exists():
        r = cli("lm", "train", "--data", p, "--out", run, "--steps", "20", "--quiet", *SMALL)
        assert r.code == 0, r.err
        assert "best val loss" in r.out
    return run


def test_train_writes_a_self_contained_run(trained):
    cfg = json.loads((trained / "config.json").read_text())
    assert cfg["task"] == "lm" and cfg["data"]["tokenizer"]["level"] == "char"
    assert (trained / "log.csv").exists() and (trained / "log.jsonl").exists()
    assert "val_bpc" in cfg["metrics"]


def test_eval_generate_predict_plot(cli, trained):
    r = cli("lm", "eval", trained)
    assert r.code == 0, r.err
    loss = float(r.out.split("loss")[1].split()[0])
    assert loss == pytest.approx(load_lm(trained).config["metrics"]["val_loss"], rel=1e-3)
    assert "perplexity" in r.out and "top-5" in r.out
    r = cli("lm", "generate", trained, "--prompt", "the ", "--length", "30", "--seed", "3")
    assert r.code == 0, r.err
    assert r.out.startswith("the ") and len(r.out.rstrip("\n")) >= 30
    again = cli("lm", "generate", trained, "--prompt", "the ", "--length", "30", "--seed", "3")
    assert again.out == r.out
    r = cli("lm", "predict", trained, "the cat", "--top-k", "2")
    assert r.code == 0, r.err
    assert len(r.out.strip().splitlines()) == 2 and "%" in r.out
    r = cli("lm", "plot", trained)
    assert r.code == 0, r.err
    assert (trained / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_word_level_run(cli, corpus):
    d, p = corpus
    run = d / "word"
    r = cli("lm", "train", "--data", p, "--out", run, "--level", "word", "--steps", "10",
            "--quiet", *SMALL[:6], "--seq-len", "8", "--batch", "2")  # fmt: skip
    assert r.code == 0, r.err
    r = cli("lm", "predict", run, "the dog", "--top-k", "3")
    assert r.code == 0 and len(r.out.strip().splitlines()) == 3
    r = cli("lm", "generate", run, "--length", "12", "--seed", "1")
    assert r.code == 0 and "<eos>" not in r.out and "<unk>" not in r.out


def test_resume_continues(cli, corpus, trained):
    d, p = corpus
    run = d / "resume"
    assert (
        cli("lm", "train", "--data", p, "--out", run, "--steps", "6", "--quiet", *SMALL).code == 0
    )
    r = cli(
        "lm", "train", "--data", p, "--out", run, "--steps", "10", "--resume", "--quiet", *SMALL
    )
    assert r.code == 0, r.err
    assert r.out.startswith("10 steps")
    r = cli("lm", "train", "--data", p, "--out", run, "--steps", "12", "--resume", "--quiet",
            *SMALL[:-4], "--batch", "8", "--seq-len", "16")  # fmt: skip
    assert r.code == 3 and "--batch 4 (not 8)" in r.err


@pytest.mark.parametrize(
    "setup, args, code, msg",
    [
        ("empty", ["train", "--data", "{empty}", "--steps", "2"], 2, "empty"),
        ("latin1", ["train", "--data", "{latin1}", "--steps", "2"], 2, "not UTF-8"),
        (None, ["train", "--data", "{missing}", "--steps", "2"], 2, "does not exist"),
        (None, ["train", "--data", "{text}", "--val", "{missing}", "--steps", "2"], 2, "--val"),
        (None, ["train", "--data", "{text}", "--bidirectional", "yes", "--steps", "2"], 2, "bidirectional no"),
        (None, ["train", "--data", "{text}", "--cell", "tcn", "--steps", "2"], 2, "unknown cell"),
        (None, ["train", "--data", "{text}", "--out", "{other}", "--resume", "--steps", "2"], 3, "forecast"),
        (None, ["train", "--data", "{text}"], 2, "budget"),
        (None, ["train", "--data", "{text}", "--seq-len", "900", "--steps", "2"], 2, "too few"),
        (None, ["train", "--data", "{text}", "--engine", "warp", "--steps", "2"], 2, "--engine"),
        (None, ["eval", "{missing}"], 3, "does not exist"),
        (None, ["eval", "{other}"], 3, "forecast"),
        (None, ["generate", "{tmp}"], 3, "config.json"),
        ("trained", ["generate", "{run}", "--prompt", "QQZZ"], 2, "never saw"),
        ("trained", ["predict", "{run}", "   "], 2, "empty"),
        ("trained", ["generate", "{run}", "--top-p", "0"], 2, "top-p"),
    ],
)  # fmt: skip
def test_bad_input_is_one_clear_line(cli, corpus, tmp_path, request, setup, args, code, msg):
    d, p = corpus
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9 au lait\n".encode("latin-1"))
    save_run(tmp_path / "other", {"w": __import__("torch").zeros(1)}, {"task": "forecast", **EMPTY})
    run = request.getfixturevalue("trained") if setup == "trained" else None
    names = dict(
        empty=tmp_path / "empty.txt",
        latin1=tmp_path / "latin1.txt",
        text=p,
        missing=tmp_path / "nope.txt",
        other=tmp_path / "other",
        tmp=tmp_path,
        run=run,
    )
    argv = [a.format(**names) for a in args]
    if argv[0] == "train":
        argv = [argv[0], "--quiet", *SMALL, *argv[1:]]  # the case's own options win
        if "--out" not in argv:
            argv += ["--out", str(tmp_path / "out")]
    r = cli("lm", *argv)
    assert r.code == code, (r.out, r.err)
    assert msg in r.err and "Traceback" not in r.err
    assert r.err.strip().count("\n") == 0
