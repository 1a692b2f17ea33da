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
        False, "--no-train", help="Never train: serve the shipped models (or fail)."
    ),
    retrain: bool = typer.Option(
        False, "--retrain", help="Watch the five word models train live (about 2 min) first."
    ),
    no_serve: bool = typer.Option(
        False, "--no-serve", help="Only train/cache the models, do not start the server."
    ),
    build: bool = typer.Option(
        False, "--build", help="Rebuild the shipped models from --data (minutes each)."
    ),
    only: list[str] = typer.Option(
        [], "--only", help="With --build: only this model (repeatable), e.g. --only gru."
    ),
    data: Path = typer.Option(
        Path("../shared/data"), "--data", help="With --build: the shared data folder."
    ),
    **opts,
) -> None:
    """Serve the RNN explorer on http://127.0.0.1:PORT/ with the models shipped in the package
    (pre-trained on real data: word models of everyday English, a character-level Shakespeare
    model, a translator, a speech model); --retrain trains the word models live first."""
    from rnnlab.serve.demo import demo_registry
    from rnnlab.serve.server import run_explorer
    from rnnlab.tasks.demo.sources import demo_models

    so = pick(ServeOptions, opts)
    if only and not build:
        raise InputError("--only picks models to rebuild: use it with --build")
    if build:
        from rnnlab.tasks.demo.build import build as build_models

        build_models(only, data)
    if not no_serve:
        so.check()
        _check_host(so.host)
    models = demo_models(retrain=retrain, no_train=no_train)
    if not no_serve:
        run_explorer(demo_registry(models), so)


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
