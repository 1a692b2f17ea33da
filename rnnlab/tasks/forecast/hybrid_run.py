"""The ES-RNN hybrid as a run: ``forecast train --model esrnn`` writes it, ``forecast
predict`` reads it (``config.json`` says ``"kind": "esrnn"``).

The run holds each part's network (``part{k}.`` keys) and, in the config, its options, its
conformal widths and per-series spreads; the ES part has no weights: it is refit on the
history of every forecast, so predicting from a longer CSV needs no retraining.

>>> train_hybrid(ss, "runs/h", horizon=18)                       # doctest: +SKIP
>>> print(hybrid_predict(load_hybrid("runs/h"), ss))             # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnlab.data.series import SeriesSet
from rnnlab.errors import CheckpointError
from rnnlab.tasks.forecast import baselines as bl
from rnnlab.tasks.forecast.config import TASK
from rnnlab.tasks.forecast.hybrid import ESRNN, HybridEnsemble, HybridNet
from rnnlab.train.checkpoint import load_run, load_weights_into, save_run
from rnnlab.train.run import guard_out

KIND = "esrnn"
_STATE = ("widths", "spread", "cal_mae", "notes")  # fitted, in the config
_SKIP = ("net",) + _STATE


def train_hybrid(
    ss: SeriesSet, out: str | Path, *, horizon: int, source: dict[str, Any] | None = None,
    **options: Any,
) -> dict[str, Any]:  # fmt: skip
    """Fit the hybrid on every series of ``ss`` (one network) and save it to ``out``."""
    out = Path(out)
    guard_out(out, TASK, resume=False)
    ens = HybridEnsemble.fit(
        [s.values for s in ss.series], [s.name for s in ss.series],
        horizon=horizon, season=ss.season, **options,
    )  # fmt: skip
    parts = []
    tensors: dict[str, torch.Tensor] = {}
    for k, p in enumerate(ens.parts):
        opts = {f.name: getattr(p, f.name) for f in dataclasses.fields(p) if f.name not in _SKIP}
        fitted = {"widths": p.widths.tolist(), "spread": p.spread, "cal_mae": p.cal_mae}
        parts.append({"options": opts, **fitted})
        tensors.update({f"part{k}.{n}": t for n, t in p.net.state_dict().items()})
    config = {
        "task": TASK,
        "model": {"kind": KIND, "parts": parts, "weighted": ens.weighted},
        "data": {"source": source or {}, "series": [s.name for s in ss.series],
                 "freq": ss.freq, "season": ss.season},
        "train": {"notes": ens.notes},
        "metrics": {},
    }  # fmt: skip
    save_run(out, tensors, config)
    return {"notes": ens.notes, "series": len(ss.series)}


def load_hybrid(run_dir: str | Path, tensors=None, cfg=None) -> HybridEnsemble:
    """The saved hybrid (a ``CheckpointError`` for another kind of run)."""
    if cfg is None:
        tensors, cfg = load_run(run_dir, task=TASK)
    m = cfg.get("model", {})
    if m.get("kind") != KIND:
        raise CheckpointError(f"{run_dir} is not an ES-RNN run (train it with --model esrnn)")
    parts = []
    for k, spec in enumerate(m["parts"]):
        p = ESRNN(**spec["options"])
        p.net = HybridNet(p.lookbacks, p.horizon, p.hidden, p.seed)
        sub = {n[len(f"part{k}.") :]: t for n, t in tensors.items() if n.startswith(f"part{k}.")}
        load_weights_into(p.net, sub, f"{run_dir}/model.safetensors")
        p.net.eval()
        p.widths = np.asarray(spec["widths"], float)
        p.spread, p.cal_mae = spec["spread"], spec["cal_mae"]
        parts.append(p)
    return HybridEnsemble(parts, m.get("weighted", True))


def hybrid_forecasts(ens: HybridEnsemble, ss: SeriesSet, horizon: int) -> list[bl.Forecast]:
    """Every series' forecast from its end, cut to ``horizon`` steps."""
    out = []
    for s in ss.series:
        fc = ens.forecast(s.values, s.name)
        out.append(bl.Forecast(*(getattr(fc, k)[:horizon] for k in bl.FIELDS)))
    return out
