"""``rnnlab memory run | sweep``: the long-range memory lab.

The options come from ``rnnlab/tasks/memory/config.py``; each command imports the task's code
in its body, so ``rnnlab --help`` does not load torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from rnnlab.cli.options import settings_options
from rnnlab.errors import InputError
from rnnlab.tasks.memory.config import MemoryData, MemoryNet, MemoryTrain

app = typer.Typer(
    help="The long-range memory lab: adding, copy, parity; vanishing gradients, measured.",
    no_args_is_help=True,
)


def _parse_list(text: str, what: str, cast: Any = str) -> list:
    items = [s.strip() for s in text.split(",") if s.strip()]
    if not items:
        raise InputError(f"{what} is empty: give a comma-separated list")
    try:
        return [cast(s) for s in items]
    except ValueError:
        raise InputError(f"{what} must be a comma-separated list, got {text!r}") from None


@app.command("run")
@settings_options(MemoryData, MemoryNet, MemoryTrain)
def run_cmd(
    out: Path = typer.Option(None, "--out", help="Run directory (default runs/memory/...)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bar."),
    **opts: Any,
) -> None:
    """Train one cell on one task; print the verdict; write results.json and memory.png."""
    from rnnlab.tasks.memory.report import describe, grad_summary
    from rnnlab.tasks.memory.train import default_out, run_memory

    task, length, cell = opts.pop("task"), opts.pop("length"), opts.pop("cell")
    res = run_memory(task, length, cell, out=out, progress=progress, **opts)
    run_dir = out or default_out(task, length, cell, opts["seed"])
    typer.echo(describe(res))
    typer.echo(grad_summary(res))
    typer.echo(f"learning curve + gradient plot: {run_dir / 'memory.png'}")


@app.command("sweep")
@settings_options(
    MemoryData, MemoryNet, MemoryTrain, only={"task", "steps", "seed", "hidden", "batch", "lr"}
)
def sweep_cmd(
    lengths: str = typer.Option("10,50,100,200,400", "--lengths", help="Comma-separated T."),
    cells: str = typer.Option("rnn,gru,lstm,mingru", "--cells", help="Comma-separated cells."),
    out: Path = typer.Option(Path("runs/memory-sweep"), "--out", help="Directory of the runs."),
    plot: Path = typer.Option(None, "--plot", help="PNG of the sweep (default OUT/sweep.png)."),
    **opts: Any,
) -> None:
    """Every cell × every length with one step budget: a table and a plot."""
    from rnnlab.tasks.memory.report import describe, sweep_table
    from rnnlab.tasks.memory.train import sweep

    Ls = _parse_list(lengths, "--lengths", int)
    if any(T < 2 for T in Ls):
        raise InputError(f"--lengths must all be >= 2, got {Ls}")
    task = opts.pop("task")
    res = sweep(
        task,
        Ls,
        _parse_list(cells, "--cells"),
        out=out,
        plot_path=plot,
        on_result=lambda r: typer.echo(describe(r)),
        **opts,
    )
    typer.echo(sweep_table(res))
    typer.echo(f"plot: {plot or out / 'sweep.png'}   table: {out / 'sweep.md'}")
