"""Budget-aware defaults (rnnlab/tasks/lm/recipes.py): which row a budget gets, that every
flag given on the command line wins (even one given with its default value), the printed
line, and that --steps or no --time-budget keeps today's defaults."""

from __future__ import annotations

import json

import pytest
from lm_helpers import TEXT

from rnnlab.tasks.lm import recipes
from rnnlab.tasks.lm.config import DEFAULTS
from rnnlab.tasks.lm.recipes import TABLE, Recipe, apply_recipe, choose

SMALL = {"hidden": 12, "layers": 1, "embed": 8, "seq_len": 16, "batch": 4, "lr": 0.01}
FAKE = (
    Recipe("char", 0, {"cell": "lstm", **SMALL, "threads": 1}, "measured A"),
    Recipe("char", 600, {"cell": "rnn", **SMALL, "dropout": 0.1, "threads": 8}, "measured B"),
    Recipe("word", 0, {"cell": "gru", **SMALL, "threads": 1}, "not measured yet"),
)


@pytest.mark.parametrize("budget, row", [(1, 0), (599, 0), (600, 1), (3600, 1)])
def test_the_row_with_the_largest_budget_not_above_it(budget, row):
    assert choose(budget, "char", FAKE) is FAKE[row]
    assert choose(budget, "word", FAKE) is FAKE[2]


def test_the_committed_table():
    levels = {r.level for r in TABLE}
    assert levels == {"char", "word"}
    for r in TABLE:
        assert r.evidence.startswith(
            ("benchmarks/RESULTS.md", "benchmarks/lm_recipes.py", "not measured yet")
        ), r
        assert {"cell", "hidden", "layers", "batch", "seq_len", "lr", "threads"} <= set(r.settings)
    # the 3-minute row is today's default, as measured (1.495 at 3 min)
    short = choose(180, "char")
    assert {k: short.settings[k] for k in DEFAULTS if k != "level"} == {
        k: v for k, v in DEFAULTS.items() if k != "level"
    }
    assert "1.495" in short.evidence and "1.439" in choose(900, "char").evidence
    with pytest.raises(ValueError, match="level"):
        choose(60, "bytes")


def test_given_settings_win_and_threads_fit_the_machine():
    s, line = apply_recipe({"cell": "gru", "level": "char"}, 900, cores=2, table=FAKE)
    assert s["cell"] == "gru" and s["dropout"] == 0.1 and s["threads"] == 2
    assert line.startswith("recipe for 15 min at char level (10 min+ row): hidden 12")
    assert "yours kept: cell" in line and "measured B" in line


def _train(cli, tmp_path, monkeypatch, *args):
    monkeypatch.setattr(recipes, "TABLE", FAKE)
    (tmp_path / "t.txt").write_text(TEXT)
    run = tmp_path / "run"
    r = cli("lm", "train", "--data", tmp_path / "t.txt", "--out", run, "--quiet", *args)
    assert r.code == 0, r.err
    cfg = json.loads((run / "config.json").read_text())
    return r.out, {**cfg["model"], **cfg["train"]}


def test_time_budget_alone_takes_the_recipe_and_says_why(cli, tmp_path, monkeypatch):
    out, cfg = _train(cli, tmp_path, monkeypatch, "--time-budget", "2s")
    first = out.splitlines()[0]
    assert first.startswith("recipe for 2 s at char level (0-10 min row): cell lstm, hidden 12")
    assert first.endswith("Evidence: measured A")
    assert {k: cfg[k] for k in SMALL} == SMALL and cfg["cell"] == "lstm" and cfg["threads"] == 1


def test_a_flag_given_with_its_default_value_still_overrides(cli, tmp_path, monkeypatch):
    out, cfg = _train(cli, tmp_path, monkeypatch, "--time-budget", "2s", "--batch",
                      str(DEFAULTS["batch"]), "--cell", "gru")  # fmt: skip
    assert cfg["batch"] == DEFAULTS["batch"] and cfg["cell"] == "gru"
    assert cfg["hidden"] == SMALL["hidden"]  # the rest from the recipe
    assert "yours kept: batch, cell" in out


@pytest.mark.parametrize("args", [["--steps", "3"], ["--steps", "3", "--time-budget", "1m"]])
def test_steps_keep_todays_defaults(cli, tmp_path, monkeypatch, args):
    out, cfg = _train(cli, tmp_path, monkeypatch, *args, "--hidden", "16", "--layers", "1")
    assert "recipe" not in out
    assert cfg["cell"] == DEFAULTS["cell"] and cfg["batch"] == DEFAULTS["batch"]
    assert cfg["lr"] == DEFAULTS["lr"] and cfg["threads"] is None
