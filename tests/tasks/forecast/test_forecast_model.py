"""The model: seasonal naive at the start, ordered quantiles, the ensemble, the losses and
the interval calibration."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from fc_helpers import PERIOD

from rnnlab.errors import InputError
from rnnlab.tasks.forecast import baselines as bl
from rnnlab.tasks.forecast.model import (
    ForecastEnsemble,
    Forecaster,
    calibration_scale,
    forecast_loss,
)


def test_untrained_model_is_seasonal_naive_with_ordered_quantiles():
    torch.manual_seed(0)
    m = Forecaster(n_feat=0, n_future=0, horizon=6, season=4, hidden=8)
    y = torch.tensor(np.tile(PERIOD, 3), dtype=torch.float32)[None]
    out = m(y, torch.zeros(1, 12, 0), torch.zeros(1, 6, 0))[0]
    np.testing.assert_allclose(out[:, 2].detach().numpy(), PERIOD + PERIOD[:2], rtol=1e-6)
    assert torch.all(out[:, 1:] > out[:, :-1])


def test_pinball_loss_by_hand():
    out = torch.zeros(1, 1, 5)
    t = torch.ones(1, 1)
    # each quantile q under-predicts by 1: loss q, mean over the five quantiles
    assert float(forecast_loss(out, t, "quantile")) == pytest.approx(np.mean(bl_q()))


def bl_q():
    from rnnlab.tasks.forecast.model import QUANTILES

    return QUANTILES


def test_ensemble_averages_its_members_and_starts_at_seasonal_naive():
    torch.manual_seed(0)
    members = [Forecaster(0, 0, horizon=6, season=4, hidden=8, lookback=L) for L in (8, 12)]
    ens = ForecastEnsemble(members)
    y = torch.tensor(np.tile(PERIOD, 3), dtype=torch.float32)[None]
    args = (y, torch.zeros(1, 12, 0), torch.zeros(1, 6, 0))
    np.testing.assert_allclose(ens(*args)[0, :, 2].detach(), PERIOD + PERIOD[:2], rtol=1e-6)
    with torch.no_grad():
        members[1].head[-1].bias.fill_(0.5)  # move one member's forecast
    want = (members[0](*args) + members[1](*args)) / 2
    torch.testing.assert_close(ens(*args), want)
    assert torch.all(ens(*args)[0, :, 1:] > ens(*args)[0, :, :-1])  # still ordered


def test_member_lookback_reads_only_the_window_tail():
    torch.manual_seed(0)
    m = Forecaster(0, 0, horizon=2, season=1, hidden=8, lookback=4)
    with torch.no_grad():
        m.head[-1].bias.normal_()  # a trained-looking head, so the input matters
    y = torch.randn(3, 10)
    y2 = y.clone()
    y2[:, :6] = 99.0  # outside the last 4 steps
    f, c = torch.zeros(3, 10, 0), torch.zeros(3, 2, 0)
    torch.testing.assert_close(m(y, f, c), m(y2, f, c))


def test_calibration_scale_restores_nominal_coverage():
    """Intervals half as wide as they should be: calibrated on one sample of known noise,
    the 80% / 95% coverage on a fresh sample is nominal (and far below before)."""
    rng = np.random.default_rng(0)
    z = torch.tensor([-bl.Z95, -bl.Z80, 0.0, bl.Z80, bl.Z95], dtype=torch.float32)
    out = (0.5 * z).expand(4000, 1, 5)  # quantiles of N(0, 0.5^2), the noise is N(0, 1)
    cal, fresh = (torch.tensor(rng.normal(size=(4000, 1)), dtype=torch.float32) for _ in "ab")
    s = calibration_scale(out, cal, "quantile")
    assert s[1] == pytest.approx(2.0, rel=0.05) and s[0] == s[4] == s[1]

    def coverage(q):
        t = fresh[:, 0]
        return [
            float(((t >= q[:, 0, a]) & (t <= q[:, 0, b])).float().mean())
            for a, b in ((1, 3), (0, 4))
        ]

    assert coverage(out)[0] < 0.5
    cov80, cov95 = coverage(out[..., 2:3] + s * (out - out[..., 2:3]))
    assert cov80 == pytest.approx(0.8, abs=0.025) and cov95 == pytest.approx(0.95, abs=0.015)
    # the Gaussian head: the standard deviation rescaled
    g = torch.stack([torch.zeros(4000, 1), torch.full((4000, 1), 0.5)], -1)
    assert calibration_scale(g, cal, "gaussian")[1] == pytest.approx(2.0, rel=0.05)


def test_unknown_head():
    with pytest.raises(InputError, match="--head"):
        Forecaster(0, 0, 3, head="poisson")
