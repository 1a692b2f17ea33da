"""SIGKILL at random moments of a real ``rnnlab lm train`` run: after every kill the run
directory loads and ``--resume`` continues; the finished run equals an uninterrupted one.
Plus the crash windows between two writes, hit on purpose."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from rnnlab.errors import CheckpointError
from rnnlab.train.checkpoint import STATE, STATE_META, load_state, save_state

TEXT = "the cat sat on the mat.\nthe dog sat on the log.\na bird sang in the tree.\n" * 25
STEPS = 300
ARGS = [
    "--hidden", "16", "--layers", "1", "--embed", "8", "--seq-len", "16", "--batch", "4",
    "--steps", str(STEPS), "--eval-every", "3", "--warmup", "5", "--quiet", "--threads", "1",
]  # fmt: skip
KILLS = 4


def _train(data: Path, out: Path, resume: bool) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "rnnlab", "lm", "train", "--data", str(data), "--out", str(out)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        cmd + ARGS + (["--resume"] if resume else []),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    t0 = time.monotonic()
    while not path.exists():
        if proc.poll() is not None:
            pytest.fail(f"training exited early ({proc.returncode}): {proc.stderr.read()!r}")
        assert time.monotonic() - t0 < timeout, f"{path} never appeared"
        time.sleep(0.01)


def _log_step(run: Path) -> int:
    """Step of the last whole training row of log.jsonl (0 if none)."""
    try:
        lines = (run / "log.jsonl").read_text().splitlines()
    except FileNotFoundError:
        return 0
    for line in reversed(lines):
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if row.get("split") == "train":
            return int(row["step"])
    return 0


def _meta_step(run: Path) -> int:
    """Step recorded in state.json (read as text: it may be replaced while we read)."""
    try:
        skel = json.loads((run / STATE_META).read_text())["state"]["__dict__"]
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        return 0
    return int(dict((k, v) for k, v in skel)["step"])


def _state_step(run: Path) -> int:
    return int(load_state(run)["step"])


def test_sigkill_at_random_moments_then_resume(tmp_path):
    from rnnlab.tasks.lm.model import load_lm
    from rnnlab.tasks.lm.train import train_lm

    data = tmp_path / "text.txt"
    data.write_text(TEXT)
    run = tmp_path / "run"
    rng = random.Random(12345)
    last_step, resume, kills = 0, False, 0
    while kills < KILLS:
        proc = _train(data, run, resume)
        # the first checkpoint of this process: the state written at its first evaluation
        before = (run / STATE_META).stat().st_mtime_ns if (run / STATE_META).exists() else None
        t0 = time.monotonic()
        while True:
            m = (run / STATE_META).stat().st_mtime_ns if (run / STATE_META).exists() else None
            if m is not None and m != before:
                break
            if proc.poll() is not None:
                pytest.fail(f"training exited ({proc.returncode}): {proc.stderr.read()!r}")
            assert time.monotonic() - t0 < 60, "no checkpoint was written"
            time.sleep(0.005)
        if kills % 2 == 0:  # somewhere in training: evaluating, writing, stepping
            time.sleep(rng.uniform(0.0, 0.3))
        else:  # when the log is ahead of the state: its last rows will be trained again
            t0 = time.monotonic()
            while _log_step(run) <= _meta_step(run) and proc.poll() is None:
                assert time.monotonic() - t0 < 60
                time.sleep(0.002)
        if proc.poll() is not None:
            break  # finished before the kill: nothing left to interrupt
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()
        kills += 1
        # what the kill left behind loads: the best model and the resumable state
        model = load_lm(run)
        assert model.config["task"] == "lm"
        step = _state_step(run)
        assert last_step <= step < STEPS, (last_step, step)
        last_step, resume = step, True
        if kills == 2:  # a log line torn by the kill (a write cut short)
            with (run / "log.jsonl").open("a") as f:
                f.write('{"step": 99999, "elapsed": 1.')
        # leftover temp files of an interrupted write do not look like checkpoints
        for p in run.iterdir():
            assert p.name.endswith(".tmp") == p.name.startswith("."), p.name
    assert kills >= 2, "the run finished before it could be interrupted: make it longer"
    # the last resume runs to the end
    proc = _train(data, run, resume=True)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()
    assert f"{STEPS} steps" in out.decode()
    assert _state_step(run) == STEPS
    assert [p.name for p in run.iterdir() if p.name.endswith(".tmp")] == []
    # the log reads back whole: no torn lines, each training step logged once, in order
    lines = (run / "log.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines]
    train_steps = [r["step"] for r in rows if r["split"] == "train"]
    assert train_steps == sorted(set(train_steps)) and train_steps[-1] == STEPS
    assert len((run / "log.csv").read_text().splitlines()) == len(rows) + 1  # + header

    # exact resume: the same weights as a run never interrupted (in-process: no start-up)
    ref = tmp_path / "ref"
    train_lm(
        data, ref, hidden=16, layers=1, embed=8, seq_len=16, batch=4, steps=STEPS,
        eval_every=3, warmup=5, progress=False, threads=1,
    )  # fmt: skip
    got, want = load_state(run)["model"], load_state(ref)["model"]
    assert got.keys() == want.keys()
    for k in want:
        assert torch.equal(got[k], want[k]), k


# ---- the windows between two writes, hit on purpose ---------------------------------------


def test_kill_between_state_blob_and_state_json_resumes_from_the_newest(tmp_path):
    save_state(tmp_path, {"step": 1, "w": torch.zeros(3)})
    old_meta = (tmp_path / STATE_META).read_bytes()
    save_state(tmp_path, {"step": 2, "w": torch.ones(3)})
    (tmp_path / STATE_META).write_bytes(old_meta)  # as if killed before state.json was replaced
    st = load_state(tmp_path)
    assert st["step"] == 2 and torch.equal(st["w"], torch.ones(3))
    # a blob that is itself damaged is still refused, naming the file
    blob = bytearray((tmp_path / STATE).read_bytes())
    blob[-3] ^= 0xFF
    (tmp_path / STATE).write_bytes(bytes(blob))
    with pytest.raises(CheckpointError, match=r"state\.safetensors"):
        load_state(tmp_path)
