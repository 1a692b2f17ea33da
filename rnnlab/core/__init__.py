"""The RNN engine: cells, layers (stacked, bidirectional, lengths), explicit BPTT, scans, traces.

TEMPORARY (being written now): ``make_rnn`` returns torch.nn layers until rnnlab's own
``RNN/GRU/LSTM`` (same constructor, forward, state_dict) land in ``rnnlab/core/layers.py``.
"""

from __future__ import annotations

import torch

CELLS = ("rnn", "rnn_relu", "gru", "lstm", "mingru", "minlstm")


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
) -> torch.nn.Module:
    """Build a recurrent layer by cell name (``rnn``, ``rnn_relu``, ``gru``, ``lstm``, ``mingru``, ``minlstm``).

    >>> rnn = make_rnn("gru", 8, 16, num_layers=2)
    >>> out, h = rnn(torch.zeros(3, 5, 8))
    """
    from rnnlab.errors import InputError

    kw = dict(num_layers=num_layers, dropout=dropout if num_layers > 1 else 0.0,
              bidirectional=bidirectional, batch_first=batch_first, bias=bias)
    if cell in ("rnn", "rnn_relu"):
        return torch.nn.RNN(input_size, hidden_size, nonlinearity="relu" if cell == "rnn_relu" else "tanh", **kw)
    if cell == "gru":
        return torch.nn.GRU(input_size, hidden_size, **kw)
    if cell == "lstm":
        return torch.nn.LSTM(input_size, hidden_size, **kw)
    raise InputError(f"unknown cell {cell!r}: choose one of {', '.join(CELLS)}")
