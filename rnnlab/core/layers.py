"""Recurrent layers: ``RNN``, ``GRU``, ``LSTM`` — drop-ins for torch.nn that can also show
everything inside.

They subclass torch.nn's classes, so constructor arguments, parameter names, ``state_dict``
layout, initialisation and ``isinstance`` checks are torch.nn's. On top of that:

* ``forward(input, hx=None, lengths=None)``: ``lengths`` handles variable-length batches
  without packing (padded outputs are 0, ``h_n`` is each sequence's last real state, the
  reverse direction starts at each sequence's own end);
* ``engine``: ``"native"`` (torch's fused kernels), ``"explicit"`` (rnnlab's own loop and
  hand-written BPTT, ``rnnlab.core.bptt``), ``"auto"`` (native unless tracing);
* ``init``: initial state ``"zeros"`` (default), ``"random"`` (N(0, init_std²) per call) or
  ``"learned"`` (a parameter per layer and direction, named ``init_h_l{k}[_reverse]``);
* ``trace(input, lengths=..., grad_of=...)``: hidden states, gates and dL/dh_t (an LSTM's
  dL/dc_t too) at every step;
* training options (``rnnlab.core.options``, all off by default): ``forget_bias`` (LSTM),
  ``recurrent_init="orthogonal"``, ``weight_drop``, ``recurrent_dropout``, ``zoneout``,
  ``layer_norm`` (Ba et al. 2016; equations and parameter names in ``rnnlab.core.layernorm``).

The stacking / direction / lengths logic lives in ``Recurrent``, shared with the scan cells
(``rnnlab.core.minrnn``), which only implement ``_run_direction``.

>>> rnn = GRU(8, 16, num_layers=2, batch_first=True)
>>> out, h_n = rnn(torch.randn(3, 5, 8), lengths=torch.tensor([5, 2, 4]))
"""

from __future__ import annotations

from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from rnnlab.core import layernorm, options
from rnnlab.core.bptt import ExplicitBPTT
from rnnlab.core.padding import check_lengths, last_step, reverse_padded
from rnnlab.core.trace import Trace, record_trace

ENGINES = ("auto", "native", "explicit", "scan")
INITS = ("zeros", "random", "learned")


