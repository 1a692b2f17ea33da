"""Time-series forecasting with an RNN, measured against the classical baselines.

Model: an ensemble of encoder RNNs reads the lookback window (target scaled per series on the
training part only, covariates, calendar features) and a direct multi-horizon head predicts
all ``horizon`` steps at once, as quantiles (or a Gaussian), as a correction to the seasonal
naive forecast. The best checkpoint on the validation part is calibrated there (one interval
multiplier), then fine-tuned on all the data; ``backtest`` fine-tunes it again at every
origin on the history before it, as the baselines are refit.

    rnnlab forecast train --csv co2.csv --target co2 --horizon 12 --out runs/co2
    rnnlab forecast predict runs/co2 --csv co2.csv --out forecast.csv
    rnnlab forecast backtest --csv co2.csv --target co2 --horizon 12 --origins 8
    rnnlab forecast plot runs/co2

Files (nothing is re-exported here: ``config`` must import without torch, for the CLI):

    config.py     the settings, declared once: ForecastSource (CSV columns), ForecastModel,
                  ForecastTrain; defaults and constants (METHODS, DEFAULT_STEPS)
    model.py      Forecaster, ForecastEnsemble, the losses and the interval calibration
    data.py       reading a CSV like a run, scalers, windows, Prepared, WindowBatches, drifts
    train.py      train_forecaster (on rnnlab.train.run), refit (rnnlab.train.loop.run_steps)
    infer.py      load_forecaster, rnn_forecast, predict_csv
    backtest.py   the rolling-origin backtest against the baselines, its table
    baselines.py  naive, seasonal naive, ARIMA, ETS; the forecast error metrics
    sf.py         statsforecast's AutoARIMA, AutoETS, AutoTheta, SeasonalNaive (issue 23)
    es.py         the ES part of the hybrid: seasonal indices, Holt level/trend, its units
    hybrid.py     ESRNN (ES per series + one LSTM ensemble for all, conformal intervals),
                  HybridEnsemble (two ES fits, averaged): ``backtest``'s ``esrnn``
    hybrid_run.py ``forecast train --model esrnn``: save, load, predict
    plot.py       the PNG of a run: history, forecast, intervals, errors
"""
