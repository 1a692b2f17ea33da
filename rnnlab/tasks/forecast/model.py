"""The forecasting model: encoder RNN + direct multi-horizon head on top of seasonal naive.

The head predicts a *correction* to the seasonal naive forecast of the window (the last
season repeated), plus a linear map of the window (averaging seasons, a trend), and the RNN
sees the window relative to its last value, so the model starts from the baseline it must
beat. It reads the level itself only when the series does not drift (``data.drifts``).
Direct rather than autoregressive: no error feedback through the horizon, one forward pass,
and intervals come out calibrated per step instead of from sampling.

A run is an ensemble (``ForecastEnsemble``) of small members with different seeds, training
windows and lookbacks (1x, 1.5x, 2x), whose quantiles are averaged: on a few hundred points
the variance of one network is the largest error.

>>> m = Forecaster(n_feat=0, n_future=0, horizon=3, season=2, hidden=8)
>>> m(torch.zeros(4, 6), torch.zeros(4, 6, 0), torch.zeros(4, 3, 0)).shape
torch.Size([4, 3, 5])
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from rnnlab.core import make_rnn
from rnnlab.errors import InputError

QUANTILES = (0.025, 0.1, 0.5, 0.9, 0.975)  # median + the 80% and 95% interval ends


class Forecaster(nn.Module):
    """Encoder RNN + direct multi-horizon quantile/Gaussian head on top of seasonal naive.

    ``lookback`` > 0 makes the model read only the last ``lookback`` steps of its input, so
    members of an ensemble with different lookbacks share one input window.

    >>> m = Forecaster(n_feat=0, n_future=0, horizon=3, season=2, hidden=8)
    >>> m(torch.zeros(4, 6), torch.zeros(4, 6, 0), torch.zeros(4, 3, 0)).shape
    torch.Size([4, 3, 5])
    """

    def __init__(
        self,
        n_feat: int,
        n_future: int,
        horizon: int,
        season: int = 1,
        hidden: int = 64,
        layers: int = 1,
        cell: str = "gru",
        dropout: float = 0.0,
        head: str = "quantile",
        lookback: int = 0,
        level: bool = True,
        linear: bool = False,
    ):
        super().__init__()
        if head not in ("quantile", "gaussian"):
            raise InputError(f"unknown --head {head!r}: use quantile or gaussian")
        self.horizon, self.season, self.head_kind = horizon, season, head
        self.lookback, self.dropout, self.level = lookback, dropout, level
        self.n_out = len(QUANTILES) if head == "quantile" else 2
        # inputs per step: target relative to the window's last value, the target itself
        # (scaled; ``level=False`` leaves it out: translation-invariant), features
        self.rnn = make_rnn(
            cell, 1 + level + n_feat, hidden, layers, dropout=dropout, batch_first=True
        )
        self.head = nn.Sequential(
            nn.Linear(hidden + level + n_future * horizon, hidden),
            nn.GELU(),
            nn.Linear(hidden, horizon * self.n_out),
        )
        # linear: a linear map of the window added to the median (LSTNet's autoregressive
        # part): averaging seasons or extracting a trend is one layer, not a learned recurrence
        self.linear = nn.Linear(lookback, horizon) if linear and lookback else None
        for layer in (self.head[-1], self.linear):
            if layer is not None:  # start exactly at the seasonal naive forecast
                nn.init.zeros_(layer.weight)
                nn.init.zeros_(layer.bias)

    def base(self, y: torch.Tensor) -> torch.Tensor:
        """Seasonal naive forecast of each window (naive when the season does not fit)."""
        L, m = y.shape[1], self.season
        steps = torch.arange(self.horizon, device=y.device)
        if 1 < m <= L:
            return y[:, L - m + steps % m]
        return y[:, -1:].expand(-1, self.horizon)

    def forward(self, y: torch.Tensor, feats: torch.Tensor, fut: torch.Tensor) -> torch.Tensor:
        """``y`` (B,L) scaled target, ``feats`` (B,L,F), ``fut`` (B,H,K) -> (B,H,n_out)."""
        if self.lookback:
            y, feats = _tail(y, self.lookback), _tail(feats, self.lookback)
        last = y[:, -1:]
        lv = [y.unsqueeze(-1)] if self.level else []
        out, _ = self.rnn(torch.cat([(y - last).unsqueeze(-1), *lv, feats], -1))
        z = torch.cat([out[:, -1], *([last] if self.level else []), fut.flatten(1)], 1)
        z = F.dropout(z, self.dropout, self.training)
        o = self.head(z).view(-1, self.horizon, self.n_out)  # -1, not len(y): exportable
        mid = self.base(y) + o[..., 0]
        if self.linear is not None:
            mid = mid + self.linear(y - last)
        if self.head_kind == "gaussian":
            return torch.stack([mid, F.softplus(o[..., 1] - 1) + 1e-3], -1)
        # monotone quantiles: median, then softplus steps outwards (never crossing)
        d = F.softplus(o[..., 1:] - 1) + 1e-4
        lo1 = mid - d[..., 1]
        hi1 = mid + d[..., 2]
        return torch.stack([lo1 - d[..., 0], lo1, mid, hi1, hi1 + d[..., 3]], -1)


def _tail(x: torch.Tensor, n: int) -> torch.Tensor:
    """The last ``n`` steps of ``x`` (B, T, ...), a shorter ``x`` left-padded with its first
    step: no branch on the length, so a traced (ONNX) graph takes any length too.

    >>> _tail(torch.tensor([[1.0, 2.0]]), 4)
    tensor([[1., 1., 1., 2.]])
    """
    first = x[:, :1].expand(-1, n, *x.shape[2:])
    return torch.cat([first, x], 1)[:, -n:]


class ForecastEnsemble(nn.Module):
    """Members trained on different windows (and lookbacks), combined quantile by quantile.

    Averaging the members' quantiles keeps them ordered; ``scale`` is the interval
    calibration, moving each interval end to ``median + s * (end - median)`` (the standard
    deviation times ``s`` for the Gaussian head).

    >>> e = ForecastEnsemble([Forecaster(0, 0, 3, season=2, hidden=8) for _ in range(3)])
    >>> e(torch.zeros(4, 6), torch.zeros(4, 6, 0), torch.zeros(4, 3, 0)).shape
    torch.Size([4, 3, 5])
    """

    def __init__(self, members: list[Forecaster]):
        super().__init__()
        self.members = nn.ModuleList(members)
        self.head_kind = members[0].head_kind
        self.register_buffer("scale", torch.ones(members[0].n_out))

    def forward(self, y: torch.Tensor, feats: torch.Tensor, fut: torch.Tensor) -> torch.Tensor:
        """Same inputs and output as ``Forecaster.forward``; ``y`` holds the longest lookback."""
        out = torch.stack([m(y, feats, fut) for m in self.members]).mean(0)
        if self.head_kind == "gaussian":
            return out * self.scale
        mid = out[..., 2:3]
        return mid + self.scale * (out - mid)


def forecast_loss(out: torch.Tensor, target: torch.Tensor, head: str) -> torch.Tensor:
    """Pinball loss over the quantiles, or the Gaussian negative log-likelihood."""
    if head == "gaussian":
        return F.gaussian_nll_loss(out[..., 0], target, out[..., 1] ** 2, full=True)
    return _pinball(out, target.unsqueeze(-1), torch.tensor(QUANTILES, device=out.device))


def members_loss(model: ForecastEnsemble, batch: list[torch.Tensor]) -> torch.Tensor:
    """Mean loss of the members, each on its own slice of the batch (bagging, not copies)."""
    parts = zip(*(x.chunk(len(model.members)) for x in batch))
    losses = [
        forecast_loss(m(y, f, c), t, m.head_kind) for m, (y, f, c, t) in zip(model.members, parts)
    ]
    return torch.stack(losses).mean()


def calibration_scale(out: torch.Tensor, target: torch.Tensor, head: str) -> torch.Tensor:
    """One multiplier of the interval widths, fit on held-out windows: the one with the
    lowest pinball loss of the four interval ends (quantile head), or the maximum-likelihood
    rescaling of the standard deviation (Gaussian head).

    A single multiplier pools every window and step (the empirical 95% quantile of a few
    dozen validation windows, split conformal's estimate, moves a lot from draw to draw);
    the model keeps the shape of its intervals: how they widen with the step, and 80 vs 95.

    >>> out = torch.tensor([-2.0, -1.28, 0.0, 1.28, 2.0]).expand(4000, 1, 5)
    >>> float(calibration_scale(out, 2 * torch.randn(4000, 1), "quantile")[0])  # doctest: +SKIP
    2.0...
    """
    t = target.reshape(-1, 1)
    out = out.reshape(-1, out.shape[-1])
    if head == "gaussian":
        s = float(((t[:, 0] - out[:, 0]) / out[:, 1]).pow(2).mean().sqrt())
        return torch.tensor([1.0, s])
    mid, ends = out[:, 2:3], out[:, [0, 1, 3, 4]]
    q = torch.tensor(QUANTILES)[[0, 1, 3, 4]]
    grid = torch.logspace(-1, 1, 241)  # 0.1 .. 10
    loss = [_pinball(mid + s * (ends - mid), t, q) for s in grid]
    s = float(grid[int(torch.stack(loss).argmin())])
    return torch.tensor([s, s, 1.0, s, s])


def _pinball(pred: torch.Tensor, t: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    e = t - pred
    return torch.maximum(q * e, (q - 1) * e).mean()
