"""ES-RNN-style hybrid: exponential smoothing per series, one RNN across all series.

Each series is deseasonalised and levelled by its ``ESState`` (``es.py``); an ensemble of
small LSTMs (different lookbacks and seeds) reads the normalised window and predicts the
normalised future as a correction to the flat ES forecast (the last level plus the seasonal
indices). The network is trained on the windows of every series of the set at once (global
training: a short series borrows the shapes of the long ones), with an L1 loss, which in
these units is the MASE the benchmark scores. Intervals are split-conformal: the errors of the
last origins before the end of the training part, each forecast made as at test time (its
``ESState`` fit on the history before the origin), pooled over series and steps after
dividing by each step's mean error.

>>> hy = ESRNN(horizon=6, season=1).fit([np.arange(60.0) + np.sin(np.arange(60.0))])  # doctest: +SKIP
>>> hy.forecast(np.arange(70.0)).mean.shape                                            # doctest: +SKIP
(6,)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from rnnlab.errors import InputError
from rnnlab.tasks.forecast import baselines as bl
from rnnlab.tasks.forecast.es import ESState
from rnnlab.train.loop import TrainConfig, run_steps
from rnnlab.train.threads import SMALL_MODEL_THREADS, cpu_threads

LEVELS = (0.8, 0.95)


class _Member(nn.Module):
    """LSTM over the last ``lookback`` steps + a linear map of the window (drift, season
    averages); both heads start at zero, so an untrained member is the ES forecast."""

    def __init__(self, lookback: int, horizon: int, hidden: int):
        super().__init__()
        self.lookback = lookback
        self.rnn = nn.LSTM(3, hidden, batch_first=True)
        self.head = nn.Sequential(nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, horizon))
        self.skip = nn.Linear(lookback, horizon)
        for layer in (self.head[-1], self.skip):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` (B, L + 2): the window (ESState.window), then drift and level z-score."""
        w, c = x[:, -self.lookback - 2 : -2], x[:, -2:]
        out, _ = self.rnn(torch.cat([w.unsqueeze(-1), c[:, None].expand(-1, w.shape[1], 2)], -1))
        return self.head(out[:, -1]) + self.skip(w)


class HybridNet(nn.Module):
    """The members; ``forward`` averages them over the longest lookback's window."""

    def __init__(self, lookbacks: list[int], horizon: int, hidden: int, seed: int):
        super().__init__()
        members = []
        for k, L in enumerate(lookbacks):
            torch.manual_seed(seed + k)
            members.append(_Member(L, horizon, hidden))
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([m(x) for m in self.members]).mean(0)

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Mean L1 of the members, each on its own slice of the batch (bagging)."""
        parts = zip(self.members, x.chunk(len(self.members)), y.chunk(len(self.members)))
        return torch.stack([_l1(m(xs), ys) for m, xs, ys in parts]).mean()


def _l1(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean absolute error over the observed (non-NaN) targets."""
    ok = ~torch.isnan(y)
    return (pred - torch.nan_to_num(y)).abs().mul(ok).sum() / ok.sum().clamp(min=1)


class _Windows:
    """Random training windows: a series drawn uniformly, then one of its origins."""

    def __init__(self, xs: list[np.ndarray], ys: list[np.ndarray], batch: int, seed: int):
        self.x = torch.tensor(np.concatenate(xs), dtype=torch.float32)
        self.y = torch.tensor(np.concatenate(ys), dtype=torch.float32)
        self.start = np.cumsum([0] + [len(x) for x in xs])[:-1]
        self.count = np.array([len(x) for x in xs])
        self.batch, self.rng = batch, np.random.default_rng(seed)

    def __next__(self) -> tuple[torch.Tensor, torch.Tensor]:
        i = self.rng.integers(0, len(self.count), self.batch)
        j = torch.from_numpy(self.start[i] + self.rng.integers(0, self.count[i]))
        return self.x[j], self.y[j]


def hybrid_lookbacks(horizon: int, season: int, members: int) -> list[int]:
    """Members read 1x, 1.5x, 2x of max(2 seasons, 1.5 horizons, 8) steps, in turn.

    >>> hybrid_lookbacks(18, 12, 5)
    [27, 40, 54, 27, 40]
    >>> hybrid_lookbacks(6, 1, 3)
    [16, 24, 32]
    """
    L = max(2 * season, math.ceil(1.5 * horizon), 16)
    return [round(L * (1.0, 1.5, 2.0)[k % 3]) for k in range(members)]