class Recurrent:
    """Mixin with the layer logic shared by every cell kind (see the module docstring).

    A subclass provides ``cell`` (name), ``_state_sizes() -> (h_size, c_size or 0)`` and
    ``_run_direction(layer, rev, x, h0, c0, rec) -> (out (T,B,P), c_all (T,B,H) or None)``
    on time-major tensors for full-length sequences; ``_native`` if a fused kernel exists.
    """

    cell: str
    default_engine = "auto"

    def _setup(self, init: str, init_std: float, engine: str) -> None:
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        if init_std < 0:
            raise ValueError(f"init_std must be >= 0, got {init_std}")
        self.init, self.init_std = init, float(init_std)
        self.engine = engine
        if init == "learned":
            hs, cs = self._state_sizes()
            for k in range(self.num_layers):
                for sfx in self._suffixes():
                    p = nn.Parameter(torch.zeros(hs))
                    self.register_parameter(f"init_h_l{k}{sfx}", p)
                    if cs:
                        self.register_parameter(f"init_c_l{k}{sfx}", nn.Parameter(torch.zeros(cs)))

    @property
    def engine(self) -> str:
        return self._engine

    @engine.setter
    def engine(self, value: str) -> None:
        allowed = self._engines()
        if value not in allowed:
            raise ValueError(
                f"engine must be one of {allowed} for {type(self).__name__}, got {value!r}"
            )
        options.check_engine(self, value)  # e.g. recurrent_dropout cannot run on "native"
        self._engine = value

    def _engines(self) -> tuple[str, ...]:
        return ("auto", "native", "explicit")

    def _suffixes(self) -> list[str]:
        return ["", "_reverse"][: 2 if self.bidirectional else 1]

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    def _state_sizes(self) -> tuple[int, int]:
        raise NotImplementedError

    # ---- input checking -------------------------------------------------------------

    def _prepare(self, input: Tensor, hx: Any, lengths: Tensor | None):
        """Validate and bring input to time-major (T, B, I); build the initial state."""
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise ValueError(f"{name} expects a tensor input, got {type(input).__name__}")
        if input.dim() not in (2, 3):
            raise ValueError(
                f"{name} expects input of rank 3 ({'B, T' if self.batch_first else 'T, B'}, "
                f"{self.input_size}) or rank 2 (T, {self.input_size}) unbatched; got shape {tuple(input.shape)}"
            )
        if input.shape[-1] != self.input_size:
            raise ValueError(
                f"{name} was built with input_size={self.input_size} but the input has "
                f"{input.shape[-1]} features (shape {tuple(input.shape)})"
            )
        batched = input.dim() == 3
        x = input if batched else input.unsqueeze(1)
        if batched and self.batch_first:
            x = x.transpose(0, 1)
        T, B = x.shape[0], x.shape[1]
        if T == 0 or B == 0:
            raise ValueError(
                f"{name} got an empty input (shape {tuple(input.shape)}: "
                f"{'no time steps' if T == 0 else 'a batch of 0'}); give at least one step"
            )
        if lengths is not None:
            lengths = check_lengths(lengths, T, B)
        hs, cs = self._state_sizes()
        LD = self.num_layers * self.num_directions
        if hx is None:
            h0, c0 = self._initial_state(B, x)
        else:
            is_pair = isinstance(hx, tuple)
            if bool(cs) != is_pair:
                want = "a (h_0, c_0) tuple" if cs else "a single tensor h_0"
                raise ValueError(f"{name} expects hx as {want}")
            parts = hx if is_pair else (hx,)
            shaped = []
            for part, size, what in zip(parts, (hs, cs), ("h_0", "c_0")):
                if not batched:
                    if part.dim() != 2:
                        raise ValueError(
                            f"{what} for unbatched input must be 2-D ({LD}, {size}), got {tuple(part.shape)}"
                        )
                    part = part.unsqueeze(1)
                if tuple(part.shape) != (LD, B, size):
                    raise ValueError(
                        f"{what} must have shape {(LD, B, size)}, got {tuple(part.shape)}"
                    )
                shaped.append(part)
            h0, c0 = shaped[0], (shaped[1] if cs else None)
        return x, h0, c0, lengths, batched

    def _initial_state(self, B: int, x: Tensor) -> tuple[Tensor, Tensor | None]:
        hs, cs = self._state_sizes()
        LD = self.num_layers * self.num_directions
        kw = dict(device=x.device, dtype=x.dtype)
        if self.init == "zeros":
            return torch.zeros(LD, B, hs, **kw), (torch.zeros(LD, B, cs, **kw) if cs else None)
        if self.init == "random":
            return (
                torch.randn(LD, B, hs, **kw) * self.init_std,
                torch.randn(LD, B, cs, **kw) * self.init_std if cs else None,
            )
        names = [f"l{k}{s}" for k in range(self.num_layers) for s in self._suffixes()]
        h0 = (
            torch.stack([getattr(self, f"init_h_{n}") for n in names])
            .unsqueeze(1)
            .expand(LD, B, hs)
        )
        c0 = (
            torch.stack([getattr(self, f"init_c_{n}") for n in names])
            .unsqueeze(1)
            .expand(LD, B, cs)
            if cs
            else None
        )
        return h0.to(**kw), (c0.to(**kw) if cs else None)

    # ---- forward ---------------------------------------------------------------------

    def forward(self, input: Any, hx: Any = None, lengths: Tensor | None = None):
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        if self.engine in ("auto", "native") and self._has_native():
            return self._forward_native(input, hx, lengths)
        return self._forward_impl(input, hx, lengths, None)

    def _has_native(self) -> bool:
        return False

    def _forward_packed(self, packed: PackedSequence, hx: Any):
        if self.engine in ("auto", "native") and self._has_native():
            if hx is None and self.init != "zeros":
                B = int(packed.batch_sizes[0])
                h0, c0 = self._initial_state(B, packed.data)
                hx = (h0, c0) if c0 is not None else h0
            return self._native(packed, hx)
        x, lengths = pad_packed_sequence(packed, batch_first=self.batch_first)
        out, h = self._forward_impl(x, hx, lengths, None)
        return pack_padded_sequence(
            out, lengths, batch_first=self.batch_first, enforce_sorted=False
        ), h

    def _forward_native(self, input: Tensor, hx: Any, lengths: Tensor | None):
        x, h0, c0, lengths, batched = self._prepare(input, hx, lengths)
        state = (h0, c0) if c0 is not None else h0
        if lengths is None:
            out, h = self._native(x, state, time_major=True)
        else:
            packed = pack_padded_sequence(x, lengths.cpu(), enforce_sorted=False)
            out, h = self._native(packed, state, time_major=True)
            out, _ = pad_packed_sequence(out, total_length=x.shape[0])
        return self._finish(out, h, batched)

    def _finish(self, out: Tensor, h: Any, batched: bool):
        """Time-major (T, B, ·) results back to the caller's layout."""
        if not batched:
            out = out.squeeze(1)
            h = tuple(s.squeeze(1) for s in h) if isinstance(h, tuple) else h.squeeze(1)
        elif self.batch_first:
            out = out.transpose(0, 1)
        return out, h

    def _forward_impl(self, input: Tensor, hx: Any, lengths: Tensor | None, recs: list | None):
        """rnnlab's own path: explicit BPTT or scan, layer by layer, direction by direction."""
        x, h0, c0, lengths, batched = self._prepare(input, hx, lengths)
        mask = None
        if lengths is not None:
            mask = (
                torch.arange(x.shape[0], device=x.device).unsqueeze(1) < lengths.to(x.device)
            ).unsqueeze(-1)
            mask = mask.to(x.dtype)
        layer_in, hs, cs = x, [], []
        for k in range(self.num_layers):
            outs = []
            for d in range(self.num_directions):
                i = k * self.num_directions + d
                rec = recs[k][d] if recs is not None else None
                xin = reverse_padded(layer_in, lengths) if d else layer_in
                out, c_all = self._run_direction(
                    k, bool(d), xin, h0[i], None if c0 is None else c0[i], rec
                )
                hs.append(last_step(out, lengths))
                if c_all is not None:
                    cs.append(last_step(c_all, lengths))
                if mask is not None:
                    out = out * mask
                if rec is not None:
                    rec.hidden, rec.reverse = out, bool(d)
                outs.append(reverse_padded(out, lengths) if d else out)
            layer_in = torch.cat(outs, -1) if len(outs) > 1 else outs[0]
            if self.dropout and self.training and k < self.num_layers - 1:
                layer_in = F.dropout(layer_in, self.dropout, training=True)
        h_n = torch.stack(hs)
        h = (h_n, torch.stack(cs)) if c0 is not None else h_n
        return self._finish(layer_in, h, batched)

    # ---- trace -------------------------------------------------------------------------

    def trace(
        self, input: Tensor, hx: Any = None, lengths: Tensor | None = None, grad_of=None
    ) -> Trace:
        """Run the layer and return a ``Trace`` (hidden states, gates and, when ``grad_of`` is
        given, dL/dh_t for every step, with L = ``grad_of(output)``).

        Parameters' ``.grad`` are left untouched.

        >>> tr = GRU(4, 8, batch_first=True).trace(torch.randn(2, 6, 4), grad_of=lambda y: y[:, -1].sum())
        >>> tr.grad_h[0][0].shape
        torch.Size([2, 6, 8])
        """
        return record_trace(self, input, hx, lengths, grad_of)

    # ---- state_dict with clear errors ------------------------------------------------------

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        if strict:
            want = self.state_dict()
            missing = [k for k in want if k not in state_dict]
            extra = [k for k in state_dict if k not in want]
            wrong = [
                (k, tuple(state_dict[k].shape), tuple(want[k].shape))
                for k in want
                if k in state_dict and tuple(state_dict[k].shape) != tuple(want[k].shape)
            ]
            if missing or extra or wrong:
                msg = [f"state_dict does not fit {self!r}:"]
                if missing:
                    msg.append(f"missing keys {missing[:4]}")
                if extra:
                    msg.append(f"unexpected keys {extra[:4]}")
                for k, got, exp in wrong[:3]:
                    msg.append(f"{k} has shape {got}, expected {exp}")
                raise ValueError(" ".join(msg))
        return nn.Module.load_state_dict(self, state_dict, strict=strict, assign=assign)


