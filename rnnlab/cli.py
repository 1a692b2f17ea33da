"""The ``rnnlab`` command: ``rnnlab <task> <verb>``. Each task module owns its sub-app.

Errors meant for the user (``RnnlabError``) print one line and exit with their code
(see ``rnnlab.errors``); no traceback reaches the user.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from rnnlab import __version__
from rnnlab.errors import RnnlabError

app = typer.Typer(
    help="rnnlab: recurrent neural networks you can use, see and understand.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"rnnlab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """rnnlab: recurrent neural networks you can use, see and understand."""


def _export(
    run: Path = typer.Argument(..., help="Run directory (an lm, forecast or classify run)."),
    fmt: str = typer.Option("onnx", "--format", help="onnx or torchscript."),
    out: Path = typer.Option(
        None, "--out", help="File to write (default RUN/model.onnx, RUN/model.torchscript.pt)."
    ),
    verify: bool = typer.Option(
        True, "--verify/--no-verify", help="Run the file and compare with PyTorch."
    ),
) -> None:
    """Export a trained model to ONNX or TorchScript (dynamic batch and sequence length)."""
    from rnnlab.export import export_cmd

    export_cmd(run, fmt, out, verify)


def _register() -> None:
    # One sub-app per task module; each module keeps its own commands.
    from rnnlab import bench
    from rnnlab.tasks import classify, forecast, lm, memory, speech, translate

    app.add_typer(lm.app, name="lm")
    app.add_typer(forecast.app, name="forecast")
    app.add_typer(translate.app, name="translate")
    app.add_typer(speech.app, name="speech")
    app.add_typer(memory.app, name="memory")
    app.add_typer(classify.app, name="classify")
    app.add_typer(bench.app, name="bench")
    app.command("export")(_export)
    try:
        from rnnlab.serve import cli as serve_cli

        serve_cli.register(app)
    except ImportError:  # the serve package is optional until the explorer lands
        pass


_register()


def main() -> None:
    """Console entry point: run the app, turning user errors into one line + exit code."""
    try:
        app(standalone_mode=False)
    except RnnlabError as e:
        typer.secho(f"error: {e}", err=True, fg="red")
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted: the last good checkpoint is kept", err=True)
        sys.exit(130)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except typer.Abort:
        sys.exit(1)
    except Exception as e:
        # click's usage errors (typer vendors click, so match by behaviour) carry their code
        if hasattr(e, "show") and isinstance(getattr(e, "exit_code", None), int):
            e.show()
            sys.exit(e.exit_code)
        if os.environ.get("RNNLAB_DEBUG"):
            raise
        # anything else is a bug: still one line (the traceback on request), exit code 1
        msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
        typer.secho(
            f"internal error: {type(e).__name__}: {msg} (a bug: please report it; "
            "RNNLAB_DEBUG=1 shows the traceback)",
            err=True,
            fg="red",
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
