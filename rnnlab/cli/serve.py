"""``rnnlab demo`` and ``rnnlab serve``: added to the main CLI by ``register(app)``."""

from __future__ import annotations

from pathlib import Path

import typer

from rnnlab.serve.guard import REQUEST_TIMEOUT_S, host_warning
from rnnlab.serve.server import DEFAULT_HOST, DEFAULT_PORT

_HOST_HELP = "Address to bind; 127.0.0.1 (default) is this machine only, 0.0.0.0 every interface."
_TIMEOUT_HELP = "Seconds before a request is answered with 503 (0 = no limit)."


def _check_host(host: str) -> None:
    """Print the warning for a non-loopback --host (before anything slow happens)."""
    msg = host_warning(host)
    if msg:
        typer.secho(f"warning: {msg}", err=True, fg="yellow")


def _warm_in_background(reg) -> None:
    """Compute the held-out statistics (PCA basis, neuron view) while the server starts."""
    import threading

    from rnnlab.serve.analysis import heldout_states

    def run() -> None:
        for n in reg.names():
            heldout_states(reg.get(n))

    # start a moment later, so that the server itself starts first
    t = threading.Timer(1.5, run)
    t.daemon = True
    t.start()


def demo(
    no_train: bool = typer.Option(
        False, "--no-train", help="Fail instead of training if no cached models exist."
    ),
    retrain: bool = typer.Option(
        False, "--retrain", help="Train the demo models again even if cached."
    ),
    port: int = typer.Option(
        DEFAULT_PORT, "--port", help="Port to listen on (a free one is used if taken)."
    ),
    no_serve: bool = typer.Option(
        False, "--no-serve", help="Only train/cache the models, do not start the server."
    ),
    host: str = typer.Option(DEFAULT_HOST, "--host", help=_HOST_HELP),
    request_timeout: float = typer.Option(
        REQUEST_TIMEOUT_S, "--request-timeout", help=_TIMEOUT_HELP
    ),
) -> None:
    """Train (first run, ~3 min, cached under $RNNLAB_HOME or ~/.cache/rnnlab) and serve the
    RNN explorer with five demo models on http://127.0.0.1:PORT/."""
    from rnnlab.serve.app import create_app
    from rnnlab.serve.demo import demo_registry
    from rnnlab.serve.server import serve
    from rnnlab.tasks.demo.build import ensure_demo

    if not no_serve:
        _check_host(host)
    root = ensure_demo(retrain=retrain, no_train=no_train)
    typer.echo(f"demo models: {root}")
    if no_serve:
        return
    reg = demo_registry(root)
    reg.load_all()
    _warm_in_background(reg)
    serve(create_app(reg, request_timeout=request_timeout), port=port, host=host)


def serve_cmd(
    runs: list[Path] = typer.Argument(..., help="Run directories written by `rnnlab lm train`."),
    port: int = typer.Option(
        DEFAULT_PORT, "--port", help="Port to listen on (a free one is used if taken)."
    ),
    host: str = typer.Option(DEFAULT_HOST, "--host", help=_HOST_HELP),
    request_timeout: float = typer.Option(
        REQUEST_TIMEOUT_S, "--request-timeout", help=_TIMEOUT_HELP
    ),
) -> None:
    """Serve the RNN explorer for trained language-model runs (e.g. `rnnlab serve runs/gru`)."""
    from rnnlab.errors import InputError
    from rnnlab.serve.app import create_app
    from rnnlab.serve.registry import ModelRegistry
    from rnnlab.serve.server import serve

    _check_host(host)
    if request_timeout < 0:
        raise InputError(f"--request-timeout must be >= 0, got {request_timeout}")
    reg = ModelRegistry()
    for r in runs:
        name = r.resolve().name
        if name in reg:
            raise InputError(f"two runs are named {name!r}; rename one folder")
        reg.add_run(name, r)
    reg.load_all()  # clear errors (wrong path, another task) before the server starts
    _warm_in_background(reg)
    serve(create_app(reg, request_timeout=request_timeout), port=port, host=host)


def register(app: typer.Typer) -> None:
    """Add ``demo`` and ``serve`` to the main ``rnnlab`` command."""
    app.command("demo")(demo)
    app.command("serve")(serve_cmd)