@dataclass
class ESRNN:
    """The hybrid forecaster: ``fit`` on a list of histories, then ``forecast`` any of them
    (or a new series of the same frequency) from its end.

    >>> hy = ESRNN(horizon=3, season=4, steps=50, members=2)
    >>> y = 10 + np.tile([0.0, 1.0, 2.0, 1.0], 12)
    >>> np.allclose(hy.fit([y]).forecast(y).mean, y[:3], atol=0.3)
    True
    """

    horizon: int
    season: int = 1
    members: int = 3  # per ES fit: HybridEnsemble's two hybrids hold 6
    hidden: int = 32
    steps: int = 400
    refit_steps: int = 100
    batch: int = 64  # per member
    lr: float = 3e-3
    weight_decay: float = 0.01
    seed: int = 0
    threads: int = SMALL_MODEL_THREADS
    # Holt's parameters fit to one-step or horizon-step errors, or a fixed drift
    es_fit: str = "one-step"
    calib_origins: int | None = None  # per series (None: 12), fewer for a short series
    net: HybridNet | None = field(default=None, repr=False)
    widths: np.ndarray | None = field(default=None, repr=False)  # (2, H) network units
    spread: dict[str, float] = field(default_factory=dict, repr=False)  # per series
    cal_mae: dict[str, float] = field(default_factory=dict, repr=False)  # per series
    notes: list[str] = field(default_factory=list)

    @property
    def lookbacks(self) -> list[int]:
        return hybrid_lookbacks(self.horizon, self.season, self.members)

    def min_length(self) -> int:
        """The shortest history it forecasts: one season (3 points at least) + horizon."""
        return max(self.season, 3) + self.horizon

    def _check(self, n: int, name: str) -> None:
        if n < self.min_length():
            raise InputError(
                f"series {name!r} has {n} points, fewer than one season + horizon = "
                f"{max(self.season, 3)} + {self.horizon}: no method can be fit and checked "
                "on it; use a smaller --horizon or a longer series"
            )

    def fit(self, histories: list[np.ndarray], names: list[str] | None = None) -> ESRNN:
        """Train on every window of every history (global), calibrate, fine-tune on all.

        Each history's last points (``calib_origins`` + horizon - 1, fewer when it is
        short) are held out for the conformal calibration, then trained on too."""
        if self.horizon < 1:
            raise InputError(f"--horizon must be >= 1, got {self.horizon}")
        names = names or [str(i) for i in range(len(histories))]
        hs = [np.asarray(h, float) for h in histories]
        for h, nm in zip(hs, names):
            self._check(len(h), nm)
        H, t0 = self.horizon, max(self.season, 3)
        C = self.calib_origins or 12
        K = [min(C + H - 1, len(h) - t0 - 1) for h in hs]  # held-out points per series
        short = [len(h) for h in hs if len(h) < max(self.lookbacks) + H + C]
        if short:
            self.notes.append(
                f"{len(short)} short series (down to {min(short)} points): windows "
                f"left-padded to lookbacks {sorted(set(self.lookbacks))}, partial targets, "
                f"down to {min(K)} calibration points"
            )
        with cpu_threads(self.threads):
            self.net = HybridNet(self.lookbacks, H, self.hidden, self.seed)
            self._train([h[: len(h) - k] for h, k in zip(hs, K)], self.steps, self.lr, self.seed)
            self.widths = self._calibrate(hs, K, names)
            self._train(hs, self.refit_steps, self.lr / 3, self.seed + 1)
        return self

    def _train(self, hs: list[np.ndarray], steps: int, lr: float, seed: int) -> None:
        if not steps:
            return
        L, H, t0 = max(self.lookbacks), self.horizon, max(self.season, 3)
        xs, ys = [], []
        for h in hs:
            st = self._state(h)
            origins = range(min(t0, len(h) - 1), len(h))  # >= 1 future point each
            xs.append(np.stack([st.window(t, L) for t in origins]))
            ys.append(np.stack([st.target(t, H) for t in origins]))
        data = _Windows(xs, ys, self.batch * self.members, seed)
        cfg = TrainConfig(steps=steps, lr=lr, weight_decay=self.weight_decay, warmup=0)
        run_steps(self.net, cfg, data, lambda b: (self.net.loss(*b), 0))

    def _state(self, y: np.ndarray) -> ESState:
        return ESState.fit(
            y, self.season, self.horizon if self.es_fit == "horizon" else 1, self.es_fit == "drift"
        )

    def _calibrate(self, hs: list[np.ndarray], K: list[int], names: list[str]) -> np.ndarray:
        """Split conformal: the forecasts from the held-out origins of each history (each
        from an ``ESState`` fit on the points before it, as at test time), their errors on
        the steps observed, divided by the series' and the step's typical error (a
        product: ``spread[name] * g[step]``) and pooled; the widths are ``g`` times the
        pooled quantiles, and each series' intervals are scaled by its ``spread``."""
        H = self.horizon
        per = []
        for h, k in zip(hs, K):
            rows = []
            for t in range(len(h) - k, len(h)):
                st = self._state(h[:t])
                rows.append(np.abs(st.target(t, H, h) - self._net_out(st, t)))
            per.append(np.stack(rows))  # (origins, H) in network units, NaN unobserved
        a = np.array([max(float(np.nanmean(e)), 1e-6) for e in per])
        self.cal_mae = dict(zip(names, a.tolist()))
        # halfway (geometrically) to the set's typical spread: a dozen origins of one series
        # say little about its tails; geometric mean 1, so a new series gets 1
        a = np.sqrt(a / np.exp(np.mean(np.log(a))))
        self.spread = dict(zip(names, a.tolist()))
        e = np.concatenate([x / ai for x, ai in zip(per, a)])
        seen = ~np.isnan(e).all(0)
        g = np.full(H, np.nan)
        g[seen] = np.maximum(np.nanmean(e[:, seen], 0), 1e-6)  # each step's typical error
        j = int(np.flatnonzero(seen)[-1])  # steps never observed: sqrt growth from the last
        g[~seen] = g[j] * np.sqrt((np.arange(H)[~seen] + 1) / (j + 1))
        r = (e / g)[~np.isnan(e)]
        n = len(r)
        qs = [np.quantile(r, min(1.0, math.ceil((n + 1) * lv) / n)) for lv in LEVELS]
        return np.stack([q * g for q in qs])

    def _net_out(self, st: ESState, t: int) -> np.ndarray:
        with torch.no_grad():
            x = torch.tensor(st.window(t, max(self.lookbacks)), dtype=torch.float32)
            return self.net(x[None])[0].numpy().astype(float)

    def forecast(self, y: np.ndarray, name: str = "series") -> bl.Forecast:
        """Point forecast and conformal 80%/95% intervals from the end of ``y``."""
        if self.net is None:
            raise InputError("the hybrid is not trained: call fit() first")
        y = np.asarray(y, float)
        self._check(len(y), name)
        st = self._state(y)
        with cpu_threads(self.threads):
            z = self._net_out(st, len(y))
        w80, w95 = self.widths * self.spread.get(name, 1.0)
        ends = [st.restore(z + s * w, len(y)) for w in (w80, w95) for s in (-1, 1)]
        return bl.Forecast(st.restore(z, len(y)), *ends)


