"""The shared training loop: budgets, schedule, best checkpoint, exact resume."""

import math

import pytest
import torch

from rnnlab.errors import InputError
from rnnlab.train.checkpoint import load_run, save_run
from rnnlab.train.loop import TrainConfig, fit, lr_factor, read_log
from rnnlab.train.util import parse_duration

TOY = {"task": "toy", "model": {}, "data": {}, "train": {}}


class Source:
    """Deterministic batches indexed by position (so resuming at a position is exact)."""

    def __init__(self):
        self.i = 0

    def __next__(self):
        self.i += 1
        g = torch.Generator().manual_seed(self.i)
        x = torch.randn(16, 4, generator=g)
        return x, x.sum(1, keepdim=True) + 0.1 * torch.randn(16, 1, generator=g)

    def state_dict(self):
        return {"i": self.i}

    def load_state_dict(self, s):
        self.i = s["i"]


def _run(run_dir, resume=False, stop_at=None, steps=20, log_dir=None):
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.3), torch.nn.Linear(8, 1))
    calls = [0]

    def step(b):
        calls[0] += 1
        if stop_at and calls[0] == stop_at:
            raise KeyboardInterrupt
        return torch.nn.functional.mse_loss(m(b[0]), b[1]), 16

    def evaluate():
        with torch.no_grad():
            x = torch.ones(2, 4)
            return {"val_loss": float(torch.nn.functional.mse_loss(m(x), torch.full((2, 1), 4.0)))}

    cfg = TrainConfig(steps=steps, eval_every=5, lr=0.05, warmup=2)
    try:
        r = fit(
            m,
            cfg,
            run_dir,
            data=Source(),
            step_fn=step,
            eval_fn=evaluate,
            save_fn=lambda p, met: save_run(p, m.state_dict(), {**TOY, "metrics": met}),
            resume=resume,
            progress=False,
            log_dir=log_dir,
        )
    except KeyboardInterrupt:
        r = None
    return m, r


def test_interrupted_run_resumes_exactly(tmp_path):
    full, r_full = _run(tmp_path / "a")
    _run(tmp_path / "b", stop_at=13)  # Ctrl-C in the middle: the state of step 10 is kept
    resumed, r_res = _run(tmp_path / "b", resume=True)
    for p, q in zip(full.parameters(), resumed.parameters()):
        assert torch.equal(p, q)
    assert r_full["best"] == r_res["best"]
    assert r_res["steps"] == 20


def test_best_checkpoint_and_log(tmp_path):
    _, r = _run(tmp_path)
    tensors, cfg = load_run(tmp_path, task="toy")
    assert cfg["metrics"]["val_loss"] == pytest.approx(r["best"])
    rows = read_log(tmp_path)
    assert [row["step"] for row in rows if row["split"] == "val"] == [5, 10, 15, 20]
    assert (tmp_path / "log.csv").read_text().startswith("step,elapsed")


def test_schedule_warmup_then_cosine_to_floor():
    cfg = TrainConfig(steps=100, warmup=10, min_lr_ratio=0.1)
    assert lr_factor(cfg, 0, 0) == pytest.approx(0.1 * (0.1 + 0.9 * 0.5 * (1 + math.cos(0))))
    assert lr_factor(cfg, 50, 0) == pytest.approx(0.1 + 0.9 * 0.5)
    assert lr_factor(cfg, 100, 0) == pytest.approx(0.1)
    timed = TrainConfig(time_budget=60, warmup=1)
    assert lr_factor(timed, 5, 30.0) == pytest.approx(0.1 + 0.9 * 0.5)


def test_budget_and_duration_errors():
    with pytest.raises(InputError, match="budget"):
        TrainConfig()
    with pytest.raises(InputError, match="positive"):
        TrainConfig(steps=0)
    assert (
        parse_duration("1h30m") == 5400
        and parse_duration("90s") == 90
        and parse_duration("2.5m") == 150
    )
    with pytest.raises(InputError, match="invalid duration"):
        parse_duration("soon")


def test_tensorboard_scalars_match_the_plain_log(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    _run(tmp_path / "run", log_dir=tmp_path / "tb")
    acc = EventAccumulator(str(tmp_path / "tb"))
    acc.Reload()
    val = [(e.step, e.value) for e in acc.Scalars("val/val_loss")]
    rows = [
        (r["step"], r["metrics"]["val_loss"])
        for r in read_log(tmp_path / "run")
        if r["split"] == "val"
    ]
    assert [s for s, _ in val] == [s for s, _ in rows]
    for (_, a), (_, b) in zip(val, rows):
        assert a == pytest.approx(b, rel=1e-6)
    assert len(acc.Scalars("train/train_loss")) == 2  # log_every=10 over 20 steps
