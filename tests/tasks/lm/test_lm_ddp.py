"""`torchrun --nproc-per-node 2 -m rnnlab lm train`: two CPU processes (gloo) train on
different streams of the text and must end with identical weights."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from rnnlab.train.checkpoint import load_state

TEXT = "the cat sat on the mat.\nthe dog sat on the log.\n" * 40


def test_two_processes_hold_identical_weights(tmp_path):
    torchrun = Path(sys.executable).with_name("torchrun")
    if not torchrun.exists() and not shutil.which("torchrun"):
        pytest.skip("torchrun is not installed next to this Python")
    data = tmp_path / "text.txt"
    data.write_text(TEXT, encoding="utf-8")
    out = tmp_path / "run"
    cmd = [
        str(torchrun if torchrun.exists() else shutil.which("torchrun")),
        "--standalone", "--nproc-per-node", "2", "-m", "rnnlab", "lm", "train",
        "--data", str(data), "--out", str(out), "--steps", "6", "--eval-every", "3",
        "--hidden", "16", "--layers", "1", "--embed", "8", "--seq-len", "16", "--batch", "4",
        "--dropout", "0", "--device", "cpu", "--threads", "1", "--quiet",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    # own process group: on a timeout the workers go down with torchrun, no orphans
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, start_new_session=True)  # fmt: skip
    try:
        stdout, stderr = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    assert proc.returncode == 0, stdout + stderr
    m = re.search(r"weights (\w+) on 2 processes \(sha256 (\w+) (\w+)\)", stdout)
    assert m, stdout
    assert m.group(1) == "identical" and m.group(2) == m.group(3)
    st = load_state(out)
    assert st["step"] == 6
    # the saved state is the DDP-wrapped model's (ranks read different streams, see
    # tests/data/test_tokenize.py::test_batcher_ranks_take_disjoint_streams)
    assert any(k.startswith("module.") for k in st["model"])
    assert all(torch.isfinite(v).all() for v in st["model"].values())