class _TorchRecurrent(Recurrent):
    """Glue between ``Recurrent`` and torch.nn's RNNBase (native kernels, weight names)."""

    def __init__(
        self,
        *args,
        init: str = "zeros",
        init_std: float = 0.1,
        engine: str = "auto",
        forget_bias: float | None = None,
        recurrent_init: Literal["default", "orthogonal"] = "default",
        weight_drop: float = 0.0,
        recurrent_dropout: float = 0.0,
        zoneout: float = 0.0,
        layer_norm: bool = False,
        **kwargs,
    ):
        # the torch.nn class's own arguments and parameters (same state_dict keys), then ours
        self._torch_cls.__init__(self, *args, **kwargs)
        options.configure(
            self, forget_bias, recurrent_init, weight_drop, recurrent_dropout, zoneout, layer_norm
        )
        self._setup(init, init_std, engine)

    def reset_parameters(self) -> None:
        """torch.nn's initialisation, then ``recurrent_init`` and ``forget_bias``."""
        self._torch_cls.reset_parameters(self)
        options.init_weights(self)

    def _has_native(self) -> bool:
        return options.uses_native(self)

    def _native(self, x: Any, state: Any, time_major: bool = False):
        # torch.nn's own forward (fused kernels, packed sequences, cuDNN on GPU), for this
        # call on weight_drop's masked weights and in the time-major layout if asked. The
        # layout is changed on the tensor, never on the module: a served model runs in many
        # threads at once, and flipping self.batch_first for one call garbled the others
        flip = time_major and self.batch_first and not isinstance(x, PackedSequence)
        if flip:
            x = x.transpose(0, 1)
        flat = options.native_weights(self)  # None unless training with weight_drop
        if flat is None:
            out, h = self._torch_cls.forward(self, x, state)
        else:
            saved, self._flat_weights = self._flat_weights, flat
            try:
                out, h = self._torch_cls.forward(self, x, state)
            finally:
                self._flat_weights = saved
        return (out.transpose(0, 1) if flip else out), h

    def _state_sizes(self) -> tuple[int, int]:
        hs = self.proj_size if getattr(self, "proj_size", 0) else self.hidden_size
        return hs, (self.hidden_size if self.cell == "lstm" else 0)

    def _run_direction(self, layer: int, rev: bool, x: Tensor, h0: Tensor, c0: Tensor | None, rec):
        sfx = f"_l{layer}" + ("_reverse" if rev else "")
        g = lambda n: getattr(self, n + sfx, None)  # noqa: E731
        w_hr = g("weight_hr") if getattr(self, "proj_size", 0) else None
        b_ih, b_hh = (g("bias_ih"), g("bias_hh")) if self.bias else (None, None)
        w_hh = options.recurrent_weight(self, "weight_hh" + sfx)  # weight_drop
        hmask, zh, zc = options.state_masks(self, x.shape[0], h0, c0)  # recurrent_dropout, zoneout
        if self.layer_norm:
            return layernorm.run(self, sfx, x, h0, c0, w_hh, rec, hmask, zh, zc)
        out, c_all = ExplicitBPTT.apply(
            self.cell, x, h0, c0, g("weight_ih"), w_hh, b_ih, b_hh, w_hr, rec, hmask, zh, zc
        )
        return out, (c_all if self.cell == "lstm" else None)


