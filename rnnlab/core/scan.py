"""Solvers for the linear recurrence ``h_t = a_t ⊙ h_{t-1} + b_t`` (time-major: dim 0 is time).

minGRU and minLSTM (Feng et al. 2024, arXiv 2410.01201) are exactly this recurrence with
``a_t, b_t`` depending on the input only, so the whole sequence can be solved at once.
Four solvers of the same thing, each checked against the others in tests/core/test_scan.py:

* ``scan_sequential(a, b, h0)``: the definition, one step at a time through autograd.
  The reference.
* ``scan_log(log_a, log_b, h0)``: the paper's parallel form in log space (Heinsen 2023),
  ``a*_t = Σ_{s≤t} log a_s``, ``h_t = exp(a*_t + logcumsumexp_{s≤t}(log b_s - a*_s)) + exp(a*_t) h_0``:
  one ``cumsum`` and one ``logcumsumexp`` over the whole sequence. Needs ``b > 0``. In float32
  it loses accuracy as ``|a*_t|`` grows (long sequences, strong forgetting): ``log b - a*``
  reaches 1e4..1e5, where one float32 ulp is 1e-3..1e-2, i.e. that much *relative* error in h.
* ``scan_chunked(log_a, log_b, h0, chunk)``: the same log-space scan inside chunks of
  ``chunk`` steps (all chunks at once), then a sequential carry across chunks. ``a*`` never
  sums more than ``chunk`` steps, so the accuracy no longer depends on T.
* ``scan_linear(a, b, h0)``: a ``torch.autograd.Function`` with a hand-written backward. The
  forward is one fused ``addcmul`` per step into a preallocated buffer; the backward is the
  adjoint recurrence ``dH_t = dL/dh_t + a_{t+1} dH_{t+1}`` (another scan, run in reverse),
  then ``da_t = dH_t h_{t-1}``, ``db_t = dH_t``. Any sign of ``b``; no log/exp at all.

Which is fastest on a CPU is a memory-traffic question, not a parallelism one: every solver
reads a and b once and writes h once at best; the log forms add several transcendental
full-tensor passes (``logcumsumexp`` alone costs ~10 elementwise passes). Measured numbers are
in benchmarks/RESULTS.md (``python benchmarks/mingru.py --scan``); ``scan_linear`` wins on this
CPU at every size we tried and is what the minGRU/minLSTM layers use (via ``lerp_scan``).

>>> a, b = torch.rand(6, 2, 3), torch.randn(6, 2, 3)
>>> torch.allclose(scan_linear(a, b), scan_sequential(a, b), atol=1e-6)
True
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.autograd.function import once_differentiable


def g(x: Tensor) -> Tensor:
    """The paper's positive "activation" for candidate states: ``x + 0.5`` for x ≥ 0, else
    ``sigmoid(x)`` (continuous at 0, always > 0 so that it has a logarithm).

    >>> g(torch.tensor([-100.0, 0.0, 2.0]))
    tensor([0.0000, 0.5000, 2.5000])
    """
    return torch.where(x >= 0, x + 0.5, torch.sigmoid(x))


def log_g(x: Tensor) -> Tensor:
    """``log(g(x))`` computed without forming ``g`` (stable for very negative x)."""
    return torch.where(x >= 0, torch.log(F.relu(x) + 0.5), -F.softplus(-x))


def _h0(h0: Tensor | None, like: Tensor) -> Tensor | None:
    return None if h0 is None else h0.expand_as(like[0])


# ---- reference ------------------------------------------------------------------------


def scan_sequential(a: Tensor, b: Tensor, h0: Tensor | None = None) -> Tensor:
    """``h_t = a_t h_{t-1} + b_t`` one step at a time (autograd). ``a, b``: (T, ...);
    ``h0``: broadcastable to ``a[0]`` (default zeros). Returns h (T, ...)."""
    h = torch.zeros_like(a[0]) if h0 is None else _h0(h0, a)
    out = []
    for at, bt in zip(a.unbind(0), b.unbind(0)):  # unbind: O(T) backward (a[t] would be O(T²))
        h = at * h + bt
        out.append(h)
    return torch.stack(out)


# ---- log space (the paper's parallel form) -----------------------------------------------


def scan_log(log_a: Tensor, log_b: Tensor, h0: Tensor | None = None) -> Tensor:
    """The paper's naive parallel scan: ``h = exp(a* + logcumsumexp(log_b - a*)) + exp(a*) h0``.

    ``h0`` enters linearly (any sign: zeros, random and learned initial states all work,
    and a state returned as ``h_n`` can be fed back unchanged).

    >>> a, b = torch.rand(5, 3) + 0.01, torch.rand(5, 3) + 0.01
    >>> torch.allclose(scan_log(a.log(), b.log()), scan_sequential(a, b), atol=1e-6)
    True
    """
    a_star = torch.cumsum(log_a, 0)
    h = torch.exp(a_star + torch.logcumsumexp(log_b - a_star, 0))
    if h0 is not None:
        h = h + torch.exp(a_star) * _h0(h0, log_a)
    return h


def _log_block(log_a: Tensor, log_b: Tensor) -> tuple[Tensor, Tensor]:
    """Zero-start log-space scan along dim 1 of (n, C, ...): (local h, cumulative decay)."""
    a_star = torch.cumsum(log_a, 1)
    return torch.exp(a_star + torch.logcumsumexp(log_b - a_star, 1)), torch.exp(a_star)


def scan_chunked(log_a: Tensor, log_b: Tensor, h0: Tensor | None = None, chunk: int = 64) -> Tensor:
    """Log-space scan within chunks of ``chunk`` steps (all chunks in one batched call),
    sequential carry across chunks: ``h = local + decay ⊙ h_in(chunk)``. Accuracy does not
    degrade with T, unlike ``scan_log``.

    >>> a, b = torch.rand(10, 3) + 0.01, torch.rand(10, 3) + 0.01
    >>> torch.allclose(scan_chunked(a.log(), b.log(), chunk=4), scan_sequential(a, b), atol=1e-6)
    True
    """
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    T, rest = log_a.shape[0], log_a.shape[1:]
    n, r = divmod(T, chunk)
    blocks = []  # (local, decay) per block of chunks: the full ones, then the remainder
    if n:
        m = n * chunk
        loc, dec = _log_block(
            log_a[:m].reshape(n, chunk, *rest), log_b[:m].reshape(n, chunk, *rest)
        )
        blocks += list(zip(loc.unbind(0), dec.unbind(0)))  # unbind: cheap backward
    if r:
        loc, dec = _log_block(log_a[T - r :].unsqueeze(0), log_b[T - r :].unsqueeze(0))
        blocks.append((loc[0], dec[0]))
    outs, carry = [], _h0(h0, log_a)
    for loc, dec in blocks:  # n + 1 small steps: the only sequential part
        h = loc if carry is None else torch.addcmul(loc, dec, carry)
        outs.append(h)
        carry = h[-1]
    return torch.cat(outs, 0)


# ---- linear space with a hand-written backward -------------------------------------------


def adjoint_scan(a: Tensor, d_out: Tensor, out: Tensor | None = None) -> Tensor:
    """The backward of a linear scan: ``dH_t = d_out_t + a_{t+1} dH_{t+1}`` (a reverse scan),
    i.e. the total dL/dh_t through every later step. One fused op per step."""
    T = d_out.shape[0]
    dH = torch.empty_like(d_out) if out is None else out
    dH[T - 1] = d_out[T - 1]
    for t in range(T - 2, -1, -1):
        torch.addcmul(d_out[t], a[t + 1], dH[t + 1], out=dH[t])
    return dH


class _LinearScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a: Tensor, b: Tensor, h0: Tensor):
        T = a.shape[0]
        hs = a.new_empty(T + 1, *a.shape[1:])  # hs[0] = h0, hs[1:] = h: h_prev is hs[:-1]
        hs[0] = h0
        for t in range(T):
            torch.addcmul(b[t], a[t], hs[t], out=hs[t + 1])
        ctx.save_for_backward(a, hs)
        return hs[1:]

    @staticmethod
    @once_differentiable
    def backward(ctx, d_out: Tensor):
        a, hs = ctx.saved_tensors
        dH = adjoint_scan(a, d_out.contiguous())
        return dH * hs[:-1], dH, a[0] * dH[0]


def scan_linear(a: Tensor, b: Tensor, h0: Tensor | None = None) -> Tensor:
    """``h_t = a_t h_{t-1} + b_t`` with a hand-written backward (see the module docstring).

    >>> a, b = torch.rand(4, 2), torch.randn(4, 2)
    >>> scan_linear(a, b).shape
    torch.Size([4, 2])
    """
    h0 = torch.zeros_like(a[0]) if h0 is None else _h0(h0, a)
    return _LinearScan.apply(a, b, h0)


def lerp_scan_(a: Tensor, c: Tensor, h0: Tensor) -> Tensor:
    """Forward kernel of the min-RNN layers: ``h_t = a_t ⊙ h_{t-1} + (1 - a_t) ⊙ c_t`` (a convex
    mix of the old state and a candidate), one fused ``lerp(c_t, h_{t-1}, a_t)`` per step
    without forming ``b``. Returns ``hs`` (T+1, ...) with ``hs[0] = h0`` (the backward needs
    ``h_{t-1}`` = ``hs[:-1]``)."""
    T = a.shape[0]
    hs = a.new_empty(T + 1, *a.shape[1:])
    hs[0] = h0
    for t in range(T):
        torch.lerp(c[t], hs[t], a[t], out=hs[t + 1])
    return hs


SOLVERS = ("linear", "chunked", "log", "sequential")
