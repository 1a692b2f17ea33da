"""The exponential-smoothing half of the ES-RNN hybrid: per series, a log (positive series),
classical seasonal indices, Holt's damped-trend level and trend, and a scale.

The RNN (``hybrid.py``) never sees raw values: it reads a window of the deseasonalised series
minus the trend line through the level at the origin, divided by the scale (the in-sample MAE
of one-step changes), and predicts the future as a correction to the ES forecast in the same
units; ``ESState.restore`` maps that back. Every series of a set then lives on one scale, so
one network learns from all of them (Smyl's M4 winner learns the smoothing with the network;
here it is fit per series by a grid search, which keeps it cheap and checkable by hand).

>>> st = ESState.fit(np.tile([1.0, 2.0, 3.0, 2.0], 6) + 10, m=4)
>>> np.round(st.seasonal, 3)                     # log seasonal indices, sum to 0
array([-0.085,  0.002,  0.082,  0.002])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def seasonal_indices(x: np.ndarray, m: int) -> np.ndarray:
    """Classical additive decomposition: the mean of ``x`` minus its centred moving average
    at each phase ``t % m``, centred to sum 0 (zeros when there is no season or under two
    seasons of data). Phase ``j`` is position ``j`` of ``x``.

    >>> seasonal_indices(np.array([1.0, 3.0, 1.0, 3.0, 1.0, 3.0]), 2)
    array([-1.,  1.])
    """
    x = np.asarray(x, float)
    if m <= 1 or len(x) < 2 * m:
        return np.zeros(max(m, 1))
    if m % 2:
        ma = np.convolve(x, np.ones(m) / m, mode="valid")
        off = m // 2
    else:  # 2 x m moving average: centred on a point for an even season
        w = np.r_[0.5, np.ones(m - 1), 0.5] / m
        ma = np.convolve(x, w, mode="valid")
        off = m // 2
    det = x[off : off + len(ma)] - ma
    phase = (np.arange(len(ma)) + off) % m
    s = np.array([det[phase == j].mean() for j in range(m)])
    return s - s.mean()


def holt(
    d: np.ndarray, alpha: np.ndarray, beta: np.ndarray, phi: np.ndarray, b0: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Holt's damped-trend smoothing, for every parameter triple at once (arrays of one
    shape): ``l_t = a d_t + (1-a)(l_{t-1} + phi b_{t-1})``,
    ``b_t = beta (l_t - l_{t-1}) + (1-beta) phi b_{t-1}``, ``l_0 = d_0``, ``b_0 = b0``.
    Returns the levels and trends (n, *shape) and the one-step sum of squared errors.

    >>> lv, tr, sse = holt(np.array([1.0, 3.0, 3.0]), np.array(0.5), np.array(0.0),
    ...                    np.array(1.0), 0.0)
    >>> lv.tolist(), float(sse)
    ([1.0, 2.0, 2.5], 5.0)
    """
    d = np.asarray(d, float)
    shape = np.shape(alpha)
    a, bt, ph = (np.broadcast_to(x, shape).ravel() for x in (alpha, beta, phi))
    keep = (1 - bt) * ph  # the share of the old trend kept
    levels, trends = np.empty((len(d), a.size)), np.empty((len(d), a.size))
    lv, tr, sse = np.full(a.size, d[0]), np.full(a.size, float(b0)), np.zeros(a.size)
    levels[0], trends[0] = lv, tr
    for t in range(1, len(d)):  # flat arrays, few temporaries: this loop is predict's cost
        pred = lv + ph * tr
        err = d[t] - pred
        sse += err * err
        new = pred + a * err  # = a d_t + (1 - a) pred
        tr = bt * (new - lv) + keep * tr
        lv = new
        levels[t], trends[t] = lv, tr
    return levels.reshape(len(d), *shape), trends.reshape(len(d), *shape), sse.reshape(shape)


# the grid Holt's parameters are picked from (one-step SSE); beta = 0 and phi = 1 is a
# fixed drift: the mean step of the history
GRID = np.meshgrid(
    np.linspace(0.05, 1.0, 20),
    np.array([0.0, 0.01, 0.03, 0.1, 0.2]),
    np.array([0.9, 0.98, 1.0]),
)


