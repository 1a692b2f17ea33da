"""The ``rnnlab`` command: ``rnnlab <task> <verb>``, one module of this package per task.

Each module (``rnnlab/cli/lm.py`` ...) holds the typer commands of one task; its options come
from the task's settings (``rnnlab/tasks/<task>/config.py``, via ``rnnlab.cli.options``) and
each command imports the task's code inside its body, so ``rnnlab --help`` stays fast.

Errors meant for the user (``RnnlabError``) print one line and exit with their code
(see ``rnnlab.errors``); no traceback reaches the user.
"""

from __future__ import annotations

import os
import sys

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


def _register() -> None:
    from rnnlab.cli import bench, classify, export, forecast, lm, memory, serve, speech, translate

    for name, mod in (("lm", lm), ("forecast", forecast), ("translate", translate),
                      ("speech", speech), ("memory", memory), ("classify", classify),
                      ("bench", bench)):  # fmt: skip
        app.add_typer(mod.app, name=name)
    app.command("export")(export.export)
    serve.register(app)


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
