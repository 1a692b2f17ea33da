"""The server keeps serving when its cache folder cannot be written: the fused kernels cannot
be built there, so the engine falls back to the Python loop with one warning line."""

import subprocess
import sys

SCRIPT = r"""
from fastapi.testclient import TestClient
import torch, rnnlab as rl
from rnnlab.core import kernels
from rnnlab.serve.app import create_app
from rnnlab.serve.registry import ModelRegistry
from rnnlab.tasks.lm.model import LanguageModel
from rnnlab.data.tokenize import CharTokenizer

assert kernels.get() is None, "built somewhere it cannot write"
assert kernels.reason()
reg = ModelRegistry()
tok = CharTokenizer.fit("the cat sat on the mat\n")
reg.add_model("tiny", LanguageModel(tok, cell="lstm", embed=4, hidden=8, layers=1))
r = TestClient(create_app(reg)).post("/api/trace", json={"model": "tiny", "text": "the cat"})
assert r.status_code == 200, r.text
print("served")
"""


def test_a_cache_folder_that_cannot_be_written_is_a_warning_not_a_failure(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")  # even root cannot make a folder inside a file
    env = {"RNNLAB_HOME": str(blocker / "home"), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"}
    p = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True,
                       timeout=300)  # fmt: skip
    assert p.returncode == 0, p.stderr[-2000:]
    assert "served" in p.stdout
    warnings = [ln for ln in p.stderr.splitlines() if "fused RNN kernels unavailable" in ln]
    assert len(warnings) == 1 and "Python loop" in warnings[0]
