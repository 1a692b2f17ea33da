"""Memory lab: the gradient curve against an independent unroll, a run end to end, the sweep,
resumable batches, verdicts and CLI errors."""

import json
import subprocess
import sys

import pytest
import torch
from torch import nn
from typer.testing import CliRunner

from rnnlab.cli import app
from rnnlab.data import synthetic
from rnnlab.errors import InputError
from rnnlab.tasks import memory
from rnnlab.train.checkpoint import load_run


def _reference_curve(model: memory.MemoryModel, x, y) -> torch.Tensor:
    """mean_b ‖dL/dh_t‖ by hand: an nn.RNNCell loop with a zero probe added to every h_t."""
    cell = nn.RNNCell(2, model.rnn.hidden_size).double()
    cell.load_state_dict({k.replace("_l0", ""): v for k, v in model.rnn.state_dict().items()})
    head = nn.Linear(model.rnn.hidden_size, 1).double()
    head.load_state_dict(model.head.state_dict())
    x = x.double()
    B, T, _ = x.shape
    probes = torch.zeros(T, B, model.rnn.hidden_size, dtype=torch.float64, requires_grad=True)
    h = torch.zeros(B, model.rnn.hidden_size, dtype=torch.float64)
    for t in range(T):
        h = cell(x[:, t], h) + probes[t]
    loss = ((head(h).squeeze(-1) - y.double()) ** 2).mean()
    (g,) = torch.autograd.grad(loss, probes)
    return g.norm(dim=-1).mean(1)


def test_grad_norm_curve_matches_an_independent_unroll():
    torch.manual_seed(0)
    model = memory.MemoryModel(memory.task_spec("adding"), "rnn", 8)
    x, y = synthetic.adding(5, 12, torch.Generator().manual_seed(0))
    got = torch.tensor(memory.grad_norm_curve(model, x, y), dtype=torch.float64)
    torch.testing.assert_close(got, _reference_curve(model, x, y))


def test_vanilla_rnn_gradient_vanishes_with_distance():
    torch.manual_seed(0)
    model = memory.MemoryModel(memory.task_spec("adding"), "rnn", 32)
    x, y = synthetic.adding(16, 60, torch.Generator().manual_seed(1))
    g = memory.grad_norm_curve(model, x, y)
    assert g[0] < 1e-4 * g[-1]  # 60 steps back the gradient is 10^4 times smaller


def test_copy_curve_and_score_use_only_recall_steps():
    torch.manual_seed(0)
    spec = memory.task_spec("copy", alphabet=4)
    model = memory.MemoryModel(spec, "gru", 8)
    x, y = synthetic.copy_task(3, 5, torch.Generator().manual_seed(0), n_symbols=2, alphabet=4)
    pred = model(x)
    keep = y != synthetic.IGNORE
    acc = (pred.argmax(-1)[keep] == y[keep]).float().mean()
    assert memory.score(model, pred, y)["acc"] == pytest.approx(float(acc))
    assert len(memory.grad_norm_curve(model, x, y)) == x.shape[1]


def test_verdicts():
    adding = memory.task_spec("adding")
    assert memory.solved(adding, {"mse": 0.0016})  # < 0.01 × 1/6 = 0.001667
    assert not memory.solved(adding, {"mse": 0.0017})
    assert memory.solved(adding, {"mse": 0.01}, solved_ratio=0.1)
    assert memory.solved(memory.task_spec("parity"), {"acc": 0.99})
    assert not memory.solved(memory.task_spec("copy"), {"acc": 0.98})


def test_stream_resumes_at_the_same_batch():
    a = memory.TaskStream("parity", 6, 4, seed=1)
    for _ in range(3):
        next(a)
    b = memory.TaskStream("parity", 6, 4, seed=1)
    b.load_state_dict(a.state_dict())
    xa, ya = next(a)
    xb, yb = next(b)
    assert torch.equal(xa, xb) and torch.equal(ya, yb)


def test_run_learns_short_adding_and_writes_everything(tmp_path):
    res = memory.run_memory(
        "adding", 6, "gru", steps=300, hidden=16, out=tmp_path, progress=False, n_val=200
    )
    # an untrained model sits at the trivial 1/6; 300 steps at T=6 get well below it
    assert res["test"]["mse"] < 0.5 * synthetic.ADDING_BASELINE_MSE
    assert res["verdict"] == ("solved" if res["test"]["mse"] < 1 / 600 else "unsolved")
    assert len(res["grad_norm"]["init"]) == len(res["grad_norm"]["trained"]) == 6
    assert res["curve"]["val"] and res["curve"]["train"]
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["test"] == res["test"]
    assert (tmp_path / "memory.png").read_bytes()[:4] == b"\x89PNG"
    tensors, cfg = load_run(tmp_path, task="memory")
    assert cfg["cell"] == "gru" and cfg["length"] == 6
    assert "rnn.weight_hh_l0" in tensors


