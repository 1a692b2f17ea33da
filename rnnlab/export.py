"""Export a trained run to ONNX or TorchScript: ``rnnlab export RUN --format onnx``.

Language-model, forecasting and classification runs are supported, with dynamic batch size
and sequence length. The recurrent layer is exported through torch.nn's own forward (the
``native`` engine), which becomes one ONNX ``GRU`` / ``LSTM`` / ``RNN`` node per layer whose
time axis is free; rnnlab's explicit loop (and the minGRU/minLSTM scan) would be unrolled to
the length of the example input, so those cells are refused with a clear message.

What the exported graph computes (float32; the inputs' names are the graph's input names):

    lm        ids (batch, seq) int64, h0 (layers, batch, hidden) [, c0 for LSTM]
              -> logits (batch, seq, vocab), h_n [, c_n]      (h0 = zeros for a fresh start)
    forecast  y (batch, seq) scaled target, feats (batch, seq, F), future (batch, horizon, K)
              -> out (batch, horizon, 5 quantiles | mean and std)   (scaled, as in training;
              seq is the lookback, at least one season when trained that way)
    classify  x (batch, seq) int64 token ids or (batch, seq, F) float features,
              lengths (batch,) int64 -> logits (batch, classes)

The ONNX file carries the run's ``config.json`` (tokenizer, scalers, classes...) in its
metadata (``rnnlab_config``), the TorchScript file as the extra file ``config.json``.

>>> info = export_run("runs/lm", "onnx")      # doctest: +SKIP
>>> info["path"], info["max_abs_diff"]        # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from rnnlab.core.layers import _TorchRecurrent
from rnnlab.errors import CheckpointError, InputError
from rnnlab.io import atomic_write_bytes
from rnnlab.tasks.classify.infer import load_classifier
from rnnlab.tasks.forecast.infer import load_forecaster
from rnnlab.tasks.lm.model import load_lm
from rnnlab.train.checkpoint import read_config

FORMATS = ("onnx", "torchscript")
TASKS = ("lm", "forecast", "classify")
CELLS = ("rnn", "rnn_relu", "gru", "lstm")  # the cells with a native (ONNX RNN-op) kernel
SUFFIX = {"onnx": "model.onnx", "torchscript": "model.torchscript.pt"}
OPSET = 17


@dataclass
class Exportable:
    """A run ready to export: the module to trace and how to make inputs for it."""

    task: str
    module: nn.Module
    input_names: list[str]
    output_names: list[str]
    dynamic_axes: dict[str, dict[int, str]]
    make_inputs: Any  # (batch, seq, seed) -> tuple of example tensors
    config: dict[str, Any] = field(default_factory=dict)
    seq: int = 8  # the example sequence length used for tracing


class _LMGraph(nn.Module):
    """``(ids, h0[, c0]) -> (logits, h_n[, c_n])``: the state as explicit inputs/outputs."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, ids: Tensor, h0: Tensor, c0: Tensor | None = None) -> tuple[Tensor, ...]:
        logits, state = self.model(ids, h0 if c0 is None else (h0, c0))
        return (logits, *state) if isinstance(state, tuple) else (logits, state)


