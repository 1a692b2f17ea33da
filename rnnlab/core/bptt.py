"""Explicit forward and back-propagation through time for one layer and one direction.

``ExplicitBPTT`` is a ``torch.autograd.Function`` whose backward is written out:

* forward: the input projection of all T steps is one GEMM; the step loop (``cells.*_step``)
  writes straight into preallocated time-major buffers, which are what the backward needs;
* backward: the gradient-independent part of each step's Jacobian is computed for all steps
  at once (``cells.*_coeffs``); the loop itself is a few elementwise ops and one matmul
  ``dh_{t-1} = dgates_t W_hh`` per step; the weight gradients and the input gradient are then
  single large GEMMs over all steps (torch.nn's CPU backward does them step by step);
* the total gradient dL/dh_t at every step falls out of the loop and is handed to an optional
  ``Recorder`` (the vanishing-gradient views), at no extra pass; for an LSTM so does the
  total dL/dc_t of the cell state.

Tensors are time-major: x (T, B, I), output (T, B, P) with P = proj_size or H. An optional
``hmask`` (B, P) is recurrent dropout (``rnnlab.core.options``): the state enters ``W_hh`` as
``h_{t-1} ⊙ hmask`` at every step, so the backward masks what flows back through ``W_hh``.
Optional zoneout masks ``zh`` (T, B, P) and ``zc`` (T, B, H, LSTM) mix each step's new state
h̃_t (c̃_t) with the previous one, ``h_t = zh_t ⊙ h_{t-1} + (1 - zh_t) ⊙ h̃_t``; the backward
sends ``zh_t ⊙ dL/dh_t`` straight to h_{t-1} and ``(1 - zh_t) ⊙ dL/dh_t`` through the cell.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from rnnlab.core import _malloc, cells, kernels

_malloc.tune()
_pool = threading.local()


def _workspace(tag: str, shape: tuple[int, ...], like: Tensor) -> Tensor:
    """A reusable scratch tensor for backward-only temporaries. Big fresh allocations come
    from new ``mmap`` pages whose first-touch page faults cost more than the arithmetic in
    the per-step loop; reusing the same memory across calls avoids them."""
    cache = _pool.__dict__.setdefault("bufs", {})
    key = (tag, like.dtype, like.device)
    t = cache.get(key)
    if t is None or t.numel() < math.prod(shape):
        t = like.new_empty(math.prod(shape))
        cache[key] = t
    return t[: math.prod(shape)].view(shape)


@dataclass
class Recorder:
    """Collects what a trace shows for one layer and direction (time-major, processing order)."""

    gates: dict[str, Tensor] = field(default_factory=dict)
    cell: Tensor | None = None
    grad_h: Tensor | None = None
    grad_c: Tensor | None = None  # LSTM: total dL/dc_t (the cell state), like grad_h
    hidden: Tensor | None = None
    reverse: bool = False
    probe: Tensor | None = (
        None  # engines that get dL/dh_t from autograd add this zero tensor to h_t
    )


def _input_projection(cell: str, x: Tensor, w_ih: Tensor, b_ih: Tensor | None, b_hh: Tensor | None):
    """gi for all steps (one GEMM), with the parts of b_hh that can be folded in; returns the
    bias the step still has to add to h W_hh^T (only GRU's n-block)."""
    T, B, _ = x.shape
    bias, step_bias = b_ih, None
    if b_hh is not None:
        if cell == "gru":
            H = b_hh.shape[0] // 3
            bias = b_ih + torch.cat([b_hh[: 2 * H], torch.zeros_like(b_hh[2 * H :])])
            step_bias = torch.cat([torch.zeros_like(b_hh[: 2 * H]), b_hh[2 * H :]])
        else:
            bias = b_ih + b_hh
    flat = x.reshape(T * B, -1)
    gi = torch.addmm(bias, flat, w_ih.t()) if bias is not None else flat @ w_ih.t()
    return gi.view(T, B, -1), step_bias


class ExplicitBPTT(torch.autograd.Function):
    """``out, c_all = ExplicitBPTT.apply(cell, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, rec,
    hmask, zh, zc)`` (the masks are not differentiated: they are fixed)."""

    @staticmethod
    def forward(
        ctx, cell, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, rec, hmask=None, zh=None, zc=None
    ):
        T, B, _ = x.shape
        G = w_hh.shape[0]
        H = G // cells.CHUNKS[cell]
        gi, step_bias = _input_projection(cell, x, w_ih, b_ih, b_hh)
        new = lambda *s: x.new_empty(T, B, *s)  # noqa: E731
        hs = x.new_empty(T + 1, B, h0.shape[-1])  # hs[0] = h0, hs[1:] = outputs: h_prev is hs[:-1]
        hs[0] = h0
        out = hs[1:]
        buf = {"h": out}
        if cell == "gru":
            buf.update(gh=new(G), rz=new(2 * H), n=new(H))
        elif cell == "lstm":
            cs = x.new_empty(T + 1, B, H)  # cs[0] = c0, like hs
            cs[0] = c0
            buf.update(act=new(G), c=cs[1:])
            buf["h_raw"] = new(H) if w_hr is not None or zh is not None else out
        if zh is not None:  # the cell writes h̃ (c̃) to its own buffers, the zoned state goes on
            if cell == "lstm":
                buf["c"] = buf["c_new"] = new(H)
            else:
                buf["h"] = buf["h_new"] = new(h0.shape[-1])
        kern = _kernels(x, w_hr)
        if kern is not None:  # the same loop in C++, into the same buffers
            kern.forward(
                _CELL_IDS[cell], gi, hs, w_hh, step_bias, _contig(hmask), buf.get("gh"),
                buf.get("rz"), buf.get("n"), buf.get("act"), cs if cell == "lstm" else None,
                *_zone_args(zh, zc, buf),
            )  # fmt: skip
        step = cells.STEPS[cell]
        h, c = h0, c0
        for t in range(T if kern is None else 0):
            hw = h if hmask is None else h * hmask
            h_new, c_new = step(gi[t], h, c, w_hh, step_bias, {k: v[t] for k, v in buf.items()}, hw)
            if w_hr is not None:
                h_new = torch.mm(h_new, w_hr.t(), out=out[t])
            if zh is None:
                h, c = h_new, c_new
            else:  # h_t = h̃ + zh ⊙ (h_{t-1} - h̃)
                h = torch.addcmul(h_new, zh[t], h - h_new, out=out[t])
                if c is not None:
                    c = torch.addcmul(c_new, zc[t], c - c_new, out=cs[t + 1])
        if rec is not None:
            rec.gates = cells.named_gates(cell, buf)
            rec.cell = cs[1:] if cell == "lstm" else None
        ctx.cell, ctx.rec, ctx.has_bias = cell, rec, b_ih is not None
        # the backward takes the loop the forward took (the kernels may finish building between)
        ctx.fused = kern is not None
        ctx.names = sorted(k for k in buf if k not in ("h", "c"))
        if cell != "lstm":
            cs = None
        saved = [buf[k] for k in ctx.names]
        ctx.save_for_backward(x, c0, w_ih, w_hh, w_hr, hs, cs, hmask, zh, zc, *saved)
        c_all = cs[1:] if cell == "lstm" else x.new_empty(0)
        return out, c_all

    @staticmethod
    @once_differentiable
    def backward(ctx, d_out, d_call):
        x, c0, w_ih, w_hh, w_hr, hs, cs, hmask, zh, zc, *sv = ctx.saved_tensors
        s = dict(zip(ctx.names, sv))
        cell = ctx.cell
        T, B, _ = x.shape
        G = w_hh.shape[0]
        out, h_prev, h0 = hs[1:], hs[:-1], hs[0]
        # total dL/dh_t (kept when a trace records it) and dL/d(gate pre-activations)
        dH = torch.empty_like(out) if ctx.rec is not None else _workspace("dH", out.shape, out)
        dG = _workspace("dG", (T, B, G), x)
        dh = torch.zeros_like(h0)
        dc0 = None
        kern = _kernels(x, w_hr) if ctx.fused else None
        if kern is not None:
            dGI = _workspace("dGI", (T, B, G), x) if cell == "gru" else dG
            has_dc = cell == "lstm" and d_call is not None and d_call.numel()
            dC = torch.empty_like(out) if cell == "lstm" and ctx.rec is not None else None
            dh, *rest = kern.backward(
                _CELL_IDS[cell], w_hh, d_out.contiguous(), hs, _contig(hmask), dH, dG,
                dGI if cell == "gru" else None, s.get("rz"), s.get("n"), s.get("gh"),
                s.get("act"), cs, d_call.contiguous() if has_dc else None, dC,
                *_zone_args(zh, zc, s),
            )  # fmt: skip
            dc0 = rest[0] if rest else None
            if dC is not None:
                ctx.rec.grad_c = dC
        elif cell in ("rnn_tanh", "rnn_relu"):
            D = getattr(cells, f"{cell}_coeffs")(out if zh is None else s["h_new"])
            if zh is not None:  # the cell sees (1 - zh) dL/dh_t
                D = D * (1 - zh)
            for t in range(T - 1, -1, -1):
                dh = torch.add(dh, d_out[t], out=dH[t])
                torch.mul(dh, D[t], out=dG[t])
                dh = _zoned(_masked(dG[t] @ w_hh, hmask), dh, zh, t)
            dGI = dG
        elif cell == "gru":
            M, A = cells.gru_coeffs(h_prev, s["rz"], s["n"], s["gh"], _workspace("M", (T, B, G), x))
            H = G // 3
            z = s["rz"][..., H:]
            if zh is not None:
                # dh_{t-1} = zh dh + (1 - zh)(z dh + ...), and the gates see (1 - zh) dh
                M.view(T, B, 3, H).mul_((1 - zh).unsqueeze(2))
                z = torch.addcmul(zh, z, 1 - zh)
                A = A * (1 - zh)
            for t in range(T - 1, -1, -1):
                dh = torch.add(dh, d_out[t], out=dH[t])
                torch.mul(M[t].view(B, 3, H), dh.unsqueeze(1), out=dG[t].view(B, 3, H))
                if hmask is None:
                    dh = torch.addmm(dh * z[t], dG[t], w_hh)
                else:  # z ⊙ h_{t-1} sees the unmasked state, W_hh the masked one
                    dh = torch.addcmul(dh * z[t], dG[t] @ w_hh, hmask)
            dGI = _workspace("dGI", (T, B, G), x)
            dGI[..., : 2 * H] = dG[..., : 2 * H]
            torch.mul(dH, A, out=dGI[..., 2 * H :])
        else:  # lstm
            H = G // 4
            K, Kc, Ko = cells.lstm_coeffs(
                cs[:-1],
                cs[1:] if zh is None else s["c_new"],
                s["act"],
                _workspace("K", (T, B, 3 * H), x),
            )
            f = s["act"][..., H : 2 * H]
            dc = torch.zeros_like(c0)
            dC = torch.empty_like(cs[1:]) if ctx.rec is not None else None
            if d_call is not None and d_call.numel():
                dc_ext = d_call
            else:
                dc_ext = None
            for t in range(T - 1, -1, -1):
                dh = torch.add(dh, d_out[t], out=dH[t])
                dhr = dh @ w_hr if w_hr is not None else dh
                if zh is not None:
                    dc = _lstm_zoneout_step(dG[t], dh, dc, dc_ext, dC, K, Kc, Ko, f, zh, zc, t)
                    dh = _zoned(_masked(dG[t] @ w_hh, hmask), dh, zh, t)
                    continue
                dc = torch.addcmul(dc, dhr, Kc[t])
                if dc_ext is not None:
                    dc = dc + dc_ext[t]
                if dC is not None:  # dc is now the total dL/dc_t, through every later step
                    dC[t] = dc
                torch.mul(K[t].view(B, 3, H), dc.unsqueeze(1), out=dG[t, :, : 3 * H].view(B, 3, H))
                torch.mul(dhr, Ko[t], out=dG[t, :, 3 * H :])
                dc = dc * f[t]
                dh = _masked(dG[t] @ w_hh, hmask)
            dGI = dG
            dc0 = dc
            if dC is not None:
                ctx.rec.grad_c = dC
        if ctx.rec is not None:
            ctx.rec.grad_h = dH
        # every weight gradient is one GEMM over all steps
        flat = lambda a: a.reshape(T * B, -1)  # noqa: E731
        dx = (flat(dGI) @ w_ih).view_as(x) if ctx.needs_input_grad[1] else None
        dw_ih = flat(dGI).t() @ flat(x)
        dw_hh = flat(dG).t() @ flat(_masked(h_prev, hmask))
        db_ih = dGI.sum((0, 1)) if ctx.has_bias else None
        db_hh = dG.sum((0, 1)) if ctx.has_bias else None
        dw_hr = flat(dH).t() @ flat(s["h_raw"]) if w_hr is not None else None
        return None, dx, dh, dc0, dw_ih, dw_hh, db_ih, db_hh, dw_hr, None, None, None, None


_CELL_IDS = {"rnn_tanh": 0, "rnn_relu": 1, "gru": 2, "lstm": 3}


def _kernels(x: Tensor, w_hr: Tensor | None):
    """The fused C++ loops when they cover this call (CPU, float/double, no projection),
    else None: the Python loop runs."""
    if x.device.type != "cpu" or x.dtype not in (torch.float32, torch.float64):
        return None
    return kernels.get() if w_hr is None else None


def _zone_args(zh: Tensor | None, zc: Tensor | None, buf: dict) -> tuple:
    """The kernels' zoneout arguments: the masks (contiguous: eval's are expanded views) and
    the buffers of the cell's own new state h̃ (LSTM: h_raw) and c̃."""
    if zh is None:
        return None, None, None, None
    return zh.contiguous(), _contig(zc), buf.get("h_new", buf.get("h_raw")), buf.get("c_new")


def _contig(t: Tensor | None) -> Tensor | None:
    return None if t is None else t.contiguous()


def _masked(t: Tensor, hmask: Tensor | None) -> Tensor:
    return t if hmask is None else t * hmask


def _zoned(d_cell: Tensor, dh: Tensor, zh: Tensor | None, t: int) -> Tensor:
    """dL/dh_{t-1}: what came back through the cell plus, under zoneout, zh_t ⊙ dL/dh_t."""
    return d_cell if zh is None else torch.addcmul(d_cell, dh, zh[t])


def _lstm_zoneout_step(dg, dh, dc, dc_ext, dC, K, Kc, Ko, f, zh, zc, t):
    """One LSTM backward step under zoneout (no projection): fills the gate gradients ``dg``
    and returns dL/dc_{t-1}. dc arrives as dL/dc_t of the zoned state (what a trace's
    ``grad_c`` shows: h_t reads c̃_t, not c_t); c̃_t gets ``(1 - zc) dc`` plus the h̃ path
    ``(1 - zh) dh ⊙ Kc``; c_{t-1} gets ``zc dc + f ⊙ dL/dc̃_t``."""
    B, H = dc.shape
    if dc_ext is not None:
        dc = dc + dc_ext[t]
    if dC is not None:  # the total dL/dc_t of the state carried to the next step
        dC[t] = dc
    dht = dh * (1 - zh[t])
    dct = torch.addcmul(dc * (1 - zc[t]), dht, Kc[t])
    torch.mul(K[t].view(B, 3, H), dct.unsqueeze(1), out=dg[:, : 3 * H].view(B, 3, H))
    torch.mul(dht, Ko[t], out=dg[:, 3 * H :])
    return torch.addcmul(dc * zc[t], dct, f[t])
