"""The memory lab end to end: a run writes everything (sectioned config.json with its
evaluation sets), the sweep with its table, plot and reuse, the CLI's errors."""

import json
import subprocess
import sys

import pytest
import torch
from typer.testing import CliRunner

from rnnlab.cli import app
from rnnlab.data import synthetic
from rnnlab.errors import InputError
from rnnlab.tasks.memory.report import sweep_table
from rnnlab.tasks.memory.train import run_memory, sweep
from rnnlab.train.checkpoint import load_run, save_run


def test_run_learns_short_adding_and_writes_everything(tmp_path):
    res = run_memory(
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
    assert cfg["model"]["cell"] == "gru" and cfg["data"]["length"] == 6
    # the evaluation sets are generated from the seed: the run records how
    assert cfg["data"]["split"]["val"] == {"stream": 1, "n": 200}
    assert cfg["data"]["split"]["test"] == {"stream": 2, "n": 1000}
    assert cfg["metrics"]["test"] == res["test"]  # the best model's test score
    assert cfg["model"]["forget_bias"] is None  # only an LSTM has one
    assert "rnn.weight_hh_l0" in tensors


def test_sweep_table_plot_and_reuse(tmp_path):
    kw = dict(steps=10, hidden=4, n_val=20, n_test=20, eval_every=10)
    res = sweep("parity", [3, 5], ["rnn", "lstm"], out=tmp_path, **kw)
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
    sweep("parity", [3], ["rnn"], out=tmp_path, **kw)  # finished: reused, not retrained
    assert (tmp_path / "parity-rnn-T3" / "results.json").stat().st_mtime_ns == first


def test_sweep_table_marks_solved_runs():
    def r(cell, T, mse):
        return {
            "config": {"memory_task": "adding", "cell": cell, "length": T},
            "test": {"mse": mse},
            "verdict": "solved" if mse < 1 / 600 else "unsolved",
        }

    table = sweep_table([r("rnn", 10, 0.001), r("rnn", 50, 0.16)])
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


def test_an_unknown_setting_is_a_type_error(tmp_path):
    with pytest.raises(TypeError, match="hiden"):
        run_memory("adding", 6, "gru", out=tmp_path, hiden=4)


def test_another_tasks_run_is_not_overwritten(tmp_path):
    empty = {"model": {}, "data": {}, "train": {}, "metrics": {}}
    save_run(tmp_path, {"w": torch.zeros(1)}, {"task": "lm", **empty})
    with pytest.raises(InputError, match="'lm' run"):
        run_memory("parity", 3, "rnn", steps=2, out=tmp_path, progress=False)
