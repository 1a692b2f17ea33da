"""minGRU and minLSTM (Feng et al. 2024, "Were RNNs All We Needed?", arXiv 2410.01201).

The gates read only the input, never the previous state, so the recurrence is linear in h
and a whole sequence is one scan (``rnnlab.core.scan``) after one big input GEMM:

    minGRU   z = σ(k_z),  h̃ = g(k_h),            h_t = (1 - z) ⊙ h_{t-1} + z ⊙ h̃
    minLSTM  f = σ(k_f),  i = σ(k_i),  h̃ = g(k_h),
             f' = f / (f + i),  i' = i / (f + i),  h_t = f' ⊙ h_{t-1} + i' ⊙ h̃

with ``k = x W_ih^T + b_ih`` (blocks ``z, h`` for minGRU: 2H × I; ``f, i, h`` for minLSTM:
3H × I) and ``g(x) = x + 0.5`` for x ≥ 0 else ``σ(x)`` (the paper's log-space-ready
activation; it keeps h̃ > 0). Both are ``h_t = a_t ⊙ h_{t-1} + (1 - a_t) ⊙ h̃_t`` with the
forget coefficient ``a`` = 1 - z, resp. f': the cell math below returns ``(a, h̃)`` and is
shared by the training scan, the step-by-step inference mode and the trace.

Unlike the paper's code, ``h_0`` enters the scan as is (not through ``g``): a returned
``h_n`` can be fed back as the next chunk's ``h_0`` (truncated BPTT, generation), and the zeros
/ random / learned initial states of the other layers work unchanged.

Engines (``layer.engine``): ``"auto"`` = ``"scan"`` (default: gates and scan in one autograd
Function with a hand-written backward), ``"compiled"`` (the same with its pointwise parts fused
by ``torch.compile``: the fastest on CPU once compiled, ~25 s CPU to compile, opt-in),
``"linear"`` (autograd gates +
``scan_linear``), ``"chunked"`` / ``"log"`` (the paper's log-space form, chunked or naive),
``"sequential"`` (the step-by-step definition through autograd; the reference).

>>> rnn = MinGRU(8, 16, num_layers=2, batch_first=True)
>>> out, h_n = rnn(torch.randn(3, 5, 8), lengths=torch.tensor([5, 2, 4]))
>>> y, h = rnn.step(torch.randn(3, 8))           # one step, O(1) state
"""

from __future__ import annotations

import math
import warnings

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.autograd.function import once_differentiable

from rnnlab.core import scan
from rnnlab.core.layers import Recurrent
from rnnlab.core.scan import adjoint_scan, g, lerp_scan_, log_g

CHUNKS = {"mingru": 2, "minlstm": 3}


# ---- cell math (written once) ------------------------------------------------------------
# Each cell is ``h_t = a_t ⊙ h_{t-1} + (1 - a_t) ⊙ h̃_t``: the gate functions return the
# forget coefficient ``a`` (1 - z, resp. f') and the candidate ``h̃``; the training scan, the
# step mode and the trace all use them. The ``*_grad`` functions are the hand-derived backward
# of gates + mix: given the total dL/dh_t (``dH``), dL/dk for all steps at once.


def mingru_gates(k: Tensor) -> tuple[Tensor, Tensor]:
    """``k`` (..., 2H) → ``(a, h̃)`` = (1 - z, g(k_h)) with z = σ(k_z)."""
    H = k.shape[-1] // 2
    return torch.sigmoid(-k[..., :H]), g(k[..., H:])


def minlstm_gates(k: Tensor) -> tuple[Tensor, Tensor]:
    """``k`` (..., 3H) → ``(a, h̃)`` = (f', g(k_h)), f' = f / (f + i) = σ(log σ(k_f) - log σ(k_i))
    (no 0/0 when both gates underflow); i' = 1 - f'."""
    H = k.shape[-1] // 3
    a = torch.sigmoid(F.logsigmoid(k[..., :H]) - F.logsigmoid(k[..., H : 2 * H]))
    return a, g(k[..., 2 * H :])


def _dk_candidate(kh: Tensor, c: Tensor, w: Tensor, dH: Tensor) -> Tensor:
    # dL/dk_h = dH w g'(k_h), g' = 1 for k_h >= 0 else σ'(k_h) = h̃ (1 - h̃)
    return dH * w * torch.where(kh >= 0, 1.0, c * (1 - c))


