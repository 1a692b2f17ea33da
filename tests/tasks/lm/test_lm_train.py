"""Training: it learns, the run reloads, the split is recorded, resume is exact."""

from __future__ import annotations

import itertools

import pytest
import torch
from lm_helpers import TEXT, TINY

from rnnlab.data import textstream
from rnnlab.data.corpus import load_corpus
from rnnlab.data.tokenize import CharTokenizer
from rnnlab.errors import InputError
from rnnlab.tasks.lm.data import eval_text, heldout_text
from rnnlab.tasks.lm.evaluate import evaluate_ids
from rnnlab.tasks.lm.model import load_lm
from rnnlab.tasks.lm.train import train_lm
from rnnlab.train.checkpoint import load_state


def test_train_learns_and_reloads(tmp_path):
    out = tmp_path / "run"
    s = train_lm(TEXT, out, steps=60, lr=1e-2, seed=1, **TINY)
    # a unigram model of this text has ~2.6 nats/char; a model that learned something beats it
    assert s["best"] < 2.2
    m = load_lm(out)
    assert m.config["task"] == "lm" and m.config["model"]["hidden"] == 24
    assert m.tokenizer.vocab == CharTokenizer.fit(TEXT[: int(len(TEXT) * 0.9)]).vocab
    # the run dir's weights are the best checkpoint: re-evaluating gives the recorded loss
    c = load_corpus(text=TEXT)
    again = evaluate_ids(m, c["val"], chars=c["info"]["val_chars"])
    assert again["val_loss"] == pytest.approx(m.config["metrics"]["val_loss"], rel=1e-4)


def test_resume_is_exact(tmp_path, monkeypatch):
    kw = dict(steps=16, eval_every=8, seed=2, lr=5e-3, **{**TINY, "dropout": 0.2})
    kw["layers"] = 2
    train_lm(TEXT, tmp_path / "straight", **kw)
    # crash in the middle of step 11: the state saved at the step-8 evaluation is kept
    real_next, calls = textstream.StreamBatcher.__next__, itertools.count(1)

    def crashing_next(self):
        if next(calls) == 11:
            raise KeyboardInterrupt
        return real_next(self)

    monkeypatch.setattr(textstream.StreamBatcher, "__next__", crashing_next)
    with pytest.raises(KeyboardInterrupt):
        train_lm(TEXT, tmp_path / "resumed", **kw)
    monkeypatch.setattr(textstream.StreamBatcher, "__next__", real_next)
    assert load_state(tmp_path / "resumed")["step"] == 8
    train_lm(TEXT, tmp_path / "resumed", resume=True, **kw)
    a = load_state(tmp_path / "straight")
    b = load_state(tmp_path / "resumed")
    assert a["step"] == b["step"] == 16
    for k, v in a["model"].items():
        assert torch.equal(v, b["model"][k]), k


def test_the_split_is_recorded_and_read_back(tmp_path):
    """lm eval and the explorer read the held-out part the run recorded, never re-cut it."""
    data = tmp_path / "d.txt"
    data.write_text(TEXT, encoding="utf-8")
    train_lm(data, tmp_path / "run", steps=2, **TINY)
    cfg = load_lm(tmp_path / "run").config
    split = cfg["data"]["split"]
    assert split["kind"] == "tail" and split["val_start"] == int(len(TEXT) * 0.9)
    assert split["size"] == data.stat().st_size and len(split["sha256"]) == 64
    ids, chars, what = eval_text(cfg, load_lm(tmp_path / "run").tokenizer)
    assert chars == len(TEXT) - split["val_start"] and "last 10%" in what
    tail = TEXT[split["val_start"] :]
    assert heldout_text(cfg) == tail[tail.find("\n") + 1 :]  # from a line start
    data.write_text(TEXT + "more\n", encoding="utf-8")  # the file changed since training
    with pytest.raises(InputError, match="changed since"):
        eval_text(cfg, load_lm(tmp_path / "run").tokenizer)
    # a run given the text itself has no file to read back
    train_lm(TEXT, tmp_path / "text", steps=2, **TINY)
    cfg = load_lm(tmp_path / "text").config
    assert cfg["data"]["split"] == {"kind": "tail", "file": None, "chars": len(TEXT),
                                    "val_start": int(len(TEXT) * 0.9)}  # fmt: skip
    assert heldout_text(cfg) == ""
    with pytest.raises(InputError, match="readable validation file"):
        eval_text(cfg, load_lm(tmp_path / "text").tokenizer)


def test_unknown_settings_are_refused(tmp_path):
    with pytest.raises(TypeError, match="hiden"):
        train_lm(TEXT, tmp_path / "r", steps=1, hiden=8)
