"""Command-line options derived from settings dataclasses (``rnnlab.config.setting``).

``@settings_options(LMConfig, ...)`` appends one typer option per field to a command's
signature, with the field's default and help text, so an option is declared once (in the
task's ``config.py``) and the command receives it in ``**opts``:

>>> @app.command("train")                                  # doctest: +SKIP
... @settings_options(LMModel, LMTrain, exclude={"seed"})
... def train_cmd(data: Path = typer.Option(..., "--data"), **opts):
...     cfg = pick(LMTrain, opts)
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import types
import typing
from collections.abc import Callable, Iterable
from typing import Any

import typer


def _cli_type(tp: Any) -> Any:
    """``int | None`` -> ``Optional[int]`` (what typer understands on every version)."""
    if isinstance(tp, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return typing.Optional[args[0]] if len(args) == 1 else tp  # noqa: UP045
    if typing.get_origin(tp) is tuple:  # tuples are not options; shown as text
        return str
    return tp


def option_params(
    cls: type, *, exclude: Iterable[str] = (), only: Iterable[str] | None = None
) -> list[inspect.Parameter]:
    """One keyword-only ``inspect.Parameter`` with a ``typer.Option`` default per field."""
    hints = typing.get_type_hints(cls)
    exclude, only = set(exclude), set(only) if only is not None else None
    params = []
    for f in dataclasses.fields(cls):
        meta = f.metadata
        if (
            not meta.get("cli", True)
            or f.name in exclude
            or (only is not None and f.name not in only)
        ):
            continue
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        if meta.get("required"):
            default = ...
        opt = typer.Option(
            default,
            *meta.get("flags", ()),
            help=meta.get("help"),
            show_default=meta.get("show_default", True),
        )
        params.append(
            inspect.Parameter(
                f.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=opt,
                annotation=_cli_type(hints[f.name]),
            )
        )
    return params


def given_options(ctx: typer.Context, opts: dict[str, Any]) -> set[str]:
    """The names in ``opts`` the user gave (command line or environment), not defaults:
    a flag given with its default value counts as given.

    >>> given = given_options(ctx, opts)                       # doctest: +SKIP
    """
    src = ctx.get_parameter_source
    return {
        k for k in opts if (s := src(k)) is not None and s.name not in ("DEFAULT", "DEFAULT_MAP")
    }


def settings_options(
    *classes: type, exclude: Iterable[str] = (), only: Iterable[str] | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: the command's own parameters, then every field of ``classes`` as options
    (a field already named by the command, or by an earlier class, is not added twice)."""
    exclude = set(exclude)

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        sig = inspect.signature(fn)
        own = [p for p in sig.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
        seen = {p.name for p in own} | exclude
        extra = []
        for cls in classes:
            for p in option_params(cls, exclude=seen, only=only):
                extra.append(p)
                seen.add(p.name)
        # keyword-only parameters must follow the others in a valid signature
        own = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own]

        @functools.wraps(fn)
        def command(**kw: Any) -> Any:
            return fn(**kw)

        command.__signature__ = sig.replace(parameters=own + extra)  # type: ignore[attr-defined]
        return command

    return deco
