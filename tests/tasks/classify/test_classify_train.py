"""A tiny classifier learns, reloads, predicts and evaluates (API and CLI); the run's
config.json has the sectioned shape with its validation split; another task's run is refused."""

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from rnnlab.cli import app
from rnnlab.data.sequences import Samples
from rnnlab.errors import CheckpointError, InputError
from rnnlab.tasks.classify.infer import load_classifier
from rnnlab.tasks.classify.train import train_classifier
from rnnlab.train.checkpoint import read_config, save_run


def _toy_text(n: int, seed: int) -> Samples:
    """Class = which letter (x or o) fills a random-length string: learnable in a few steps."""
    rng = np.random.default_rng(seed)
    labels, texts = [], []
    for _ in range(n):
        c = rng.choice(["x", "o"])
        texts.append(c * int(rng.integers(2, 9)) + "." * int(rng.integers(0, 6)))
        labels.append("ex" if c == "x" else "oh")
    return Samples("text", labels, texts, None, "toy")


def test_tiny_classifier_learns_reloads_predicts_and_evaluates(tmp_path):
    res = train_classifier(
        _toy_text(200, 0),
        tmp_path,
        test=_toy_text(100, 1),
        hidden=8,
        embed=4,
        steps=120,
        batch=16,
        lr=1e-2,
        eval_every=60,
        pool="mean",
        progress=False,
    )
    assert res["test"]["acc"] >= 0.95
    assert np.array(res["test"]["confusion"]).sum() == 100
    clf = load_classifier(tmp_path)
    first, second = clf.predict(["xxxxx..", "oooo"])
    assert first[0][0] == "ex" and first[0][1] > 0.5 and second[0][0] == "oh"
    again = clf.evaluate(_toy_text(100, 1))
    assert again["acc"] == pytest.approx(res["test"]["acc"])
    csv = tmp_path / "test.csv"
    csv.write_text("label,text\nex,xxxx\noh,ooo.\n")
    r = CliRunner().invoke(app, ["classify", "eval", str(tmp_path), "--data", str(csv)])
    assert r.exit_code == 0 and "100.00%" in r.output
    r = CliRunner().invoke(app, ["classify", "predict", str(tmp_path), "xxx"])
    assert r.exit_code == 0 and r.output.startswith("ex\t")
    csv.write_text("label,text\nmaybe,xxxx\n")
    with pytest.raises(InputError, match="never saw"):
        clf.evaluate(csv)


def test_another_tasks_run_is_a_checkpoint_error(tmp_path):
    empty = {"model": {}, "data": {}, "train": {}, "metrics": {}}
    save_run(tmp_path, {"w": torch.zeros(1)}, {"task": "memory", **empty})
    with pytest.raises(CheckpointError, match="'memory' model"):
        load_classifier(tmp_path)


def _features(n: int = 20) -> Samples:
    rng = np.random.default_rng(0)
    feats = [rng.normal(size=(4, 2)).astype(np.float32) for _ in range(n)]
    return Samples("features", ["a", "b"] * (n // 2), None, feats, "feats")


def test_config_json_has_the_sections_and_the_split(tmp_path):
    train_classifier(_features(), tmp_path, hidden=4, steps=2, eval_every=1, progress=False)
    cfg = read_config(tmp_path)
    assert cfg["task"] == "classify"
    assert cfg["model"]["n_features"] == 2 and cfg["model"]["vocab_size"] is None
    assert cfg["data"]["classes"] == ["a", "b"] and cfg["data"]["source"] == "feats"
    split = cfg["data"]["split"]
    assert split["n"] == 20 and split["n_val"] == 2 and split["seed"] == 0
    assert cfg["train"]["steps"] == 2
    assert cfg["metrics"]["val"]["acc"] >= 0 and cfg["metrics"]["params"] > 0
    assert "confusion" not in cfg["metrics"]["val"]  # only in the returned metrics


def test_resume_with_another_architecture_is_named(tmp_path):
    train_classifier(_features(), tmp_path, hidden=4, steps=2, eval_every=1, progress=False)
    with pytest.raises(CheckpointError, match="--hidden 4 \\(not 8\\)"):
        train_classifier(_features(), tmp_path, hidden=8, steps=4, resume=True, progress=False)
    # the resumed run keeps its own validation split: other data is refused, not re-cut
    with pytest.raises(CheckpointError, match="trained on 20 samples, this data has 30"):
        train_classifier(_features(30), tmp_path, hidden=4, steps=4, resume=True, progress=False)
    res = train_classifier(_features(), tmp_path, hidden=4, steps=4, val_frac=0.5, resume=True,
                           progress=False)  # fmt: skip
    data = read_config(tmp_path)["data"]
    assert res["steps"] == 4 and data["split"]["n_val"] == 2 and data["val_frac"] == 0.1


def test_an_unknown_setting_is_a_type_error(tmp_path):
    with pytest.raises(TypeError, match="hiden"):
        train_classifier(_features(), tmp_path, hiden=4)
