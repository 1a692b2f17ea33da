"""Time-series forecasting against classical baselines."""

from __future__ import annotations

import typer

app = typer.Typer(help="Time-series forecasting against classical baselines.", no_args_is_help=True)