def fit_holt(
    d: np.ndarray, horizon: int = 1, drift: bool = False
) -> tuple[np.ndarray, np.ndarray, tuple[float, float, float]]:
    """The levels and trends of the ``GRID`` triple whose forecasts from every past origin
    have the lowest mean absolute error over 1..``horizon`` steps ahead (multi-step fit: a
    trend that wins one step ahead but overshoots over the horizon loses here), and it;
    ``drift``: only the triples of a fixed drift (beta 0, phi 1)."""
    d = np.asarray(d, float)
    b0 = float((d[-1] - d[0]) / (len(d) - 1)) if len(d) > 1 else 0.0
    grid = GRID
    if drift:
        keep = (GRID[1] == 0) & (GRID[2] == 1)
        grid = [g[keep] for g in GRID]
    lv, tr, _ = holt(d, *grid, b0)
    phi = grid[2]
    loss, cum = np.zeros(phi.shape), np.zeros(phi.shape)
    for h in range(1, min(horizon, len(d) - 1) + 1):
        cum = cum + phi**h
        dh = d[h:].reshape(-1, *([1] * phi.ndim))
        loss = loss + np.abs(dh - lv[:-h] - tr[:-h] * cum).mean(0)
    k = np.unravel_index(int(np.argmin(loss)), loss.shape)
    return lv[(slice(None), *k)], tr[(slice(None), *k)], tuple(float(g[k]) for g in grid)


@dataclass
class ESState:
    """One series' ES part, fit on its history ``y`` (positions 0..n-1)."""

    log: bool
    m: int
    seasonal: np.ndarray  # (m,) on the transformed scale, phase = position % m
    params: tuple[float, float, float]  # Holt's alpha, beta, phi
    level: np.ndarray  # (n,) the smoothed deseasonalised level at every position
    trend: np.ndarray  # (n,) its trend per step
    d: np.ndarray  # (n,) the deseasonalised, transformed series
    scale: float  # mean |d_t - d_{t-1}|: the unit the network works in

    @classmethod
    def fit(cls, y: np.ndarray, m: int, horizon: int = 1, drift: bool = False) -> ESState:
        """Log when every value is positive; seasonal indices; Holt's level and trend
        (parameters fit to the ``horizon``-step errors; ``drift``: a fixed drift)."""
        y = np.asarray(y, float)
        log = bool(y.min() > 0)
        x = np.log(y) if log else y
        s = seasonal_indices(x, m)
        d = x - s[np.arange(len(x)) % len(s)]
        lv, tr, params = fit_holt(d, horizon, drift)
        scale = float(np.mean(np.abs(np.diff(d)))) if len(d) > 1 else 0.0
        if not scale > 0:
            scale = max(float(np.abs(d).mean()), 1e-8)
        return cls(log, m, s, params, lv, tr, d, scale)

    def window(self, t: int, L: int) -> np.ndarray:
        """The network's input for origin ``t`` (forecasting positions t, t+1, ...): the
        ``L`` points before it minus the drift line through the level at ``t - 1``, over the
        scale, then the drift over the scale and the level's z-score in the history (where
        it stands against its usual values: mean reversion); a history shorter than ``L`` is left-padded
        with its first value (short series are never refused)."""
        w = self.d[max(0, t - L) : t]
        w = np.r_[np.full(L - len(w), w[0]), w]
        b = self.trend[t - 1]
        line = self.level[t - 1] + b * np.arange(1 - L, 1)
        past = self.d[:t]
        zlev = (self.level[t - 1] - past.mean()) / max(float(past.std()), 1e-8)
        return np.r_[(w - line) / self.scale, b / self.scale, zlev]

    def base(self, t: int, H: int) -> np.ndarray:
        """The ES forecast from origin ``t`` on the deseasonalised scale: the level plus
        the damped trend, ``l + b (phi + ... + phi^h)``."""
        phi = self.params[2]
        return self.level[t - 1] + self.trend[t - 1] * np.cumsum(phi ** np.arange(1, H + 1))

    def target(self, t: int, H: int, y: np.ndarray | None = None) -> np.ndarray:
        """The normalised future ``H`` points from origin ``t`` (the training target): of the
        state's own series, or of ``y`` (the same series, longer: calibration); NaN past
        the end (a short series trains on the steps it has)."""
        if y is None:
            d = self.d[t : t + H]
        else:
            x = np.asarray(y[t : t + H], float)
            x = np.log(np.maximum(x, 1e-300)) if self.log else x
            d = x - self.seasonal[(t + np.arange(len(x))) % len(self.seasonal)]
        z = (d - self.base(t, H)[: len(d)]) / self.scale
        return np.r_[z, np.full(H - len(z), np.nan)]

    def restore(self, z: np.ndarray, t: int) -> np.ndarray:
        """Network units back to the data's: ``z`` (..., H) forecast from origin ``t``."""
        H = np.shape(z)[-1]
        s = self.seasonal[(t + np.arange(H)) % len(self.seasonal)]
        x = self.base(t, H) + self.scale * np.asarray(z, float) + s
        return np.exp(x) if self.log else x