def mingru_grad(k: Tensor, a: Tensor, c: Tensor, h_prev: Tensor, dH: Tensor) -> Tensor:
    """dL/dk for minGRU: dz = dH (h̃ - h_prev), dk_z = dz z (1 - z), dk_h = dH z g'(k_h)."""
    H = a.shape[-1]
    z = 1 - a
    dkz = dH * (c - h_prev) * z * a
    return torch.cat([dkz, _dk_candidate(k[..., H:], c, z, dH)], -1)


def minlstm_grad(k: Tensor, a: Tensor, c: Tensor, h_prev: Tensor, dH: Tensor) -> Tensor:
    """dL/dk for minLSTM: with i' = σ(d), d = log σ(k_i) - log σ(k_f):
    dd = dH (h̃ - h_prev) i' f', dk_f = -dd σ(-k_f), dk_i = dd σ(-k_i)."""
    H = a.shape[-1]
    w = 1 - a
    dd = dH * (c - h_prev) * w * a
    dkf = -dd * torch.sigmoid(-k[..., :H])
    dki = dd * torch.sigmoid(-k[..., H : 2 * H])
    return torch.cat([dkf, dki, _dk_candidate(k[..., 2 * H :], c, w, dH)], -1)


def mingru_log_coeffs(k: Tensor) -> tuple[Tensor, Tensor]:
    """The paper's log-space coefficients: ``log a = log(1 - z) = -softplus(k_z)``,
    ``log b = log z + log h̃ = -softplus(-k_z) + log_g(k_h)``."""
    H = k.shape[-1] // 2
    kz = k[..., :H]
    return -F.softplus(kz), -F.softplus(-kz) + log_g(k[..., H:])


def minlstm_log_coeffs(k: Tensor) -> tuple[Tensor, Tensor]:
    """``d = softplus(-k_f) - softplus(-k_i)`` (= log i - log f), ``log f' = -softplus(d)``,
    ``log i' = -softplus(-d)``, ``log b = log i' + log_g(k_h)``."""
    H = k.shape[-1] // 3
    d = F.softplus(-k[..., :H]) - F.softplus(-k[..., H : 2 * H])
    return -F.softplus(d), -F.softplus(-d) + log_g(k[..., 2 * H :])


GATES = {"mingru": mingru_gates, "minlstm": minlstm_gates}
GRADS = {"mingru": mingru_grad, "minlstm": minlstm_grad}
LOG_COEFFS = {"mingru": mingru_log_coeffs, "minlstm": minlstm_log_coeffs}


def named_gates(cell: str, a: Tensor) -> dict[str, Tensor]:
    """What a trace shows: minGRU ``z``; minLSTM the normalised ``f`` (= f') and ``i`` (= i')."""
    return {"z": 1 - a} if cell == "mingru" else {"f": a, "i": 1 - a}


# ---- pointwise kernels: eager, or fused by torch.compile (engine="compiled") -------------------
# Eager, the gate math and its backward are ~15 separate passes over (T, B, H) tensors, which
# cost about as much as the input GEMMs on a CPU; inductor fuses each into one loop (numbers in
# benchmarks/RESULTS.md). Compiling costs ~25 s of CPU once per process (less with inductor's
# disk cache), which would stall tests, demos and web requests, so it is opt-in. A compile
# failure (no C++ compiler, ...) falls back to eager with one warning.

_compiled: dict = {}
_compile_ok = True


def _pointwise(fn, *args: Tensor, compiled: bool = False):
    global _compile_ok
    if not (compiled and _compile_ok and args[0].device.type == "cpu"):
        return fn(*args)
    try:
        if fn not in _compiled:
            _compiled[fn] = torch.compile(fn, dynamic=True)
        return _compiled[fn](*args)
    except Exception as e:  # inductor needs a working C++ toolchain: degrade, don't die
        _compile_ok = False
        warnings.warn(
            f"rnnlab: torch.compile unavailable ({type(e).__name__}: {e}); "
            "minGRU/minLSTM use eager kernels",
            stacklevel=2,
        )
        return fn(*args)


# ---- the fused scan: gates + scan forward, hand-written backward ------------------------------


