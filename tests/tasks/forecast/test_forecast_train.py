"""Training: intervals and floors of a trained run, the run's config.json (sections, settings,
split), the refit through the shared loop, and the run directory guard."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from fc_helpers import series_set as _series_set
from fc_helpers import synthetic as _synthetic

from rnnlab.errors import InputError
from rnnlab.tasks.forecast import baselines as bl
from rnnlab.tasks.forecast.config import ForecastModel, ForecastTrain
from rnnlab.tasks.forecast.data import WindowBatches, prepare, windows
from rnnlab.tasks.forecast.infer import load_forecaster, rnn_forecast
from rnnlab.tasks.forecast.model import ForecastEnsemble, Forecaster, members_loss
from rnnlab.tasks.forecast.train import refit, train_forecaster
from rnnlab.train.checkpoint import save_run

SMALL = dict(members=3, hidden=16, steps=200, refit_steps=20)


def test_intervals_cover_near_nominal_on_known_noise(tmp_path):
    """Season + N(0, 0.5^2) noise: on 150 origins after the training data the 80% and 95%
    intervals cover about 80% and 95% of the values, and the point forecast beats seasonal
    naive (which carries last season's noise on top of the new one)."""
    rng = np.random.default_rng(1)
    t = np.arange(560)
    y = 2 * np.sin(2 * np.pi * t / 12) + 0.5 * rng.normal(size=len(t))
    n = 400
    train_forecaster(_series_set(y[:n]), tmp_path / "run", horizon=6, progress=False, **SMALL)
    lf = load_forecaster(tmp_path / "run")
    ss = _series_set(y)
    p = prepare(ss, lf.config["data"]["scalers"], extra_cal=6)
    origins = range(n, len(y) - 6)
    errs = [bl.errors(y[o : o + 6], rnn_forecast(lf, ss, 0, o, p), 1.0) for o in origins]
    cov80, cov95, mae = (np.mean([e[k] for e in errs]) for k in ("cov80", "cov95", "MAE"))
    # a few dozen validation windows calibrate the widths: sampling error of several points
    assert 0.68 <= cov80 <= 0.9 and 0.87 <= cov95 <= 0.99, (cov80, cov95)
    sn = [bl.errors(y[o : o + 6], bl.seasonal_naive(y[:o], 6, 12), 1.0)["MAE"] for o in origins]
    assert mae < 0.97 * np.mean(sn), (mae, np.mean(sn))


def test_a_series_never_negative_is_forecast_never_negative(tmp_path):
    t = np.arange(200)
    y = np.maximum(0.0, 3 * np.sin(2 * np.pi * t / 12))  # zero half of the time, like counts
    ss = _series_set(y)
    train_forecaster(ss, tmp_path / "run", horizon=6, progress=False, members=2, steps=50)
    lf = load_forecaster(tmp_path / "run")
    assert lf.config["data"]["floor"] == {"y": 0.0}
    assert lf.config["data"]["scalers"]["target"]["y"][2]  # "auto" chose log1p for it
    p = prepare(ss, lf.config["data"]["scalers"], extra_cal=6)
    fcs = [rnn_forecast(lf, ss, 0, o, p) for o in range(60, 195)]
    assert min(fc.lo95.min() for fc in fcs) == 0.0  # clipped, not below
    assert np.mean([fc.hi95.max() for fc in fcs]) > 2.0  # the upper ends are untouched


def test_the_run_records_its_settings_and_split(tmp_path):
    y = _synthetic(120)
    s = train_forecaster(
        _series_set(y), tmp_path / "run", horizon=4, progress=False, members=2, hidden=8,
        steps=20, refit_steps=5, val_size=15, lookback=12,
    )  # fmt: skip
    assert set(s) == {"run_dir", "steps", "elapsed", "stop_reason", "best", "metrics",
                      "averaged_from", "notes"}  # fmt: skip
    assert s["steps"] == 20 and math.isfinite(s["best"])
    cfg = json.loads((tmp_path / "run" / "config.json").read_text())
    assert set(cfg) == {"task", "model", "data", "train", "metrics", "versions", "weights_sha256"}
    assert cfg["data"]["split"] == {
        "val_size": 15, "train_end": {"y": 105}, "length": {"y": 120}, "first_origin": 18,
    }  # fmt: skip
    assert cfg["data"]["notes"] == []  # long enough: no fallback
    m = ForecastModel.from_dict(cfg["model"]["settings"])
    assert (m.horizon, m.members, m.hidden, m.lookback) == (4, 2, 8, 12)
    t = ForecastTrain.from_dict(cfg["train"])
    assert (t.steps, t.refit_steps, t.val_size) == (20, 5, 15)
    assert cfg["model"]["members"] == [12, 18] and cfg["model"]["lookback"] == 18
    assert cfg["metrics"]["step"] > 0 and "val_loss" in cfg["metrics"]
    # the validation MAE of forecast.json comes from the recorded split: 105..116 -> 12 origins
    fj = json.loads((tmp_path / "run" / "forecast.json").read_text())
    assert len(fj["series"][0]["val_mae"]["rnn"]) == 4


def test_unknown_options_and_another_tasks_run_are_refused(tmp_path):
    ss = _series_set(_synthetic(120))
    with pytest.raises(InputError, match="unknown training option.*embedding"):
        train_forecaster(ss, tmp_path / "a", horizon=4, embedding=3)
    empty = {"model": {}, "data": {}, "train": {}, "metrics": {}}
    save_run(tmp_path / "lm", {"w": torch.zeros(1)}, {"task": "lm", **empty})
    with pytest.raises(InputError, match="holds a 'lm' run"):
        train_forecaster(ss, tmp_path / "lm", horizon=4, steps=2)


def _old_refit(model, data, steps, lr, weight_decay):
    """The private loop refit had before it used ``rnnlab.train.loop.run_steps``."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.99), weight_decay=weight_decay)
    model.train()
    for k in range(steps):
        for g in opt.param_groups:
            g["lr"] = lr * 0.5 * (1 + math.cos(math.pi * k / steps))
        loss = members_loss(model, next(data))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    model.eval()


def test_refit_through_the_shared_loop_takes_the_same_steps_as_before():
    y = _synthetic(80)
    ss = _series_set(y)
    p = prepare(ss, {"target": {"y": [10.0, 2.0, False]}, "cov": {"y": []}})
    origins = windows([80], 16, 4)

    def ensemble():
        torch.manual_seed(0)
        n_feat, n_future = p.feats[0].shape[1], p.cal[0].shape[1]
        return ForecastEnsemble(
            [Forecaster(n_feat, n_future, 4, season=12, hidden=8, lookback=L) for L in (12, 16)]
        )

    a, b = ensemble(), ensemble()
    t = ForecastTrain(refit_steps=7, batch=4)
    refit(a, p, origins, t, seed=3)
    _old_refit(b, WindowBatches(p, origins, 16, 4, 8, 3), 7, t.refit_lr, t.weight_decay)
    assert not a.training
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values()):
        torch.testing.assert_close(va, vb, rtol=0, atol=0, msg=k)
    moved = ensemble()
    assert any(not torch.equal(x, z) for x, z in zip(a.parameters(), moved.parameters()))
