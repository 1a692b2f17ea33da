"""Machine translation: seq2seq with attention."""

from __future__ import annotations

import typer

app = typer.Typer(help="Machine translation: seq2seq with attention.", no_args_is_help=True)
