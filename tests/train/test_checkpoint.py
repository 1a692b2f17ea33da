"""Run directories: atomic, verified, clear errors; nested state without pickle."""

import json

import pytest
import torch

from rnnlab.errors import CheckpointError
from rnnlab.train.checkpoint import (
    CONFIG,
    WEIGHTS,
    flatten_state,
    load_run,
    load_state,
    load_weights_into,
    read_config,
    save_run,
    save_state,
    unflatten_state,
)

# the sections every config.json has (FORMAT_VERSION 2)
EMPTY = {"model": {}, "data": {}, "train": {}, "metrics": {}}


def run_config(task: str, **sections) -> dict:
    return {"task": task, **EMPTY, **sections}


def test_round_trip_and_versions(tmp_path):
    t = {"w": torch.arange(6.0).view(2, 3), "b": torch.ones(3, dtype=torch.float64)}
    save_run(tmp_path, t, run_config("lm", model={"cell": "gru"}))
    got, cfg = load_run(tmp_path, task="lm")
    assert torch.equal(got["w"], t["w"]) and got["b"].dtype == torch.float64
    assert cfg["versions"]["format"] == 2 and cfg["versions"]["torch"].startswith("2.13")
    assert cfg["model"] == {"cell": "gru"}
    assert len(cfg["weights_sha256"]) == 64
    assert not list(tmp_path.glob("*.tmp"))  # no temp files left behind


def test_wrong_task_missing_dir_and_not_a_run(tmp_path):
    save_run(tmp_path / "r", {"w": torch.zeros(1)}, run_config("forecast"))
    with pytest.raises(CheckpointError, match="holds a 'forecast' model, not a 'lm' model"):
        load_run(tmp_path / "r", task="lm")
    with pytest.raises(CheckpointError, match="does not exist"):
        load_run(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="not an rnnlab run directory"):
        load_run(tmp_path / "empty")
    (tmp_path / "file").write_text("x")
    with pytest.raises(CheckpointError, match="not a run directory"):
        load_run(tmp_path / "file")


def test_truncated_and_corrupted_weights_are_named(tmp_path):
    save_run(tmp_path, {"w": torch.randn(100)}, run_config("lm"))
    blob = (tmp_path / WEIGHTS).read_bytes()
    (tmp_path / WEIGHTS).write_bytes(blob[: len(blob) // 2])
    with pytest.raises(CheckpointError, match=r"model\.safetensors is truncated or corrupted"):
        load_run(tmp_path)
    flipped = bytearray(blob)
    flipped[-5] ^= 0xFF  # a flipped bit inside the tensor data
    (tmp_path / WEIGHTS).write_bytes(bytes(flipped))
    with pytest.raises(CheckpointError, match="corrupted"):
        load_run(tmp_path)
    (tmp_path / CONFIG).write_text("{not json")
    with pytest.raises(CheckpointError, match="config.json is corrupted"):
        load_run(tmp_path)


def test_crash_between_weights_and_config_still_loads_newest(tmp_path):
    save_run(tmp_path, {"w": torch.zeros(3)}, run_config("lm", metrics={"step": 1}))
    old_cfg = (tmp_path / CONFIG).read_text()
    save_run(tmp_path, {"w": torch.ones(3)}, run_config("lm", metrics={"step": 2}))
    (tmp_path / CONFIG).write_text(old_cfg)  # as if killed before config.json was replaced
    t, cfg = load_run(tmp_path, task="lm")
    assert torch.equal(t["w"], torch.ones(3)) and cfg["metrics"]["step"] == 2


def test_save_run_wants_exactly_the_sections(tmp_path):
    with pytest.raises(ValueError, match="missing"):
        save_run(tmp_path, {"w": torch.zeros(1)}, {"task": "lm"})
    with pytest.raises(ValueError, match="extra"):
        save_run(tmp_path, {"w": torch.zeros(1)}, {**run_config("lm"), "hidden": 8})


def test_a_format_1_config_names_the_old_layout(tmp_path):
    """A run of rnnlab 0.1 (flat config.json, format 1) is refused with what to do."""
    save_run(tmp_path, {"w": torch.zeros(1)}, run_config("lm"))
    old = {"task": "lm", "format_version": 1, "rnnlab_version": "0.1.0", "cell": "gru",
           "hidden": 8, "weights_sha256": "0" * 64}  # fmt: skip
    (tmp_path / CONFIG).write_text(json.dumps(old))
    for load in (read_config, lambda d: load_run(d, task="lm")):
        with pytest.raises(CheckpointError, match="old layout.*format 1.*train the run again"):
            load(tmp_path)


def test_load_weights_into_names_the_architecture_mismatch(tmp_path):
    m = torch.nn.Linear(3, 2)
    with pytest.raises(CheckpointError, match="another architecture.*shape of weight"):
        load_weights_into(m, {"weight": torch.zeros(4, 3), "bias": torch.zeros(2)}, "runs/x")
    with pytest.raises(CheckpointError, match="missing"):
        load_weights_into(m, {"weight": torch.zeros(2, 3)}, "runs/x")


def test_nested_state_round_trip_without_pickle(tmp_path):
    m = torch.nn.Linear(3, 2)
    opt = torch.optim.AdamW(m.parameters(), lr=0.1)
    m(torch.randn(4, 3)).sum().backward()
    opt.step()
    state = {"optimizer": opt.state_dict(), "step": 7, "rng": torch.get_rng_state(), "pos": [1, 2]}
    tensors, skel = flatten_state(state)
    json.dumps(skel)  # the skeleton is plain JSON
    back = unflatten_state(tensors, skel)
    assert back["step"] == 7 and back["pos"] == [1, 2]
    opt2 = torch.optim.AdamW(m.parameters(), lr=0.1)
    opt2.load_state_dict(back["optimizer"])
    assert torch.equal(
        opt2.state_dict()["state"][0]["exp_avg"], opt.state_dict()["state"][0]["exp_avg"]
    )
    save_state(tmp_path, state)
    assert load_state(tmp_path)["step"] == 7
    (tmp_path / "state.safetensors").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="does not match"):
        load_state(tmp_path)


def test_packed_run_loads_close_to_the_original_and_smaller(tmp_path):
    from rnnlab.train.checkpoint import SCALE, dequantize, pack_run, quantize

    g = torch.Generator().manual_seed(0)
    w = {
        "emb.weight": torch.randn(500, 200, generator=g),
        "rnn.w": torch.randn(20, 20, generator=g),
        "steps": torch.tensor([3]),
    }
    save_run(tmp_path / "a", w, {"task": "lm", **EMPTY})
    pack_run(tmp_path / "a", tmp_path / "b")
    back, cfg = load_run(tmp_path / "b", task="lm")
    assert cfg["task"] == "lm" and set(back) == set(w)
    assert all(
        back[k].dtype == (torch.float32 if w[k].is_floating_point() else w[k].dtype) for k in w
    )
    assert torch.equal(back["steps"], w["steps"])
    # int8 rows: error at most half a step of each row's scale; fp16: relative 1e-3
    step = w["emb.weight"].abs().amax(1, keepdim=True) / 127
    assert ((back["emb.weight"] - w["emb.weight"]).abs() <= step / 2 + 1e-6).all()
    assert torch.allclose(back["rnn.w"], w["rnn.w"], rtol=1e-3, atol=1e-3)
    a, b = (tmp_path / d / "model.safetensors" for d in "ab")
    assert b.stat().st_size < 0.3 * a.stat().st_size
    q = quantize(w)
    assert q["emb.weight" + SCALE].shape == (500,) and torch.equal(
        dequantize(q)["steps"], w["steps"]
    )
