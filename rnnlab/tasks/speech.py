"""Speech recognition: audio to text with CTC."""

from __future__ import annotations

import typer

app = typer.Typer(help="Speech recognition: audio to text with CTC.", no_args_is_help=True)
