"""``rnnlab bench engine``: the explicit engine vs torch.nn, side by side."""

from __future__ import annotations

import typer

from rnnlab.errors import InputError

app = typer.Typer(
    help="Benchmarks (speed and quality, side by side with the peer).", no_args_is_help=True
)


@app.command()
def engine(
    cells: str = typer.Option("rnn,gru,lstm", help="Comma-separated cells to measure."),
    quick: bool = typer.Option(False, help="Only the small configuration, fewer repeats."),
) -> None:
    """Training and inference throughput of the explicit engine vs torch.nn, side by side."""
    from rnnlab.bench import CONFIGS, PEERS, engine_rows, print_engine

    names = [c.strip() for c in cells.split(",") if c.strip()]
    bad = [c for c in names if c not in PEERS]
    if bad:
        raise InputError(f"unknown cell(s) {bad}: choose from {list(PEERS)}")
    configs = CONFIGS[1:] if quick else CONFIGS
    print_engine(engine_rows(names, configs, repeats=2 if quick else 5, rounds=1 if quick else 3))
