"""The recipe around fit, once: the run-directory guard and train_run's summary."""

from __future__ import annotations

import pytest
import torch

from rnnlab.errors import CheckpointError, InputError
from rnnlab.train.checkpoint import load_run, read_config, save_run
from rnnlab.train.loop import TrainConfig
from rnnlab.train.run import guard_out, train_run
from rnnlab.train.threads import cpu_threads

CONFIG = {"task": "toy", "model": {"hidden": 8}, "data": {"n": 16}, "train": {"lr": 0.05}}


class Batches:
    def __init__(self) -> None:
        self.i = 0

    def __next__(self):
        self.i += 1
        g = torch.Generator().manual_seed(self.i)
        x = torch.randn(16, 4, generator=g)
        return x, x.sum(1, keepdim=True)

    def state_dict(self):
        return {"i": self.i}

    def load_state_dict(self, s):
        self.i = s["i"]


def _train(out, steps=30, resume=False, final=True):
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    xv = torch.randn(64, 4, generator=torch.Generator().manual_seed(99))

    @torch.no_grad()
    def val():
        return {"val_loss": float(torch.nn.functional.mse_loss(m(xv), xv.sum(1, keepdim=True)))}

    s = train_run(
        m,
        TrainConfig(steps=steps, eval_every=10, lr=0.05, warmup=2),
        out,
        config=CONFIG,
        data=Batches(),
        step_fn=lambda b: (torch.nn.functional.mse_loss(m(b[0]), b[1]), 16),
        eval_fn=val,
        final_eval=(lambda: {"test_loss": val()["val_loss"]}) if final else None,
        resume=resume,
        progress=False,
    )
    return m, s, val


def test_summary_shape_best_reloaded_and_final_metrics(tmp_path):
    m, s, val = _train(tmp_path / "r")
    assert set(s) == {"run_dir", "steps", "elapsed", "stop_reason", "best", "metrics",
                      "averaged_from"}  # fmt: skip
    assert s["steps"] == 30 and s["stop_reason"] == "budget"
    # the model in memory is the best checkpoint, and the file holds it with the final metrics
    assert val()["val_loss"] == pytest.approx(s["best"])
    tensors, cfg = load_run(tmp_path / "r", task="toy")
    assert all(torch.equal(tensors[k], v) for k, v in m.state_dict().items())
    assert cfg["metrics"]["test_loss"] == pytest.approx(s["best"])
    assert cfg["model"] == CONFIG["model"] and cfg["versions"]["format"] == 2


def test_the_initial_model_is_the_first_checkpoint(tmp_path):
    out = tmp_path / "r"
    _train(out, steps=1, final=False)  # one step, evaluated once at the end
    assert read_config(out)["metrics"]["step"] in (0, 1)


def test_guard_refuses_another_tasks_run_and_mismatched_resume(tmp_path):
    out = tmp_path / "r"
    assert guard_out(out, "toy", resume=False) is None  # nothing there yet
    save_run(out, {"w": torch.zeros(1)}, {**CONFIG, "task": "lm", "metrics": {}})
    with pytest.raises(InputError, match="holds a 'lm' run: choose another --out"):
        guard_out(out, "toy", resume=False)
    with pytest.raises(CheckpointError, match="not a 'toy' run"):
        guard_out(out, "toy", resume=True)
    save_run(out, {"w": torch.zeros(1)}, {**CONFIG, "metrics": {}})
    old = guard_out(out, "toy", resume=True, same={"model.hidden": 8})
    assert old["data"] == {"n": 16}
    with pytest.raises(CheckpointError, match=r"--hidden 8 \(not 16\)"):
        guard_out(out, "toy", resume=True, same={"model.hidden": 16})


def test_resume_keeps_the_run_and_continues_the_step_count(tmp_path):
    _, first, _ = _train(tmp_path / "b", steps=20, final=False)
    _, s, _ = _train(tmp_path / "b", steps=30, resume=True, final=False)
    assert s["steps"] == 30 and s["best"] <= first["best"]


def test_cpu_threads_restores_the_setting():
    before = torch.get_num_threads()
    with cpu_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError), cpu_threads(1):
        raise RuntimeError("boom")
    assert torch.get_num_threads() == before
