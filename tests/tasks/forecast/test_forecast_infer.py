"""Loading a run: another task's run and a run in the old (format 1) layout are clear errors."""

from __future__ import annotations

import json

import pytest
import torch

from rnnlab.errors import CheckpointError
from rnnlab.tasks.forecast.infer import load_forecaster
from rnnlab.tasks.forecast.model import Forecaster
from rnnlab.train.checkpoint import save_run

EMPTY = {"model": {}, "data": {}, "train": {}, "metrics": {}}


def test_a_run_from_the_old_layout_is_a_clear_error(tmp_path):
    """Runs from before the sectioned config.json (format 1, flat keys; the pre-ensemble
    single-model runs among them) say to train again, instead of loading half."""
    from safetensors.torch import save_file

    arch = dict(n_feat=0, n_future=0, horizon=3, season=2, hidden=8)
    run = tmp_path / "old"
    run.mkdir()
    save_file(Forecaster(**arch).state_dict(), str(run / "model.safetensors"))
    old = {"task": "forecast", "arch": arch, "lookback": 6, "format_version": 1}
    (run / "config.json").write_text(json.dumps(old))
    with pytest.raises(CheckpointError, match="old layout.*rnnlab forecast train"):
        load_forecaster(run)


def test_loading_another_tasks_run_is_a_checkpoint_error(tmp_path):
    save_run(tmp_path / "lm", {"w": torch.zeros(1)}, {"task": "lm", **EMPTY})
    with pytest.raises(CheckpointError, match="'lm' model"):
        load_forecaster(tmp_path / "lm")


def test_a_config_without_the_architecture_is_named(tmp_path):
    save_run(tmp_path / "r", {"w": torch.zeros(1)}, {"task": "forecast", **EMPTY})
    with pytest.raises(CheckpointError, match="lacks the model architecture"):
        load_forecaster(tmp_path / "r")
