"""``rnnlab demo`` and ``rnnlab serve``: added to the main CLI by ``register(app)``.

Both take the server's options of ``rnnlab.serve.config.ServeOptions`` (declared once).
"""

from __future__ import annotations

from pathlib import Path

import typer

from rnnlab.cli.options import settings_options
from rnnlab.config import pick
from rnnlab.errors import InputError
from rnnlab.serve.config import ServeOptions
from rnnlab.serve.guard import host_warning


def _check_host(host: str) -> None:
    """Print the warning for a non-loopback --host (before anything slow happens)."""
    msg = host_warning(host)
    if msg:
        typer.secho(f"warning: {msg}", err=True, fg="yellow")


@settings_options(ServeOptions)
def demo(
    no_train: bool = typer.Option(
        False, "--no-train", help="Fail instead of training if no cached models exist."
    ),
    retrain: bool = typer.Option(
        False, "--retrain", help="Train the demo models again even if cached."
    ),
    no_serve: bool = typer.Option(
        False, "--no-serve", help="Only train/cache the models, do not start the server."
    ),
    **opts,
) -> None:
    """Train (first run, ~3 min, cached under $RNNLAB_HOME or ~/.cache/rnnlab) and serve the
    RNN explorer with five demo models on http://127.0.0.1:PORT/."""
    from rnnlab.serve.demo import demo_registry
    from rnnlab.serve.server import run_explorer
    from rnnlab.tasks.demo.build import ensure_demo

    so = pick(ServeOptions, opts)
    if not no_serve:
        so.check()
        _check_host(so.host)
    root = ensure_demo(retrain=retrain, no_train=no_train)
    typer.echo(f"demo models: {root}")
    if not no_serve:
        run_explorer(demo_registry(root), so)


@settings_options(ServeOptions)
def serve_cmd(
    runs: list[Path] = typer.Argument(..., help="Run directories written by `rnnlab lm train`."),
    **opts,
) -> None:
    """Serve the RNN explorer for trained language-model runs (e.g. `rnnlab serve runs/gru`)."""
    from rnnlab.serve.registry import ModelRegistry
    from rnnlab.serve.server import run_explorer

    so = pick(ServeOptions, opts)
    so.check()
    _check_host(so.host)
    reg = ModelRegistry()
    for r in runs:
        name = r.resolve().name
        if name in reg:
            raise InputError(f"two runs are named {name!r}; rename one folder")
        reg.add_run(name, r)
    run_explorer(reg, so)


def register(app: typer.Typer) -> None:
    """Add ``demo`` and ``serve`` to the main ``rnnlab`` command."""
    app.command("demo")(demo)
    app.command("serve")(serve_cmd)