class MinScan(torch.autograd.Function):
    """``h = MinScan.apply(cell, k, h0, rec, compiled)``: k (T, B, G·H) time-major
    pre-activations, h0 (B, H) → h (T, B, H). Forward: gates (one pointwise kernel), then
    ``lerp_scan_``. Backward: the total dL/dh_t by ``adjoint_scan`` (handed to ``rec.grad_h``
    for traces), then dL/dk in one pointwise kernel; the weight and input gradients are the
    input GEMM's (autograd ``addmm``)."""

    @staticmethod
    def forward(ctx, cell: str, k: Tensor, h0: Tensor, rec, compiled: bool):
        a, c = _pointwise(GATES[cell], k, compiled=compiled)
        hs = lerp_scan_(a, c, h0)
        if rec is not None:
            rec.gates = named_gates(cell, a)
        ctx.cell, ctx.rec, ctx.compiled = cell, rec, compiled
        ctx.save_for_backward(k, a, c, hs)
        return hs[1:]

    @staticmethod
    @once_differentiable
    def backward(ctx, d_out: Tensor):
        k, a, c, hs = ctx.saved_tensors
        dH = adjoint_scan(a, d_out.contiguous())
        if ctx.rec is not None:
            ctx.rec.grad_h = dH
        dk = _pointwise(GRADS[ctx.cell], k, a, c, hs[:-1], dH, compiled=ctx.compiled)
        return None, dk, a[0] * dH[0], None, None


# ---- layers ----------------------------------------------------------------------------------


