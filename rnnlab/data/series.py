"""Time series from CSV files: reading, validation, season detection, scaling and windows.

A CSV holds one or more series, in *wide* format (one column per series: ``--target a,b``)
or *long* format (a column naming the series: ``--id-col store``), an optional time column
and optional numeric covariates. Everything a user can get wrong becomes an ``InputError``
that says what to fix; gaps and blank cells are interpolated with a warning.

Example:
    >>> ss = read_series("sales.csv", target="units", time_col="date")   # doctest: +SKIP
    >>> ss.series[0].values[:3], ss.freq, ss.season                        # doctest: +SKIP
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rnnlab.errors import InputError
from rnnlab.io import check_file

# pandas offset alias prefix -> (season length, calendar fields used as features)
_FREQ_SEASON = {
    "H": (24, "hour"),
    "h": (24, "hour"),
    "D": (7, "dayofweek"),
    "B": (5, "dayofweek"),
    "W": (52, "weekofyear"),
    "M": (12, "month"),
    "MS": (12, "month"),
    "ME": (12, "month"),
    "Q": (4, "quarter"),
    "QS": (4, "quarter"),
    "QE": (4, "quarter"),
}
MAX_ABS = 1e150  # larger magnitudes cannot be standardised in float64
_TIME_NAMES = ("date", "time", "timestamp", "datetime", "ds", "year", "month", "period")


@dataclass
class Series:
    """One univariate target with its (optional) covariates, already cleaned."""

    name: str
    values: np.ndarray  # (T,) float64
    covariates: np.ndarray  # (T, C) float64, C may be 0
    index: list[str]  # time stamps as text (or positions) for output files


@dataclass
class SeriesSet:
    series: list[Series]
    freq: str | None  # pandas frequency alias, None for a plain integer index
    season: int  # 1 = no season
    covariate_names: list[str] = field(default_factory=list)
    calendar: str | None = None  # calendar field used as features (e.g. "month")
    warnings: list[str] = field(default_factory=list)


def _warn(msgs: list[str], msg: str) -> None:
    msgs.append(msg)
    warnings.warn(msg, stacklevel=3)


def _read_csv(path: str | Path):
    import pandas as pd

    p = check_file(path, "CSV file")
    try:
        df = pd.read_csv(p, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise InputError(f"CSV file {p} has no columns (is it empty?)") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        raise InputError(f"CSV file {p} cannot be parsed: {str(e).splitlines()[0]}") from None
    if df.empty:
        raise InputError(f"CSV file {p} has a header but no data rows")
    df.columns = [str(c).strip() for c in df.columns]
    return df


def _need(df, cols: list[str], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise InputError(
            f"{what} column(s) {', '.join(map(repr, missing))} not in the CSV; "
            f"available columns: {', '.join(df.columns)}"
        )


def _numeric(col, name: str, what: str) -> np.ndarray:
    """Numbers from a column; blank cells become NaN, any other text is an error."""
    import pandas as pd

    num = pd.to_numeric(col, errors="coerce")
    blank = col.isna() | col.astype(str).str.strip().isin(["", "nan", "NaN", "NA"])
    bad = num.isna() & ~blank
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"{what} column {name!r} has a non-numeric cell {str(col.iloc[i])!r} "
            f"(data row {i + 1}); fix or blank it (blanks are interpolated)"
        )
    vals = num.to_numpy(dtype=float)
    # infinity cannot be interpolated or scaled, and beyond ~1e154 squares overflow float64
    # (the scaler's std would be inf and the whole series NaN)
    huge = np.abs(vals) > MAX_ABS
    if huge.any():
        i = int(np.flatnonzero(huge)[0])
        raise InputError(
            f"{what} column {name!r} has the value {str(col.iloc[i]).strip()!r} in data row "
            f"{i + 1}: infinite or beyond ±{MAX_ABS:g}; fix or blank it, or rescale the column"
        )
    return vals


def _guess_time_col(df, exclude: set[str]) -> str | None:
    for c in df.columns:
        if c not in exclude and c.lower() in _TIME_NAMES:
            return c
    return None


def _parse_time(df, time_col: str):
    import pandas as pd

    raw = df[time_col]
    if raw.isna().any():
        i = int(np.flatnonzero(raw.isna().to_numpy())[0])
        raise InputError(f"time column {time_col!r} is blank in data row {i + 1}")
    if pd.api.types.is_numeric_dtype(raw):
        # years (1700, 1701, ...) or plain step numbers: keep them as integer positions
        vals = raw.to_numpy(dtype=float)
        if not np.all(np.isfinite(vals)) or np.any(vals != np.round(vals)):
            raise InputError(
                f"time column {time_col!r} has non-integer numbers; use dates or integer steps"
            )
        return vals.astype(np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = pd.to_datetime(raw, errors="coerce")
    if t.isna().any():
        i = int(np.flatnonzero(t.isna().to_numpy())[0])
        raise InputError(
            f"time column {time_col!r} has a cell that is not a date: {str(raw.iloc[i])!r} "
            f"(data row {i + 1})"
        )
    return pd.DatetimeIndex(t)


def _regularize(t, y: np.ndarray, cov: np.ndarray, freq_opt: str, name: str, msgs: list[str]):
    """Sort, reject duplicates, put the series on a regular grid (gaps -> NaN rows)."""
    import pandas as pd

    order = np.argsort(np.asarray(t), kind="stable")
    if np.any(order != np.arange(len(order))):
        _warn(msgs, f"series {name!r}: rows were not in time order; sorted them")
        t = t[order] if isinstance(t, np.ndarray) else t[order]
        y, cov = y[order], cov[order]
    tv = np.asarray(t)
    if len(tv) > 1 and np.any(tv[1:] == tv[:-1]):
        i = int(np.flatnonzero(tv[1:] == tv[:-1])[0]) + 1
        raise InputError(
            f"series {name!r} has a duplicate time stamp {tv[i]}; aggregate the duplicates "
            "first, or give --id-col if the CSV holds several series (long format)"
        )
    if isinstance(t, np.ndarray):  # integer steps
        steps = np.diff(t)
        step = int(np.min(steps)) if len(steps) else 1
        if len(steps) and np.any(steps % step):
            raise InputError(
                f"series {name!r}: irregular time steps {sorted(set(steps.tolist()))[:5]}; "
                "resample to a regular grid first"
            )
        grid = np.arange(t[0], t[-1] + 1, step)
        pos = ((t - t[0]) // step).astype(int)
        freq, index = None, [str(v) for v in grid]
    else:
        freq = None if freq_opt == "auto" else freq_opt
        if freq is None and len(t) >= 3:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # pandas 3 FutureWarning about the return type
                freq = pd.infer_freq(t)
            freq = getattr(freq, "freqstr", freq)
        if freq is None and len(t) >= 3:
            # gaps: take the most common spacing if it explains every stamp
            d = pd.Series(t[1:] - t[:-1]).mode()[0]
            cand = pd.tseries.frequencies.to_offset(d) if d > pd.Timedelta(0) else None
            grid = pd.date_range(t[0], t[-1], freq=cand) if cand is not None else None
            if grid is None or not t.isin(grid).all():
                raise InputError(
                    f"series {name!r}: irregular time stamps (no regular frequency fits, e.g. "
                    f"{t[0]} .. {t[1]} .. {t[2]}); resample the data or pass --freq (e.g. D, W, MS)"
                )
            freq = cand.freqstr
        if freq is None:
            raise InputError(f"series {name!r}: too few rows to infer a frequency; pass --freq")
        try:
            grid = pd.date_range(t[0], t[-1], freq=freq)
        except ValueError:
            raise InputError(
                f"unknown --freq {freq!r}: use a pandas alias like D, W, MS, h"
            ) from None
        if not t.isin(grid).all():
            raise InputError(
                f"series {name!r}: time stamps do not fall on the {freq!r} grid; "
                "resample the data or pass the right --freq"
            )
        pos = grid.get_indexer(t)
        index = [str(v.date()) if v == v.normalize() else str(v) for v in grid]
    n_gap = len(index) - len(y)
    if n_gap:
        _warn(msgs, f"series {name!r}: {n_gap} missing time stamp(s) filled by interpolation")
    Y = np.full(len(index), np.nan)
    C = np.full((len(index), cov.shape[1]), np.nan)
    Y[pos], C[pos] = y, cov
    return Y, C, index, freq


def _interpolate(x: np.ndarray, what: str, msgs: list[str]) -> np.ndarray:
    nan = np.isnan(x)
    if not nan.any():
        return x
    if nan.all():
        raise InputError(f"{what} has no numbers at all")
    _warn(msgs, f"{what}: {int(nan.sum())} missing value(s) filled by linear interpolation")
    i = np.arange(len(x))
    return np.interp(i, i[~nan], x[~nan])  # ends are held at the nearest value


def season_from_freq(freq: str | None) -> tuple[int, str | None]:
    """Season length and calendar field for a pandas frequency (``"MS"`` -> ``(12, "month")``)."""
    if not freq:
        return 1, None
    base = freq.split("-")[0].lstrip("0123456789")
    if base in _FREQ_SEASON:
        return _FREQ_SEASON[base]
    return 1, None


def detect_season(y: np.ndarray, max_lag: int | None = None) -> int:
    """Season length from the autocorrelation: the first strong local peak (1 = none).

    >>> t = np.arange(120); detect_season(np.sin(2 * np.pi * t / 12))
    12
    """
    y = np.asarray(y, float)
    n = len(y)
    max_lag = min(max_lag or n // 3, n // 2)
    if max_lag < 3:
        return 1
    x = y - np.polyval(np.polyfit(np.arange(n), y, 1), np.arange(n))  # remove a linear trend
    den = float(x @ x)
    if den == 0:
        return 1
    acf = np.array([float(x[:-k] @ x[k:]) / den for k in range(1, max_lag + 1)])
    for k in range(1, len(acf) - 1):  # acf[k] is the lag k + 1
        if acf[k] > acf[k - 1] and acf[k] >= acf[k + 1] and acf[k] > 0.3:
            return k + 1
    return 1


def read_series(
    path: str | Path,
    target: str,
    *,
    time_col: str | None = None,
    covariates: str | list[str] | None = None,
    id_col: str | None = None,
    freq: str = "auto",
    season: int | None = None,
) -> SeriesSet:
    """Read, validate and clean the series of a CSV (see the module docstring)."""
    import pandas as pd

    df = _read_csv(path)
    targets = [c.strip() for c in target.split(",") if c.strip()]
    covs = covariates if isinstance(covariates, list) else (covariates or "").split(",")
    covs = [c.strip() for c in covs if c.strip()]
    if not targets:
        raise InputError(f"give --target, one of: {', '.join(df.columns)}")
    _need(df, targets, "target")
    _need(df, covs, "covariate")
    if id_col is not None:
        _need(df, [id_col], "id")
        if len(targets) > 1:
            raise InputError("long format (--id-col) takes one --target column")
    if time_col is not None:
        _need(df, [time_col], "time")
    else:
        time_col = _guess_time_col(df, set(targets) | set(covs) | {id_col})
    msgs: list[str] = []
    groups = list(df.groupby(id_col, sort=False)) if id_col else [(None, df)]
    out: list[Series] = []
    freqs: set[str | None] = set()
    for gid, g in groups:
        g = g.reset_index(drop=True)
        for tcol in targets:
            name = str(gid) if id_col else tcol
            y = _numeric(g[tcol], tcol, "target")
            cov = np.stack([_numeric(g[c], c, "covariate") for c in covs], 1) if covs else None
            cov = cov if cov is not None else np.zeros((len(y), 0))
            if time_col is not None:
                t = _parse_time(g, time_col)
                y, cov, index, f = _regularize(t, y, cov, freq, name, msgs)
            else:
                index, f = [str(i) for i in range(len(y))], None
            freqs.add(f)
            y = _interpolate(y, f"series {name!r}", msgs)
            for j, c in enumerate(covs):
                cov[:, j] = _interpolate(cov[:, j], f"covariate {c!r} of {name!r}", msgs)
            if np.ptp(y) == 0:
                raise InputError(
                    f"series {name!r} is constant ({y[0]:g}) : there is nothing to forecast "
                    "(every method predicts the same value); drop it"
                )
            out.append(Series(name, y, cov, index))
    if len(freqs) > 1:
        raise InputError(f"the series have different frequencies {sorted(map(str, freqs))}")
    f = freqs.pop()
    m, cal = season_from_freq(f)
    if season is not None:
        if season < 1:
            raise InputError(f"--season must be >= 1, got {season}")
        m = season
    elif m == 1 or m > min(len(s.values) for s in out) // 3:
        m = detect_season(out[0].values)
    _ = pd  # pandas is needed above; keep the import local for CLI start-up speed
    return SeriesSet(out, f, m, covs, cal, msgs)


def calendar_features(index: list[str], freq: str | None, field_: str | None) -> np.ndarray:
    """sin/cos of the calendar position (e.g. month of year) for each time stamp; (T, 0) if none."""
    import pandas as pd

    if field_ is None or freq is None:
        return np.zeros((len(index), 0))
    t = pd.DatetimeIndex(index)
    period = {"hour": 24, "dayofweek": 7, "weekofyear": 52.18, "month": 12, "quarter": 4}[field_]
    v = (t.isocalendar().week.to_numpy() if field_ == "weekofyear" else getattr(t, field_)).astype(
        float
    )
    a = 2 * math.pi * np.asarray(v) / period
    return np.stack([np.sin(a), np.cos(a)], 1)


def future_index(index: list[str], freq: str | None, h: int) -> list[str]:
    """The ``h`` time stamps after the last one of ``index``."""
    import pandas as pd

    if freq is None:
        last = int(index[-1])
        step = int(index[-1]) - int(index[-2]) if len(index) > 1 else 1
        return [str(last + step * (i + 1)) for i in range(h)]
    rng = pd.date_range(pd.Timestamp(index[-1]), periods=h + 1, freq=freq)[1:]
    return [str(v.date()) if v == v.normalize() else str(v) for v in rng]


@dataclass
class Scaler:
    """Standardization fit on the training part of one series only (no peeking at the test).

    With ``log`` the series is standardized after ``log1p``: for a non-negative series whose
    swings span orders of magnitude (sunspots, sales), errors then count relative to the
    level, as sMAPE and MASE do, instead of being dominated by the peaks.

    >>> sc = Scaler.fit(np.array([0.0, 9.0, 99.0]), log=True)
    >>> np.round(sc.inverse(sc.transform([5.0])), 6)
    array([5.])
    """

    mean: float
    std: float
    log: bool = False

    @classmethod
    def fit(cls, y: np.ndarray, log: bool = False) -> Scaler:
        y = np.log1p(y) if log else np.asarray(y, float)
        std = float(np.std(y))
        return cls(float(np.mean(y)), std if std > 0 else 1.0, log)

    def transform(self, y: np.ndarray) -> np.ndarray:
        y = np.log1p(y) if self.log else np.asarray(y)
        return (y - self.mean) / self.std

    def inverse(self, z: np.ndarray) -> np.ndarray:
        y = np.asarray(z) * self.std + self.mean
        return np.expm1(y) if self.log else y


def wants_log(y: np.ndarray) -> bool:
    """The "auto" transform: log1p for a non-negative series that comes within a tenth of its
    peak to zero (counts, amounts with quiet spells), where a level-independent scale fits."""
    y = np.asarray(y, float)
    return bool(y.min() >= 0 and y.max() > 0 and y.min() <= 0.1 * y.max())


def check_length(n: int, lookback: int, horizon: int, name: str, what: str = "training") -> None:
    """A series must hold at least one window of lookback + horizon points."""
    if n < lookback + horizon:
        raise InputError(
            f"series {name!r} has {n} {what} points, fewer than lookback + horizon = "
            f"{lookback} + {horizon}; use a smaller --lookback/--horizon or a longer series"
        )


def window_starts(n: int, lookback: int, horizon: int) -> np.ndarray:
    """Start positions of every (lookback, horizon) window inside ``n`` points."""
    return np.arange(0, n - lookback - horizon + 1)
