"""Settings declared once: a task's options are dataclass fields made with ``setting``.

Each field carries its default and its help text; the CLI (``rnnlab.cli.options``) turns the
fields into command-line options, ``to_dict`` writes them into ``config.json`` and
``from_dict`` reads them back (unknown keys are an error naming them, missing keys take the
default), so a setting is written in exactly one place.

>>> from dataclasses import dataclass
>>> @dataclass
... class Demo(Settings):
...     hidden: int = setting(128, "Hidden units per layer.")
>>> Demo.from_dict({"hidden": 64}).to_dict()
{'hidden': 64}
"""

from __future__ import annotations

import dataclasses
import numbers
import typing
from dataclasses import dataclass
from typing import Any, TypeVar

from rnnlab.errors import CheckpointError, InputError

T = TypeVar("T", bound="Settings")


def setting(
    default: Any,
    help: str,
    *flags: str,
    cli: bool = True,
    show_default: bool | str = True,
    required: bool = False,
) -> Any:
    """A dataclass field with its help text; ``flags`` name the CLI option(s) when the
    default derived from the field name (``seq_len`` -> ``--seq-len``) is not wanted, e.g.
    ``"--lower/--keep-case"``. ``cli=False`` keeps a field out of the command line;
    ``required=True`` makes the option required there (Python callers still get ``default``)."""
    meta = {"help": help, "flags": flags, "cli": cli, "show_default": show_default}
    meta["required"] = required
    if isinstance(default, (list, dict, set)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


class Settings:
    """Mixin for a settings dataclass: ``to_dict``, ``from_dict``, ``replace``."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[T], d: dict[str, Any] | None, where: str = "config.json") -> T:
        """Rebuild from ``to_dict``'s output; an unknown key is a ``CheckpointError``."""
        d = dict(d or {})
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(d) - names)
        if unknown:
            raise CheckpointError(
                f"{where} has settings this rnnlab does not know: {', '.join(unknown)} "
                "(written by a newer rnnlab?)"
            )
        hints = typing.get_type_hints(cls)
        for k, v in d.items():  # JSON has no tuples
            if isinstance(v, list) and "tuple" in str(hints.get(k, "")):
                d[k] = tuple(v)
        return cls(**d)

    def replace(self: T, **changes: Any) -> T:
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


def pick(cls: type[T], values: dict[str, Any], **overrides: Any) -> T:
    """Build ``cls`` from the entries of ``values`` that are its fields (the CLI passes every
    option of a command in one dict); ``overrides`` win."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{**{k: v for k, v in values.items() if k in names}, **overrides})


def pick_all(values: dict[str, Any], *classes: type, where: str = "settings") -> tuple[Any, ...]:
    """One instance of each of ``classes`` from one flat dict (a Python API's ``**settings``);
    a name that no class has is a ``TypeError``, as for a misspelt keyword argument.

    >>> @dataclass
    ... class A(Settings):
    ...     x: int = setting(1, "x")
    >>> pick_all({"x": 2}, A)
    (A(x=2),)
    """
    names = {f.name for c in classes for f in dataclasses.fields(c)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise TypeError(f"{where} got unexpected settings: {', '.join(unknown)}")
    return tuple(pick(c, values) for c in classes)


# ---- the recurrent part of a model, shared by the tasks that have one ----------------------

CELLS = ("rnn", "rnn_relu", "gru", "lstm", "mingru", "minlstm")


@dataclass
class RNNSpec(Settings):
    """Cell, sizes and dropout of a recurrent model. A task's model settings subclass it,
    overriding defaults and help texts where the task needs others; ``rnnlab.core.build_rnn``
    makes the layer.

    >>> RNNSpec(cell="lstm", hidden=32).hidden
    32
    """

    cell: str = setting("gru", f"Recurrent cell: {', '.join(CELLS)}.")
    embed: int = setting(64, "Embedding size.")
    hidden: int = setting(128, "Hidden units per layer.")
    layers: int = setting(1, "Stacked recurrent layers.")
    dropout: float = setting(0.0, "Dropout between layers (and on the layer's input/output).")
    bidirectional: bool = setting(False, "Read the sequence both ways.", "--bidirectional")

    def check(self) -> None:
        """Clear errors for sizes and rates out of range (before anything is built)."""
        if self.cell not in CELLS:
            raise InputError(
                f"unknown cell {self.cell!r} (--cell): choose one of {', '.join(CELLS)}"
            )
        for name in ("embed", "hidden", "layers"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v <= 0:
                raise InputError(f"--{name} must be a positive integer, got {v}")
        if not 0.0 <= self.dropout < 1.0:
            raise InputError(f"--dropout must be in [0, 1), got {self.dropout}")