class RNN(_TorchRecurrent, nn.RNN):
    """Elman RNN, ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (or relu).

    Same arguments as ``torch.nn.RNN`` plus ``init``, ``init_std``, ``engine`` and the options
    ``recurrent_init`` ("orthogonal": each W_hh gate block orthogonal), ``weight_drop`` (p of
    DropConnect on W_hh, one mask per call while training), ``recurrent_dropout`` (one mask per
    sequence on h_{t-1} at W_hh) and ``zoneout`` (explicit engine for both): rnnlab.core.options.
    ``layer_norm=True``: ``h = tanh(LN_ih(x W_ih^T) + LN_hh(h W_hh^T) + b_ih + b_hh)``, each LN
    over all its rows with its own gain and shift (``layer_norm_{ih,hh}_{weight,bias}_l{k}``;
    explicit engine; rnnlab.core.layernorm).

    >>> out, h_n = RNN(4, 8, nonlinearity="relu")(torch.randn(5, 2, 4))
    >>> awd = RNN(4, 8, recurrent_init="orthogonal", weight_drop=0.3)
    """

    _torch_cls = nn.RNN

    @property
    def cell(self) -> str:
        return "rnn_relu" if self.nonlinearity == "relu" else "rnn_tanh"


class GRU(_TorchRecurrent, nn.GRU):
    """Gated recurrent unit (Cho et al. 2014), torch.nn gate order ``r, z, n``; options as
    ``RNN`` (recurrent dropout masks the state in ``h W_hh^T`` only, not in ``z ⊙ h``).
    ``layer_norm=True``: ``LN_ih(x W_ih^T) + b_ih`` and ``LN_hh(h W_hh^T) + b_hh`` replace the two
    projections (so ``b_hn`` and LN_hh's n block stay inside ``r ⊙ (·)``); rnnlab.core.layernorm.

    >>> out, h_n = GRU(4, 8, batch_first=True)(torch.randn(2, 5, 4))
    >>> gal = GRU(4, 8, recurrent_dropout=0.25)  # "auto" runs it on the explicit engine
    """

    _torch_cls = nn.GRU
    cell = "gru"


class LSTM(_TorchRecurrent, nn.LSTM):
    """Long short-term memory (Hochreiter & Schmidhuber 1997), gate order ``i, f, g, o``,
    with ``proj_size`` like torch.nn; options as ``RNN`` plus ``forget_bias``: the forget
    block of ``bias_ih`` set to it and that of ``bias_hh`` to 0 (their sum is ``forget_bias``).
    ``layer_norm=True``: gates ``= LN_ih(x W_ih^T) + LN_hh(h W_hh^T) + b_ih + b_hh``, ``c = f c +
    i g``, ``h = o tanh(LN_c(c))`` (Ba et al. 2016; extra keys ``layer_norm_{ih,hh,c}_{weight,
    bias}_l{k}[_reverse]``; explicit engine, not with proj_size): rnnlab.core.layernorm.

    >>> out, (h_n, c_n) = LSTM(4, 8, proj_size=3)(torch.randn(5, 2, 4))
    >>> awd = LSTM(4, 8, forget_bias=1.0, weight_drop=0.5, recurrent_dropout=0.2)
    >>> ln = LSTM(4, 8, layer_norm=True)  # "auto" runs it on the explicit engine
    """

    _torch_cls = nn.LSTM
    cell = "lstm"
