"""``rnnlab bench ...``: benchmarks runnable from the CLI (the scripts in benchmarks/ call these)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Benchmarks (speed and quality, side by side with the peer).", no_args_is_help=True)