@dataclass
class HybridEnsemble:
    """Hybrids whose ES parts are fit differently (one-step and horizon-step errors), their
    forecasts averaged (quantile by quantile): two views of the trend, one network each.

    >>> ens = HybridEnsemble.fit([y], horizon=3, season=4, steps=50)  # doctest: +SKIP
    """

    parts: list[ESRNN]
    weighted: bool = True  # each part weighted by 1 / its calibration MAE on the series

    @classmethod
    def fit(
        cls,
        histories: list[np.ndarray],
        names: list[str] | None = None,
        es_fits: tuple[str, ...] = ("one-step", "horizon"),
        weighted: bool = True,
        **options: Any,
    ) -> HybridEnsemble:
        seed = options.pop("seed", 0)
        parts = [
            ESRNN(**options, es_fit=f, seed=seed + 100 * k).fit(histories, names)
            for k, f in enumerate(es_fits)
        ]
        return cls(parts, weighted)

    @property
    def notes(self) -> list[str]:
        return self.parts[0].notes

    @property
    def lookbacks(self) -> list[int]:
        return self.parts[0].lookbacks

    def forecast(self, y: np.ndarray, name: str = "series") -> bl.Forecast:
        fcs = [p.forecast(y, name) for p in self.parts]
        w = np.array([1 / p.cal_mae.get(name, 1.0) for p in self.parts])
        w = w / w.sum() if self.weighted else np.full(len(w), 1 / len(w))
        return bl.Forecast(*(np.tensordot(w, [getattr(f, k) for f in fcs], 1) for k in bl.FIELDS))
