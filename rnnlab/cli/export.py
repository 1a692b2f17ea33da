"""``rnnlab export RUN --format onnx|torchscript``."""

from __future__ import annotations

from pathlib import Path

import typer


def export(
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
    from rnnlab.export import export_run

    info = export_run(run, fmt.lower(), out, verify)
    typer.echo(
        f"wrote {info['path']} ({info['task']} model, {info['format']}, {info['bytes']:,} bytes; "
        f"inputs {', '.join(info['inputs'])} -> {', '.join(info['outputs'])})"
    )
    if info["max_abs_diff"] is not None:
        tool = "onnxruntime" if info["format"] == "onnx" else "torch.jit"
        typer.echo(
            f"checked with {tool} on two other batch sizes and sequence lengths: "
            f"max |difference| from PyTorch {info['max_abs_diff']:.2e}"
        )
