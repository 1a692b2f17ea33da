"""A playground run against references: the same steps taken here with plain PyTorch (the
memory lab's model, torch.optim.AdamW, the seeded batches), the gradient curve of the memory
lab, the hidden state of torch.nn with the same weights; the verdict; the worker's caps."""

from __future__ import annotations

import time

import pytest
import torch

from rnnlab.data import synthetic
from rnnlab.tasks.memory.curves import grad_norm_curve
from rnnlab.tasks.memory.data import make_batch, task_spec
from rnnlab.tasks.memory.model import MemoryModel
from rnnlab.tasks.playground.config import PRESETS, Limits, RunKnobs
from rnnlab.tasks.playground.problems import problem
from rnnlab.tasks.playground.run import Run
from rnnlab.tasks.playground.verdict import labels, verdict
from rnnlab.tasks.playground.worker import Busy, Manager

KNOBS = {
    "data": {"task": "adding", "length": 12, "batch": 8, "seed": 3},
    "lanes": [
        {"cell": "rnn", "hidden": 8, "lr": 0.02},
        {"cell": "lstm", "hidden": 8, "clip": False},
    ],
}


def replay(cell: str, hidden: int, lr: float, clip: bool, steps: int):
    """The run's steps, written out: seeded init, AdamW (betas 0.9/0.99), clip at 1."""
    torch.manual_seed(3)
    m = MemoryModel(task_spec("adding"), cell, hidden, 1, forget_bias=1.0)
    opt = torch.optim.AdamW(m.parameters(), lr=lr, betas=(0.9, 0.99), weight_decay=0.0)
    losses = []
    for i in range(steps):
        x, y = make_batch("adding", 8, 12, synthetic.seeded(3, 0, i))
        loss = torch.nn.functional.mse_loss(m(x).squeeze(-1), y)
        opt.zero_grad()
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
    return m, losses


def test_a_run_takes_the_steps_plain_pytorch_takes():
    run = Run(RunKnobs.model_validate(KNOBS))
    for _ in range(6):
        run.step()
    snap = run.snapshot()
    xp, yp = make_batch("adding", 8, 12, synthetic.seeded(3, 2, 0))  # the probe batch
    xv, yv = make_batch("adding", 256, 12, synthetic.seeded(3, 1, 0))  # the validation set
    for lane, got, (cell, lr, clip) in zip(
        run.lanes, snap["lanes"], [("rnn", 0.02, True), ("lstm", 0.01, False)], strict=True
    ):
        m, losses = replay(cell, 8, lr, clip, 6)
        assert [r[1] for r in lane.train] == pytest.approx(losses, rel=1e-6)
        assert got["grad_norm"] == pytest.approx(grad_norm_curve(m, xp, yp, threads=1), rel=1e-9)
        with torch.no_grad():
            mse = float(torch.nn.functional.mse_loss(m(xv).squeeze(-1), yv))
        assert got["val_score"] == pytest.approx(1 - mse * 6, rel=1e-5)
        # the hidden state over the probe, from torch.nn with the same weights
        ref = (torch.nn.RNN if cell == "rnn" else torch.nn.LSTM)(2, 8, batch_first=True)
        ref.load_state_dict({k: v for k, v in m.rnn.state_dict().items() if k in ref.state_dict()})
        with torch.no_grad():
            h = ref(xp[:1])[0][0]
        assert torch.tensor(got["hidden"]) == pytest.approx(h, abs=1e-3)
        assert got["answer"]["target"] == f"{float(yp[0]):.2f}"
        assert got["answer"]["answer"] == f"{float(m(xp[:1]).detach().squeeze()):.2f}"
    assert set(snap["lanes"][1]["saturation"]) == {"i", "f", "g", "o", "h"}


def test_every_task_and_cell_runs_and_text_windows_are_the_text():
    for task in ("copy", "recall", "parity", "text"):
        cells = [
            {"cell": c, "hidden": 4} for c in ("gru", "mingru" if task != "text" else "minlstm")
        ]
        run = Run(
            RunKnobs.model_validate(
                {"data": {"task": task, "length": 6, "batch": 4}, "lanes": cells}
            )
        )
        run.step()
        snap = run.snapshot()
        assert len(snap["lanes"][0]["grad_norm"]) == run.problem.val()[0].shape[1]
        assert 0 <= snap["lanes"][1]["val_score"] <= 1
    p = problem(
        RunKnobs.model_validate({"data": {"task": "text", "length": 20}, "lanes": [{}]}).data
    )
    x, y = p.batch(0)
    ans = Run(RunKnobs.model_validate({"data": {"task": "text", "length": 20}, "lanes": [{}]}))
    a = ans.snapshot()["lanes"][0]["answer"]
    assert a["question"][1:] == a["target"][:-1]  # the target is the text shifted by one
    assert (x[:, 1:].argmax(-1) == y[:, :-1]).all()


