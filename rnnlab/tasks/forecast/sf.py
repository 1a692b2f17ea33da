"""Nixtla's statsforecast models as reference baselines: AutoARIMA, AutoETS, AutoTheta and
SeasonalNaive (the M4 reference implementations), with their 80%/95% prediction intervals.

statsforecast is imported on first use (its import takes a few seconds); each call fits the
model on the history and forecasts ``h`` steps, as the other baselines do.

>>> sf_forecast("SeasonalNaive", np.tile([1.0, 2.0, 3.0], 4), 3, 3).mean  # doctest: +SKIP
array([1., 2., 3.])
"""

from __future__ import annotations

import warnings

import numpy as np

from rnnlab.errors import InputError
from rnnlab.tasks.forecast.baselines import Forecast

SF_METHODS = ("AutoARIMA", "AutoETS", "AutoTheta", "SeasonalNaive")


def sf_model(name: str, m: int):
    """The statsforecast model ``name`` for season length ``m``."""
    if name not in SF_METHODS:
        raise InputError(f"unknown statsforecast model {name!r}: choose from {SF_METHODS}")
    from statsforecast import models

    return getattr(models, name)(season_length=max(1, m))


def sf_forecast(name: str, y: np.ndarray, h: int, m: int) -> Forecast:
    """Fit statsforecast's ``name`` on ``y`` and forecast ``h`` steps with 80/95% intervals.

    A season longer than a third of the history is dropped (the models need a few full
    seasons to estimate one), as rnnlab's own baselines do.
    """
    y = np.asarray(y, float)
    m = m if 1 < m and len(y) >= 2 * m + 1 else 1
    if name == "SeasonalNaive" and len(y) <= m:
        m = 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = sf_model(name, m).forecast(y=y, h=h, level=[80, 95])
    return Forecast(
        *(np.asarray(r[k], float) for k in ("mean", "lo-80", "hi-80", "lo-95", "hi-95"))
    )
