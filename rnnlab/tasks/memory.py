"""The long-range memory lab: adding, copy, parity; vanishing gradients."""

from __future__ import annotations

import typer

app = typer.Typer(help="The long-range memory lab: adding, copy, parity; vanishing gradients.", no_args_is_help=True)