def test_every_preset_is_valid_knobs():
    for p in PRESETS:
        RunKnobs.model_validate({"data": p["data"], "lanes": p["lanes"]})


def test_the_verdict_reads_the_curves():
    p = problem(RunKnobs.model_validate(KNOBS).data)
    names = labels([{"cell": "rnn", "lr": 0.01}, {"cell": "lstm", "lr": 0.01}])
    curves = [[[100, 0.2, 0.01], [200, 0.2, 0.05]], [[100, 0.1, 0.5], [1400, 0.01, 0.96]]]
    assert verdict(names, curves, p) == (
        "The vanilla RNN is at chance (3%); the LSTM reached 95% variance explained after "
        "1,400 steps."
    )  # "now" is the mean of the last few scores
    rising = [[[s, 0.1, v] for s, v in enumerate([0.1, 0.3, 0.5, 0.7, 0.9])], [[1, 0.1, 0.2]]]
    assert verdict(names, rising, p).startswith("The vanilla RNN is at 60% variance explained")
    assert verdict(names, [[[5, None, None]], [[5, 0.1, 0.5]]], p).startswith(
        "The vanilla RNN diverged"
    )
    same = labels([{"cell": "lstm", "lr": 0.01}, {"cell": "lstm", "lr": 0.001}])
    assert same == ["LSTM (lr 0.01)", "LSTM (lr 0.001)"]


def _until(cond, timeout=10.0):
    t0 = time.monotonic()
    while not cond():
        assert time.monotonic() - t0 < timeout, "timed out"
        time.sleep(0.02)


def test_the_worker_plays_pauses_steps_resets_and_caps():
    knobs = RunKnobs.model_validate({"data": {"length": 6, "batch": 4}, "lanes": [{"hidden": 4}]})
    mgr = Manager(Limits(max_runs=1, max_seconds=0.6, idle_seconds=60, interval=0.05))
    job = mgr.start("a", knobs)
    _until(lambda: job.snapshot is not None)
    for _ in range(3):
        mgr.control("a", "step")
    _until(lambda: job.snapshot["step"] == 3)
    mgr.control("a", "play")
    _until(lambda: job.snapshot["step"] > 10)
    mgr.control("a", "pause")
    time.sleep(0.2)
    paused_at = job.run.steps
    time.sleep(0.3)
    assert job.run.steps == paused_at and job.state == "paused"
    mgr.control("a", "reset")
    _until(lambda: job.run is not None and job.snapshot["step"] == 0 and job.generation == 2)
    with pytest.raises(Busy, match="already training 1 run, its limit"):
        mgr.start("b", knobs)
    mgr.control("a", "play")  # the training-time cap ends it and frees the slot
    _until(lambda: job.state == "finished")
    assert "time cap" in job.reason and job.train_seconds >= 0.6
    idle = Manager(Limits(idle_seconds=0.3))
    j2 = idle.start("b", knobs)
    idle.control("b", "play")
    _until(lambda: j2.state == "cancelled")
    assert "nobody watched it" in j2.reason


def test_ended_runs_are_forgotten_so_sessions_cannot_pile_up(monkeypatch):
    from rnnlab.tasks.playground import worker

    monkeypatch.setattr(worker, "MAX_ENDED", 3)
    knobs = RunKnobs.model_validate({"data": {"length": 6, "batch": 4}, "lanes": [{"hidden": 4}]})
    mgr = Manager(Limits(max_runs=1))
    for k in range(8):  # a new browser session each time, each run stopped after it starts
        job = mgr.start(f"s{k}", knobs)
        _until(lambda j=job: j.snapshot is not None)
        mgr.stop(f"s{k}")
        _until(lambda j=job: not j.thread.is_alive())
    mgr.start("last", knobs)
    # the 3 most recently seen ended runs stay readable, with the new live one
    assert sorted(mgr.jobs) == ["last", "s5", "s6", "s7"]
    assert mgr.get("s7").state == "cancelled"
    mgr.close()