class _MinRecurrent(Recurrent, nn.Module):
    """Shared by ``MinGRU`` / ``MinLSTM``: parameters, engines, step mode (stacking,
    directions, lengths, initial states and traces come from ``Recurrent``)."""

    cell: str
    default_engine = "auto"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        init: str = "zeros",
        init_std: float = 0.1,
        engine: str = "auto",
        device=None,
        dtype=None,
    ) -> None:
        nn.Module.__init__(self)
        for name, v in (
            ("input_size", input_size),
            ("hidden_size", hidden_size),
            ("num_layers", num_layers),
        ):
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        if dropout and num_layers == 1:
            warnings.warn(
                "dropout acts between layers: with num_layers=1 it does nothing", stacklevel=2
            )
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.bidirectional = bias, batch_first, bidirectional
        self.dropout, self.proj_size = float(dropout), 0
        G = CHUNKS[self.cell] * hidden_size
        kw = dict(device=device, dtype=dtype)
        for k in range(num_layers):
            in_k = input_size if k == 0 else hidden_size * self.num_directions
            for sfx in self._suffixes():
                self.register_parameter(
                    f"weight_ih_l{k}{sfx}", nn.Parameter(torch.empty(G, in_k, **kw))
                )
                if bias:
                    self.register_parameter(
                        f"bias_ih_l{k}{sfx}", nn.Parameter(torch.empty(G, **kw))
                    )
        self.reset_parameters()
        self._setup(init, init_std, engine)

    def reset_parameters(self) -> None:
        """U(-1/√fan_in, 1/√fan_in) per layer, like the ``nn.Linear`` of the paper's code
        (initial-state parameters stay 0).

        Not torch.nn's recurrent U(-1/√H, 1/√H): here every weight reads the layer's input
        only, and with few input features (MNIST-1D has one) 1/√H makes every gate and
        candidate nearly constant at the start, so a one-layer minGRU never left chance level
        (8.8% on MNIST-1D in 1,500 steps, against 1/√fan_in: see benchmarks/RESULTS.md).
        """
        for name, p in self.named_parameters():
            if name.startswith("init_"):
                continue
            layer = int(name.split("_l")[1].split("_")[0])
            fan_in = self.input_size if layer == 0 else self.hidden_size * self.num_directions
            s = 1.0 / math.sqrt(fan_in)
            nn.init.uniform_(p, -s, s)

    def flatten_parameters(self) -> None:
        """No-op (kept for code written for torch.nn's cuDNN layers)."""

    def _engines(self) -> tuple[str, ...]:
        return ("auto", "scan", "compiled", "linear", "chunked", "log", "sequential")

    def _state_sizes(self) -> tuple[int, int]:
        return self.hidden_size, 0

    def _weights(self, layer: int, rev: bool) -> tuple[Tensor, Tensor | None]:
        sfx = f"_l{layer}" + ("_reverse" if rev else "")
        return getattr(self, "weight_ih" + sfx), getattr(self, "bias_ih" + sfx, None)

    def _run_direction(self, layer: int, rev: bool, x: Tensor, h0: Tensor, c0, rec):
        T, B, _ = x.shape
        w_ih, b_ih = self._weights(layer, rev)
        flat = x.reshape(T * B, -1)
        k = (torch.addmm(b_ih, flat, w_ih.t()) if b_ih is not None else flat @ w_ih.t()).view(
            T, B, -1
        )
        h0 = h0.to(k.dtype)
        engine = self.engine
        if engine in ("auto", "scan", "compiled") or rec is not None:  # traces need MinScan
            return MinScan.apply(self.cell, k, h0, rec, engine == "compiled"), None
        if engine in ("log", "chunked"):
            log_a, log_b = LOG_COEFFS[self.cell](k)
            if engine == "log":
                return scan.scan_log(log_a, log_b, h0), None
            return scan.scan_chunked(log_a, log_b, h0), None
        a, c = GATES[self.cell](k)
        solve = scan.scan_linear if engine == "linear" else scan.scan_sequential
        return solve(a, (1 - a) * c, h0), None

    @torch.no_grad()
    def step(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """One time step through every layer, O(1) state: for generation and live views.

        ``input`` (B, I) or unbatched (I,); ``hx`` (num_layers, B, H) or (num_layers, H)
        (default: the layer's initial state). Returns ``(y, h)`` with ``y`` (B, H) the top
        layer's new state and ``h`` (num_layers, B, H). Feeding a sequence step by step gives
        ``forward``'s outputs (to float rounding). Unidirectional layers only.

        >>> m = MinLSTM(4, 8, num_layers=2)
        >>> y, h = m.step(torch.randn(3, 4))
        >>> y, h = m.step(torch.randn(3, 4), h)
        """
        if self.bidirectional:
            raise ValueError(
                "step() needs a unidirectional layer: the reverse direction starts at the "
                "end of the sequence, so use forward() on the whole sequence instead"
            )
        batched = input.dim() == 2
        if input.dim() not in (1, 2) or input.shape[-1] != self.input_size:
            raise ValueError(
                f"{type(self).__name__}.step expects input (B, {self.input_size}) or "
                f"({self.input_size},), got shape {tuple(input.shape)}"
            )
        x = input if batched else input.unsqueeze(0)
        if hx is None:
            h0, _ = self._initial_state(x.shape[0], x)
        else:
            h0 = hx if batched else hx.unsqueeze(1)
            want = (self.num_layers, x.shape[0], self.hidden_size)
            if tuple(h0.shape) != want:
                raise ValueError(f"hx must have shape {want}, got {tuple(h0.shape)}")
        states = []
        for layer in range(self.num_layers):
            w_ih, b_ih = self._weights(layer, False)
            a, c = GATES[self.cell](F.linear(x, w_ih, b_ih))
            x = torch.lerp(c, h0[layer], a)  # a h + (1 - a) h̃, as in the scan
            states.append(x)
        h = torch.stack(states)
        return (x, h) if batched else (x.squeeze(0), h.squeeze(1))

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        for name, default in (
            ("bias", True),
            ("batch_first", False),
            ("dropout", 0.0),
            ("bidirectional", False),
        ):
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        if self.init != "zeros":
            s += f", init={self.init!r}"
        return s


class MinGRU(_MinRecurrent):
    """minGRU: ``h_t = (1 - z_t) h_{t-1} + z_t g(W_h x_t + b_h)``, ``z_t = σ(W_z x_t + b_z)``.

    Same constructor and forward contract as ``rnnlab.GRU`` (``lengths=``, ``init=``, ``trace``
    with gate ``z``); parameters ``weight_ih_l{k}[_reverse]`` (2H × I, blocks z, h) and
    ``bias_ih_l{k}[_reverse]``. No recurrent weights: training is one GEMM plus a scan.

    >>> out, h_n = MinGRU(4, 8, batch_first=True)(torch.randn(2, 5, 4))
    """

    cell = "mingru"


class MinLSTM(_MinRecurrent):
    """minLSTM: ``h_t = f'_t h_{t-1} + i'_t g(W_h x_t + b_h)`` with the normalised gates
    ``f' = f / (f + i)``, ``i' = i / (f + i)``, ``f = σ(W_f x + b_f)``, ``i = σ(W_i x + b_i)``.

    Parameters ``weight_ih_l{k}[_reverse]`` (3H × I, blocks f, i, h); the state is a single
    tensor (no cell state); trace gates ``f``, ``i`` are the normalised f', i'.

    >>> out, h_n = MinLSTM(4, 8, batch_first=True)(torch.randn(2, 5, 4))
    """

    cell = "minlstm"


__all__ = ["MinGRU", "MinLSTM", "MinScan", "mingru_gates", "minlstm_gates"]
