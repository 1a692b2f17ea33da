"""One token at a time through a trained model (generation, beam search), fast on CPU.

``Stepper(model)`` needs a model with ``emb`` (embedding), ``rnn`` (a recurrent layer of
``rnnlab.core``) and ``head`` (a linear map to logits), e.g. the lm task's
``LanguageModel``. The int8 path computes the two projections of each layer itself and
applies the cell equations of ``rnnlab.core.cells`` to them (written there once).

>>> step = Stepper(model)                          # doctest: +SKIP
>>> logits, state = step(torch.tensor([3]), state)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnlab.core import kernels
from rnnlab.core.cells import from_projections

_FUSED = {"GRU": torch.gru_cell, "RNN_TANH": torch.rnn_tanh_cell, "RNN_RELU": torch.rnn_relu_cell}
_CELL_IDS = {"RNN_TANH": 0, "RNN_RELU": 1, "GRU": 2, "LSTM": 3}  # rnnlab.core.kernels' ids


_KERNEL_DTYPES = (torch.float32, torch.float64)


class Stepper:
    """Feed one token at a time with torch's fused cell kernels.

    Same maths as ``model.forward`` (to float rounding), without a sequence layer's per-call
    cost: oneDNN's LSTM, fast for training batches, spends ~5 ms per single step on CPU. On
    CPU with the fused kernels (``rnnlab.core.kernels``) one C++ call steps the whole stack
    (two GEMMs and one pointwise pass per layer); else torch's ``*_cell`` ops, layer by layer.
    ``quantize=True`` stores the recurrent and input weights as int8 (one scale per output
    row) and runs the step in bfloat16: ~1.6x faster on CPU, logits within ~1e-2.
    Layers it does not know (minGRU/minLSTM, projections, learned initial states) fall back
    to ``model.forward``. The state keeps the layer's format, so it can come from a prompt
    read by ``model.forward``.
    """

    def __init__(self, model: nn.Module, quantize: bool = False):
        self.model, rnn = model, model.rnn
        self.mode = getattr(rnn, "mode", None)  # torch.nn: GRU, LSTM, RNN_TANH, RNN_RELU
        self.fast = (
            self.mode in ("GRU", "LSTM", "RNN_TANH", "RNN_RELU")
            and not rnn.bidirectional
            and rnn.bias
            and not getattr(rnn, "proj_size", 0)
            and not getattr(rnn, "zoneout", 0.0)  # its eval rule is not torch's cell
            and not getattr(rnn, "layer_norm", False)  # torch's cells have no LN: forward
            and not model.training
        )
        # minGRU/minLSTM have their own O(1)-state step
        self.min_step = (
            not self.fast
            and callable(getattr(rnn, "step", None))
            and not rnn.bidirectional
            and not model.training
        )
        names = ("weight_ih_l{}", "weight_hh_l{}", "bias_ih_l{}", "bias_hh_l{}")
        self.w = (
            [[getattr(rnn, n.format(k)) for n in names] for k in range(rnn.num_layers)]
            if self.fast
            else []
        )
        self.flat = [t.detach() for w in self.w for t in w]  # for the fused kernels' stack_step
        self.quantize = quantize and self.fast and hasattr(torch, "_weight_int8pack_mm")
        if self.quantize:
            w0 = self.w[0]
            # layer 0's input projection of every token, precomputed (exact, fp32)
            self.table = F.linear(model.emb.weight, w0[0], w0[2])
            self.q = [(None if k == 0 else _int8(w[0]), _int8(w[1])) for k, w in enumerate(self.w)]

    def __call__(self, ids: Tensor, state: Any) -> tuple[Tensor, Any]:
        """``ids`` (B,) and the state for B sequences -> (logits (B,V), new state)."""
        if self.min_step and state is not None and not isinstance(state, tuple):
            y, state = self.model.rnn.step(self.model.emb(ids), state)
            return self.model.head(y), state
        if not self.fast or state is None:
            with no_onednn():
                logits, state = self.model(ids[:, None], state)
            return logits[:, -1], state
        if self.quantize:
            return self._step_int8(ids, state)
        lstm = self.mode == "LSTM"
        h, c = state if lstm else (state, None)
        x = self.model.emb(ids)
        kern = kernels.get() if x.device.type == "cpu" and x.dtype in _KERNEL_DTYPES else None
        if kern is not None:  # the whole stack in one C++ call
            new = kern.stack_step(_CELL_IDS[self.mode], x, h.contiguous(),
                                  c.contiguous() if lstm else None, self.flat)  # fmt: skip
            return self.model.head(new[0][-1]), (tuple(new) if lstm else new[0])
        hs, cs = [], []
        for k, w in enumerate(self.w):
            if lstm:
                x, ck = torch.lstm_cell(x, (h[k], c[k]), *w)
                cs.append(ck)
            else:
                x = _FUSED[self.mode](x, h[k], *w)
            hs.append(x)
        new = (torch.stack(hs), torch.stack(cs)) if lstm else torch.stack(hs)
        return self.model.head(x), new

    def _step_int8(self, ids: Tensor, state: Any) -> tuple[Tensor, Any]:
        lstm = self.mode == "LSTM"
        cell = self.mode.lower()
        h, c = state if lstm else (state, None)
        hs, cs, x = [], [], None
        for k, w in enumerate(self.w):
            gi = self.table[ids] if k == 0 else _mm8(x, self.q[k][0]) + w[2]
            gh = _mm8(h[k], self.q[k][1]) + w[3]
            x, ck = from_projections(cell, gi, gh, h[k], c[k] if lstm else None)
            hs.append(x)
            if lstm:
                cs.append(ck)
        new = (torch.stack(hs), torch.stack(cs)) if lstm else torch.stack(hs)
        return self.model.head(x), new


def _int8(w: Tensor) -> tuple[Tensor, Tensor]:
    """Symmetric per-row int8 weights and their bfloat16 scales."""
    scale = w.abs().amax(1).clamp_min(1e-12) / 127
    return (w / scale[:, None]).round().clamp(-127, 127).to(torch.int8), scale.to(torch.bfloat16)


def _mm8(x: Tensor, q: tuple[Tensor, Tensor]) -> Tensor:
    return torch._weight_int8pack_mm(x.to(torch.bfloat16), q[0], q[1]).float()


@contextmanager
def no_onednn() -> Iterator[None]:
    """oneDNN's LSTM is fast on training batches but costs ~3 ms per call on one short
    sequence (prompt reading): use torch's own kernel there (same maths)."""
    prev = torch._C._get_mkldnn_enabled()
    torch._C._set_mkldnn_enabled(False)
    try:
        yield
    finally:
        torch._C._set_mkldnn_enabled(prev)
