"""The CLI reference as Markdown, generated from the typer app itself (the docs site's
"Command line" page), so the documented options can never drift from the real ones.

>>> md = reference()
>>> "## rnnlab lm train" in md and "--time-budget" in md
True
"""

from __future__ import annotations

from typing import Any

import typer


def _cell(text: str) -> str:
    # a Markdown table cell: one line, pipes escaped
    return " ".join(str(text).split()).replace("|", "\\|")


def _default(p: Any) -> str:
    d = p.default
    if p.is_flag:
        return "off" if not d else "on"
    if d is None or callable(d) or d in ((), []):
        return ""
    return f"`{d}`"


def _command(cmd: Any, path: str) -> list[str]:
    lines = [f"## rnnlab {path}", ""]
    if cmd.help:
        lines += [cmd.help.strip(), ""]
    args = [p for p in cmd.params if getattr(p, "param_type_name", "") == "argument"]
    opts = [p for p in cmd.params if getattr(p, "param_type_name", "") == "option"]
    usage = ["[OPTIONS]"] * bool(opts) + [
        f"{p.name.upper()}{'...' * (p.nargs == -1)}" for p in args
    ]
    lines += [f"`rnnlab {' '.join([path, *usage])}`", ""]
    if opts:
        lines += ["| option | default | what it does |", "|---|---|---|"]
        for p in opts:
            names = ", ".join(f"`{o}`" for o in (*p.opts, *p.secondary_opts))
            req = " (required)" if p.required else ""
            lines.append(f"| {names}{req} | {_default(p)} | {_cell(p.help or '')} |")
        lines.append("")
    return lines


def reference() -> str:
    """Every ``rnnlab`` command with its arguments and options (name, default, help), in the
    order of ``rnnlab --help``, as Markdown (one ``##`` section per command)."""
    from rnnlab.cli import app

    out: list[str] = []

    def walk(cmd: Any, path: str) -> None:
        subs = getattr(cmd, "commands", None)
        if subs is None:
            out.extend(_command(cmd, path))
            return
        for name, sub in sorted(subs.items()):
            walk(sub, f"{path} {name}".strip())

    walk(typer.main.get_command(app), "")
    return "\n".join(out)
