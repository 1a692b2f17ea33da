"""Training a translator and the CLI (train / run / eval / plot) with its error messages."""

from __future__ import annotations

import json
import math

import pytest
import torch

from rnnlab.errors import CheckpointError, InputError
from rnnlab.tasks.translate.builtin import BUILTIN_RECIPE, builtin_run
from rnnlab.tasks.translate.evaluate import read_split
from rnnlab.tasks.translate.infer import load_translator
from rnnlab.tasks.translate.train import train_translate
from rnnlab.train.checkpoint import SECTIONS, save_run

LM_RUN = {"task": "lm", "model": {}, "data": {}, "train": {}, "metrics": {}}


def test_training_learns_the_numbers(run_dir):
    rows = [json.loads(x) for x in (run_dir / "log.jsonl").read_text().splitlines()]
    val = [r["metrics"]["val_loss"] for r in rows if r["split"] == "val"]
    n_vocab = len(json.loads((run_dir / "config.json").read_text())["data"]["tgt_vocab"])
    # chance is ln(V) ≈ 3.9 nats per word; a model that learned the pattern is far below
    assert val[-1] < 0.35 * math.log(n_vocab), val


def test_the_run_records_its_sections_and_its_split(run_dir):
    cfg = json.loads((run_dir / "config.json").read_text())
    assert set(SECTIONS) <= set(cfg) and cfg["task"] == "translate"
    assert cfg["model"]["hidden"] == 48 and cfg["train"]["steps"] == 150
    assert cfg["data"]["source"] == "builtin:numbers" and cfg["data"]["split"] == "split.json"
    held = json.loads((run_dir / cfg["data"]["split"]).read_text())
    assert len(held["test"]) == cfg["data"]["n_pairs"]["test"]
    assert [[p.src, p.tgt] for p in read_split(run_dir, "val")] == held["val"]


def test_cli_run_eval_plot(cli, run_dir, tmp_path):
    r = cli("translate", "run", run_dir, "twenty-one", "--show-attention")
    assert r.code == 0, r.err
    assert "twenty" in r.out and "<eos>" in r.out  # the alignment table's columns
    r = cli("translate", "eval", run_dir, "--beam", "3", "--limit", "30")
    assert r.code == 0, r.err
    res = json.loads((run_dir / "eval.json").read_text())
    assert res["n_sentences"] == 30 and res["greedy"]["bleu"] > 20, res
    assert 0 <= res["beam3"]["chrf"] <= 100
    png = tmp_path / "a.png"
    r = cli("translate", "plot", run_dir, "three hundred", "--out", png)
    assert r.code == 0, r.err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_errors(cli, run_dir, tmp_path):
    r = cli("translate", "run", tmp_path / "nope", "hi")
    assert r.code == 3 and "does not exist" in r.err
    save_run(tmp_path / "lm", {"w": torch.zeros(1)}, LM_RUN)
    r = cli("translate", "run", tmp_path / "lm", "hi")
    assert r.code == 3 and "'lm' model" in r.err
    r = cli("translate", "run", run_dir, " ".join(["one"] * 11))
    assert r.code == 2 and "--max-len" in r.err
    bad = tmp_path / "bad.txt"
    bad.write_text("Go.\tVa !\nHi. Salut.\n", encoding="utf-8")
    r = cli("translate", "train", "--pairs", bad, "--steps", "1", "--out", tmp_path / "x")
    assert r.code == 2 and "line 2" in r.err
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    r = cli("translate", "train", "--pairs", empty, "--steps", "1", "--out", tmp_path / "x")
    assert r.code == 2 and "empty" in r.err
    r = cli("translate", "train", "--src-lang", "de", "--steps", "1", "--out", tmp_path / "x")
    assert r.code == 2 and "en → fr" in r.err


def test_no_attention_model_trains_and_refuses_to_plot(cli, tmp_path):
    out = tmp_path / "noatt"
    r = cli(
        "translate", "train", "--no-attention", "--steps", "3", "--hidden", "16",
        "--embed", "8", "--out", out,
    )  # fmt: skip
    assert r.code == 0, r.err
    assert cli("translate", "run", out, "seven", "--beam", "2").code == 0
    r = cli("translate", "plot", out, "seven")
    assert r.code == 2 and "--no-attention" in r.err


def test_out_guard_and_resume_check(tmp_path):
    """Another task's run is never overwritten; --resume needs the same model."""
    save_run(tmp_path / "lm", {"w": torch.zeros(1)}, LM_RUN)
    with pytest.raises(InputError, match="'lm' run"):
        train_translate(None, tmp_path / "lm", steps=1, progress=False)
    out = tmp_path / "t"
    train_translate(None, out, steps=2, hidden=16, embed=8, progress=False)
    with pytest.raises(CheckpointError, match="--hidden 16 \\(not 32\\)"):
        train_translate(None, out, steps=4, hidden=32, embed=8, resume=True, progress=False)
    s = train_translate(None, out, steps=4, hidden=16, embed=8, resume=True, progress=False)
    assert s["steps"] == 4
    with pytest.raises(TypeError, match="hiden"):
        train_translate(None, out, steps=4, hiden=32, progress=False)


def test_max_len_zero_keeps_every_pair(tmp_path):
    s = train_translate(None, tmp_path / "all", max_len=0, steps=1, hidden=8, embed=4,
                        progress=False)  # fmt: skip
    assert s["n_pairs"]["kept"] == s["n_pairs"]["total"]
    cfg = json.loads((tmp_path / "all" / "config.json").read_text())
    assert cfg["data"]["max_len"] is None


def test_an_old_layout_run_is_a_clear_error(run_dir, tmp_path):
    old = tmp_path / "old"
    old.mkdir()
    (old / "config.json").write_text(json.dumps({"task": "translate", "format_version": 1}))
    with pytest.raises(CheckpointError, match="old layout"):
        load_translator(old)


def test_builtin_run_is_trained_once_and_cached(tmp_path, monkeypatch):
    calls = []

    def fake_train(pairs, run, **kw):
        calls.append(kw)
        run.mkdir(parents=True)
        (run / "config.json").write_text("{}")

    monkeypatch.setattr("rnnlab.tasks.translate.builtin.train_translate", fake_train)
    run = builtin_run(tmp_path)
    assert builtin_run(tmp_path) == run and run.parent == tmp_path / "translate"
    assert calls == [{"progress": False, **BUILTIN_RECIPE}]
