"""Classical forecasting baselines and the forecast error metrics.

Every method maps a history ``y`` (1-D) to a ``Forecast``: the point forecast and 80%/95%
prediction intervals for the next ``h`` steps. naive and seasonal naive use the textbook
interval formulas (Hyndman & Athanasopoulos, FPP3 §5.5); ARIMA and ETS come from statsmodels.

Example:
    >>> y = np.tile([1.0, 2.0, 3.0], 4)
    >>> seasonal_naive(y, 3, m=3).mean
    array([1., 2., 3.])
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

Z80, Z95 = 1.2815515655446004, 1.959963984540054
METRICS = ("MAE", "RMSE", "sMAPE", "MASE", "cov80", "cov95")
FIELDS = ("mean", "lo80", "hi80", "lo95", "hi95")  # of a Forecast, in order


@dataclass
class Forecast:
    mean: np.ndarray
    lo80: np.ndarray
    hi80: np.ndarray
    lo95: np.ndarray
    hi95: np.ndarray

    @classmethod
    def gaussian(cls, mean: np.ndarray, sd: np.ndarray) -> Forecast:
        mean, sd = np.asarray(mean, float), np.asarray(sd, float)
        return cls(mean, mean - Z80 * sd, mean + Z80 * sd, mean - Z95 * sd, mean + Z95 * sd)

    def clip(self, lo: float) -> Forecast:
        """Every value (point forecast and interval ends) raised to at least ``lo``.

        >>> Forecast.gaussian(np.zeros(1), np.ones(1)).clip(0.0).lo95
        array([0.])
        """
        return Forecast(*(np.maximum(getattr(self, k), lo) for k in FIELDS))


# ---- metrics ----


def mase_scale(y_train: np.ndarray, m: int) -> float:
    """In-sample MAE of the seasonal naive method (lag ``m``; lag 1 when the series is too short)."""
    y = np.asarray(y_train, float)
    m = m if len(y) > m else 1
    s = float(np.mean(np.abs(y[m:] - y[:-m])))
    return s if s > 0 else float("nan")


def smape(y: np.ndarray, f: np.ndarray) -> float:
    """Symmetric MAPE in percent, 0..200; a point where both are 0 counts as 0."""
    y, f = np.asarray(y, float), np.asarray(f, float)
    den = np.abs(y) + np.abs(f)
    r = np.where(den > 0, 2 * np.abs(y - f) / np.where(den > 0, den, 1), 0.0)
    return float(100 * np.mean(r))


def errors(y: np.ndarray, fc: Forecast, scale: float) -> dict[str, float]:
    """All metrics of one forecast against the actual values ``y`` (``scale`` from mase_scale)."""
    y = np.asarray(y, float)
    e = y - fc.mean
    return {
        "MAE": float(np.mean(np.abs(e))),
        "RMSE": float(math.sqrt(np.mean(e**2))),
        "sMAPE": smape(y, fc.mean),
        "MASE": float(np.mean(np.abs(e)) / scale),
        "cov80": float(np.mean((y >= fc.lo80) & (y <= fc.hi80))),
        "cov95": float(np.mean((y >= fc.lo95) & (y <= fc.hi95))),
    }


# ---- methods ----


def naive(y: np.ndarray, h: int, m: int = 1) -> Forecast:
    """Last value, repeated; interval sd grows as sqrt(step)."""
    y = np.asarray(y, float)
    sd = float(np.std(np.diff(y), ddof=1)) if len(y) > 2 else 0.0
    return Forecast.gaussian(np.full(h, y[-1]), sd * np.sqrt(np.arange(1, h + 1)))


def seasonal_naive(y: np.ndarray, h: int, m: int) -> Forecast:
    """The value one season ago; interval sd grows with the number of whole seasons ahead."""
    y = np.asarray(y, float)
    if m <= 1 or len(y) <= m:
        return naive(y, h)
    steps = np.arange(h)
    mean = y[len(y) - m + steps % m]
    res = y[m:] - y[:-m]
    sd = float(np.std(res, ddof=1)) if len(res) > 1 else 0.0
    return Forecast.gaussian(mean, sd * np.sqrt(steps // m + 1))


def _use_season(y: np.ndarray, m: int) -> bool:
    return 1 < m <= 24 and len(y) >= 3 * m


def arima_order(y: np.ndarray, m: int) -> tuple[tuple[int, int, int], tuple[int, int, int, int]]:
    """Pick a (seasonal) ARIMA order: differencing from unit-root tests, (p,q)/(P,Q) by AIC.

    A small grid (like a cut-down auto.arima), run once per backtest on the first training
    part; the chosen order is then refit at every origin.
    """
    from statsmodels.tools.sm_exceptions import ConvergenceWarning
    from statsmodels.tsa.stattools import adfuller

    y = np.asarray(y, float)
    seas = _use_season(y, m)
    D = 0
    if seas:
        # seasonal difference when the season explains most of the variance
        ys = y[m:] - y[:-m]
        D = int(np.var(ys) < 0.5 * np.var(np.diff(y)) + 1e-12)
    x = y[m:] - y[:-m] if D else y
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = int(adfuller(x, autolag="AIC")[1] > 0.05)
    best, best_aic = ((1, d, 0), (0, 0, 0, 0)), math.inf
    pq = [(1, 0), (0, 1), (1, 1), (2, 0), (2, 1)]
    PQ = [(0, 1), (1, 0)] if seas else [(0, 0)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)
        for p, q in pq:
            for P, Q in PQ:
                order, sorder = (p, d, q), (P, D, Q, m if seas else 0)
                try:
                    aic = _fit_arima(y, order, sorder).aic
                except (ValueError, np.linalg.LinAlgError):
                    continue
                if np.isfinite(aic) and aic < best_aic:
                    best, best_aic = (order, sorder), aic
    return best


def _fit_arima(y: np.ndarray, order: tuple, sorder: tuple):
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    # a constant (drift) only when the model is not differenced: otherwise "n"
    trend = "c" if order[1] + sorder[1] == 0 else "n"
    mod = SARIMAX(y, order=order, seasonal_order=sorder, trend=trend)
    return mod.fit(disp=False, maxiter=100)


def arima(y: np.ndarray, h: int, m: int, order: tuple | None = None) -> Forecast:
    """Seasonal ARIMA (statsmodels SARIMAX); ``order`` = ``arima_order(...)`` or chosen here."""
    y = np.asarray(y, float)
    order = order or arima_order(y, m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = _fit_arima(y, tuple(order[0]), tuple(order[1]))
        fc = res.get_forecast(h)
        mean = np.asarray(fc.predicted_mean, float)
        c80, c95 = np.asarray(fc.conf_int(alpha=0.2)), np.asarray(fc.conf_int(alpha=0.05))
    return Forecast(mean, c80[:, 0], c80[:, 1], c95[:, 0], c95[:, 1])


def ets_spec(y: np.ndarray, m: int) -> dict:
    """Pick an additive ETS model by AIC: trend none / damped, season when there is one."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    y = np.asarray(y, float)
    seas = "add" if _use_season(y, m) else None
    best, best_aic = None, math.inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for trend, damped in ((None, False), ("add", True)):
            spec = dict(
                error="add",
                trend=trend,
                damped_trend=damped,
                seasonal=seas,
                seasonal_periods=m if seas else None,
            )
            try:
                aic = ETSModel(y, **spec).fit(disp=False).aic
            except (ValueError, np.linalg.LinAlgError):
                continue
            if np.isfinite(aic) and aic < best_aic:
                best, best_aic = spec, aic
    return best or dict(error="add", trend=None, damped_trend=False, seasonal=None)


def ets(y: np.ndarray, h: int, m: int, spec: dict | None = None) -> Forecast:
    """Exponential smoothing state-space model (statsmodels ETSModel) with analytic intervals."""
    import pandas as pd
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    y = pd.Series(np.asarray(y, float))  # get_prediction needs an indexed series
    spec = spec or ets_spec(y.to_numpy(), m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ETSModel(y, **spec).fit(disp=False)
        pr = res.get_prediction(start=len(y), end=len(y) + h - 1)
        f80, f95 = pr.summary_frame(alpha=0.2), pr.summary_frame(alpha=0.05)
    return Forecast(
        f80["mean"].to_numpy(),
        f80["pi_lower"].to_numpy(),
        f80["pi_upper"].to_numpy(),
        f95["pi_lower"].to_numpy(),
        f95["pi_upper"].to_numpy(),
    )