def test_sweep_table_plot_and_reuse(tmp_path):
    kw = dict(steps=10, hidden=4, n_val=20, n_test=20, eval_every=10)
    res = memory.sweep("parity", [3, 5], ["rnn", "lstm"], out=tmp_path, **kw)
    assert [(r["config"]["cell"], r["config"]["length"]) for r in res] == [
        ("rnn", 3),
        ("rnn", 5),
        ("lstm", 3),
        ("lstm", 5),
    ]
    table = (tmp_path / "sweep.md").read_text()
    assert table.splitlines()[0] == "| cell | T=3 | T=5 |"
    assert table.splitlines()[2].startswith("| rnn | ")
    assert (tmp_path / "sweep.png").stat().st_size > 1000
    first = (tmp_path / "parity-rnn-T3" / "results.json").stat().st_mtime_ns
    memory.sweep("parity", [3], ["rnn"], out=tmp_path, **kw)  # finished: reused, not retrained
    assert (tmp_path / "parity-rnn-T3" / "results.json").stat().st_mtime_ns == first


def test_sweep_table_marks_solved_runs():
    def r(cell, T, mse):
        return {
            "config": {"memory_task": "adding", "cell": cell, "length": T},
            "test": {"mse": mse},
            "verdict": "solved" if mse < 1 / 600 else "unsolved",
        }

    table = memory.sweep_table([r("rnn", 10, 0.001), r("rnn", 50, 0.16)])
    assert table.splitlines()[2] == "| rnn | ✓ 0.001 | ✗ 0.16 |"


@pytest.mark.parametrize(
    "args,needle",
    [
        (["run", "--task", "sorting"], "unknown memory task"),
        (["run", "--cell", "transformer", "--steps", "1"], "unknown cell"),
        (["run", "--length", "1"], "--length"),
        (["sweep", "--lengths", "10,x"], "--lengths"),
        (["sweep", "--cells", "gru,nope", "--lengths", "5"], "unknown cell"),
    ],
)
def test_cli_bad_input_raises_input_error(args, needle, tmp_path):
    result = CliRunner().invoke(app, ["memory", *args, "--out", str(tmp_path / "o")])
    assert isinstance(result.exception, InputError), result.output
    assert needle in str(result.exception)


def test_cli_error_is_one_line_and_exit_code_2():
    r = subprocess.run(
        [sys.executable, "-m", "rnnlab", "memory", "run", "--task", "sorting"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2
    assert r.stderr.startswith("error: unknown memory task 'sorting'")
    assert "Traceback" not in r.stderr


def test_memory_view_curves_page_and_sweep(tmp_path, monkeypatch):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from rnnlab.serve.views.memory import router

    web = FastAPI()
    web.include_router(router)
    client = TestClient(web)
    r = client.get("/api/memory/curves", params={"length": 20, "cells": "rnn,gru,nope"})
    assert r.status_code == 200
    d = r.json()
    assert [c["cell"] for c in d["curves"]] == ["rnn", "gru"]
    assert d["unavailable"][0]["cell"] == "nope"
    # the same numbers as the CLI's curve, reordered by distance from the loss
    torch.manual_seed(0)
    model = memory.MemoryModel(memory.task_spec("adding"), "rnn", 64)
    x, y = memory.fixed_set("adding", 20, 16, 0, 2)
    assert d["curves"][0]["grad_norm"] == pytest.approx(memory.grad_norm_curve(model, x, y)[::-1])
    assert client.get("/api/memory/curves", params={"length": 5000}).status_code == 422
    assert client.get("/api/memory/curves", params={"task": "sorting"}).status_code == 422
    page = client.get("/memory")
    assert page.status_code == 200 and 'id="mem-len"' in page.text
    monkeypatch.setenv("RNNLAB_MEMORY_SWEEP", str(tmp_path / "sweep.json"))
    assert client.get("/api/memory/sweep").json()["available"] is False
    memory.sweep("parity", [3], ["rnn"], out=tmp_path, steps=5, hidden=4, n_val=8, n_test=8)
    runs = client.get("/api/memory/sweep").json()["runs"]
    assert runs[0]["cell"] == "rnn" and len(runs[0]["grad_trained"]) == 3