def _native(rnn: nn.Module, cell: str) -> None:
    """Switch the recurrent layer to torch.nn's kernels, or say which cells can be exported."""
    if not isinstance(rnn, _TorchRecurrent):
        raise InputError(
            f"a {cell} model cannot be exported with a free sequence length: its scan is a "
            f"Python loop that tracing would fix to one length; export works for the cells "
            f"{', '.join(CELLS)}"
        )
    if getattr(rnn, "zoneout", 0.0):
        raise InputError(
            "a model trained with --zoneout cannot be exported: its eval rule (the expected "
            "state, p h_{t-1} + (1-p) h_t) is not the ONNX RNN op; train it with --zoneout 0"
        )
    if getattr(rnn, "layer_norm", False):
        raise InputError(
            "a model trained with --layer-norm cannot be exported: the ONNX RNN ops have no "
            "layer normalisation inside the recurrence; train it with --no-layer-norm"
        )
    # torch.nn's forward (one ONNX RNN op per layer, free time axis); "auto" is that too,
    # but a loader may have picked the explicit engine, whose loop tracing would unroll
    rnn.engine = "native"


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _lengths(batch: int, seq: int) -> Tensor:
    # distinct lengths, the longest first and the shortest 1: tracing sees the padded path
    return torch.tensor([max(1, seq - (seq * i) // max(1, batch - 1)) for i in range(batch)])


def prepare(run_dir: str | Path) -> Exportable:
    """Load a run with its task's loader (checksums verified) and wrap it for export."""
    task = read_config(run_dir).get("task")
    if task not in TASKS:
        raise CheckpointError(
            f"{run_dir} holds a '{task}' model; export supports {', '.join(TASKS)} runs"
        )
    if task == "lm":
        model = load_lm(run_dir)
        cfg = model.config
        _native(model.rnn, cfg["model"]["cell"])
        L, H, V = model.rnn.num_layers, model.rnn.hidden_size, len(model.tokenizer)
        lstm = cfg["model"]["cell"] == "lstm"
        names = ["ids", "h0"] + (["c0"] if lstm else [])
        outs = ["logits", "h_n"] + (["c_n"] if lstm else [])

        def make(batch: int, seq: int, seed: int = 0) -> tuple[Tensor, ...]:
            g = _gen(seed)
            ids = torch.randint(0, V, (batch, seq), generator=g)
            states = [0.5 * torch.randn(L, batch, H, generator=g) for _ in names[1:]]
            return (ids, *states)

        dyn = {"ids": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"}}
        dyn.update({n: {1: "batch"} for n in names[1:] + outs[1:]})
        return Exportable(task, _LMGraph(model).eval(), names, outs, dyn, make, cfg)
    if task == "forecast":
        lf = load_forecaster(run_dir)
        arch, m = lf.config["model"]["arch"], lf.model
        for member in m.members:
            _native(member.rnn, arch["cell"])
        F_, K, Hz = arch["n_feat"], arch["n_future"], arch["horizon"]

        def make(batch: int, seq: int, seed: int = 0) -> tuple[Tensor, ...]:
            g = _gen(seed)
            return (
                torch.randn(batch, seq, generator=g),
                torch.randn(batch, seq, F_, generator=g),
                torch.randn(batch, Hz, K, generator=g),
            )

        names = ["y", "feats", "future"]
        dyn = {"y": {0: "batch", 1: "seq"}, "feats": {0: "batch", 1: "seq"}}
        dyn.update(future={0: "batch"}, out={0: "batch"})
        return Exportable(task, m, names, ["out"], dyn, make, lf.config, lf.lookback)
    clf = load_classifier(run_dir)
    arch, m = clf.config["model"], clf.model
    _native(m.rnn, arch["cell"])
    vocab, nf = arch.get("vocab_size"), arch.get("n_features")

    def make(batch: int, seq: int, seed: int = 0) -> tuple[Tensor, ...]:
        g = _gen(seed)
        if vocab:
            x = torch.randint(0, vocab, (batch, seq), generator=g)
        else:
            x = torch.randn(batch, seq, nf, generator=g)
        return x, _lengths(batch, seq)

    dyn = {"x": {0: "batch", 1: "seq"}, "lengths": {0: "batch"}, "logits": {0: "batch"}}
    return Exportable(task, m, ["x", "lengths"], ["logits"], dyn, make, clf.config)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the exporters' tracer/deprecation warnings, and the C++ shape-inference notes
    they print straight to fd 2 (a CLI user would take them for errors)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fd = os.dup(2)
        except OSError:  # no stderr to silence
            yield
            return
        try:
            with open(os.devnull, "wb") as null:
                os.dup2(null.fileno(), 2)
            yield
        finally:
            os.dup2(fd, 2)
            os.close(fd)


def to_bytes(ex: Exportable, fmt: str) -> bytes:
    """The serialized model (ONNX protobuf or TorchScript zip) of ``ex``."""
    if fmt not in FORMATS:
        raise InputError(f"unknown --format {fmt!r}: choose {' or '.join(FORMATS)}")
    example = ex.make_inputs(3, ex.seq, 0)
    meta = json.dumps(ex.config, sort_keys=True)
    buf = io.BytesIO()
    with _quiet(), torch.no_grad():
        if fmt == "torchscript":
            traced = torch.jit.trace(ex.module, example, check_trace=False)
            torch.jit.save(traced, buf, _extra_files={"config.json": meta})
            return buf.getvalue()
        # the TorchScript-based exporter: it maps torch.nn's GRU/LSTM/RNN onto ONNX's RNN
        # ops with a free time axis (the dynamo exporter needs onnxscript)
        torch.onnx.export(
            ex.module,
            example,
            buf,
            dynamo=False,
            input_names=ex.input_names,
            output_names=ex.output_names,
            dynamic_axes=ex.dynamic_axes,
            opset_version=OPSET,
        )
    try:
        import onnx
    except ImportError:  # still a valid model, only without the config in its metadata
        return buf.getvalue()
    proto = onnx.load_from_string(buf.getvalue())
    for k, v in (("rnnlab_task", ex.task), ("rnnlab_config", meta)):
        proto.metadata_props.add(key=k, value=v)
    return proto.SerializeToString()


def run_exported(blob: bytes, fmt: str, inputs: tuple[Tensor, ...], names: list[str]) -> list:
    """Run a serialized model on ``inputs`` (onnxruntime / torch.jit) -> numpy outputs."""
    if fmt == "onnx":
        try:
            import onnxruntime as ort
        except ImportError:
            raise InputError(
                "checking an ONNX model needs onnxruntime: "
                "pip install -c constraints.txt 'rnnlab[export]'"
            ) from None
        sess = ort.InferenceSession(blob, providers=["CPUExecutionProvider"])
        return sess.run(None, {n: t.numpy() for n, t in zip(names, inputs)})
    with _quiet():
        mod = torch.jit.load(io.BytesIO(blob))
    with torch.no_grad():
        out = mod(*inputs)
    return [t.numpy() for t in (out if isinstance(out, tuple) else (out,))]


def max_abs_diff(ex: Exportable, blob: bytes, fmt: str, sizes: list[tuple[int, int]]) -> float:
    """Largest |exported - PyTorch| over outputs for inputs of each (batch, seq) in ``sizes``."""
    worst = 0.0
    for i, (b, t) in enumerate(sizes):
        inputs = ex.make_inputs(b, t, 100 + i)
        with torch.no_grad():
            ref = ex.module(*inputs)
        ref = ref if isinstance(ref, tuple) else (ref,)
        got = run_exported(blob, fmt, inputs, ex.input_names)
        for r, o in zip(ref, got):
            worst = max(worst, float((torch.from_numpy(o) - r).abs().max()))
    return worst


def export_run(
    run_dir: str | Path, fmt: str = "onnx", out: str | Path | None = None, verify: bool = True
) -> dict[str, Any]:
    """Export ``run_dir`` to ``out`` (default ``RUN/model.onnx`` / ``RUN/model.torchscript.pt``),
    written atomically. ``verify`` runs the file (onnxruntime / torch.jit) against PyTorch on
    two other batch sizes and sequence lengths and reports the largest difference."""
    if fmt not in FORMATS:
        raise InputError(f"unknown --format {fmt!r}: choose {' or '.join(FORMATS)}")
    ex = prepare(run_dir)
    blob = to_bytes(ex, fmt)
    path = Path(out) if out is not None else Path(run_dir) / SUFFIX[fmt]
    if path.is_dir():
        raise InputError(f"--out {path} is a directory; give a file name")
    atomic_write_bytes(path, blob)
    diff = None
    if verify:
        diff = max_abs_diff(ex, blob, fmt, [(2, ex.seq + 5), (1, max(1, ex.seq // 2))])
    return {
        "path": path,
        "task": ex.task,
        "format": fmt,
        "bytes": len(blob),
        "inputs": ex.input_names,
        "outputs": ex.output_names,
        "max_abs_diff": diff,
    }


__all__ = ["export_run", "prepare", "to_bytes", "run_exported", "max_abs_diff", "FORMATS"]
