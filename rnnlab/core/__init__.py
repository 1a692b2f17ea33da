"""The RNN engine: cells, layers (stacked, bidirectional, lengths), explicit BPTT, scans, traces."""

from __future__ import annotations

import torch

from rnnlab.config import CELLS, RNNSpec
from rnnlab.core import minrnn
from rnnlab.core.layers import GRU, LSTM, RNN, Recurrent
from rnnlab.core.trace import Trace
from rnnlab.errors import InputError


def make_rnn(
    cell: str,
    input_size: int,
    hidden_size: int,
    num_layers: int = 1,
    *,
    dropout: float = 0.0,
    bidirectional: bool = False,
    batch_first: bool = True,
    bias: bool = True,
    **kwargs,
) -> torch.nn.Module:
    """Build a recurrent layer by cell name: ``rnn`` (tanh), ``rnn_relu``, ``gru``, ``lstm``,
    ``mingru``, ``minlstm``. Extra keyword arguments (``init``, ``engine``, ``proj_size``,
    the training options of ``rnnlab.core.options`` such as ``weight_drop``) go to the layer.

    >>> rnn = make_rnn("gru", 8, 16, num_layers=2)
    >>> out, h = rnn(torch.zeros(3, 5, 8))
    """

    for name, v in (
        ("input_size", input_size),
        ("hidden_size", hidden_size),
        ("num_layers", num_layers),
    ):
        if not isinstance(v, int) or v <= 0:
            raise InputError(f"{name} must be a positive integer, got {v!r}")
    if not 0.0 <= dropout < 1.0:
        raise InputError(f"dropout must be in [0, 1), got {dropout}")
    kw = dict(
        num_layers=num_layers,
        dropout=dropout if num_layers > 1 else 0.0,
        bidirectional=bidirectional,
        batch_first=batch_first,
        bias=bias,
        **kwargs,
    )
    if cell in ("rnn", "rnn_tanh", "rnn_relu"):
        return RNN(
            input_size, hidden_size, nonlinearity="relu" if cell == "rnn_relu" else "tanh", **kw
        )
    if cell == "gru":
        return GRU(input_size, hidden_size, **kw)
    if cell == "lstm":
        return LSTM(input_size, hidden_size, **kw)
    if cell in ("mingru", "minlstm"):
        return (minrnn.MinGRU if cell == "mingru" else minrnn.MinLSTM)(
            input_size, hidden_size, **kw
        )
    raise InputError(f"unknown cell {cell!r}: choose one of {', '.join(CELLS)}")


# the training options of rnnlab.core.options with their off values: a spec that has such a
# field (e.g. ``LMModel``) passes it to the layer; other tasks' specs need not have them
LAYER_OPTIONS: dict[str, object] = dict(
    forget_bias=None,
    recurrent_init="default",
    weight_drop=0.0,
    recurrent_dropout=0.0,
    zoneout=0.0,
    layer_norm=False,
)


def layer_options(spec: RNNSpec) -> dict[str, object]:
    """The options of ``LAYER_OPTIONS`` that ``spec`` sets to something other than off.

    The scan cells (mingru/minlstm) have no ``weight_hh`` to drop or initialise and no
    forget-gate bias of torch's layout: setting one for them is an ``InputError``.
    """
    opts = {k: getattr(spec, k, off) for k, off in LAYER_OPTIONS.items()}
    opts = {k: v for k, v in opts.items() if v != LAYER_OPTIONS[k]}
    if opts and spec.cell in ("mingru", "minlstm"):
        name = next(iter(opts))
        raise InputError(
            f"{name} is not available for the {spec.cell} cell (it has no recurrent weight "
            f"matrix): use gru, lstm or rnn, or leave {name} off"
        )
    return opts


def build_rnn(spec: RNNSpec, input_size: int, **kwargs) -> torch.nn.Module:
    """The recurrent layer (batch first) that ``spec`` describes, reading ``input_size``
    features, with the spec's training options (``layer_options``); extra keyword arguments
    go to ``make_rnn``.

    >>> rnn = build_rnn(RNNSpec(cell="lstm", hidden=16, layers=2), input_size=8)
    """
    return make_rnn(
        spec.cell,
        input_size,
        spec.hidden,
        spec.layers,
        dropout=spec.dropout,
        bidirectional=spec.bidirectional,
        batch_first=True,
        **{**layer_options(spec), **kwargs},
    )


__all__ = ["RNN", "GRU", "LSTM", "Recurrent", "Trace", "make_rnn", "build_rnn", "CELLS"]
