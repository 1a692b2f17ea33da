"""Sequence classification."""

from __future__ import annotations

import typer

app = typer.Typer(help="Sequence classification.", no_args_is_help=True)
