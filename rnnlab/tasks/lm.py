"""Language modelling and text generation."""

from __future__ import annotations

import typer

app = typer.Typer(help="Language modelling and text generation.", no_args_is_help=True)
